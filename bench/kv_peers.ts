/**
 * The Deno KV API beside Deno KV (`deno task bench:peers` runs it after the
 * db_bench engines; `deno run -A bench/kv_peers.ts [--scale 2000]` alone):
 * Strata's `openKv` and `Deno.openKv` (SQLite), each in its own process,
 * same keys, same calls, durable per commit on both; and Strata with
 * `sync: false` (a write survives a crash of the process, not a power
 * loss) beside the same durable Deno KV. Writes `kv-<scale>.md` and
 * `.json` to `--out` and prints the markdown.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { KV_LABELS, KV_WORKLOADS, type KvResult } from "./kv/kv_workloads.ts";
import { KV_ENGINES } from "./kv_runner.ts";

type Line = KvResult & { engine: string };

const fmt = (n: number | undefined) =>
  n === undefined ? "" : Math.round(n).toLocaleString("en-US");
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined
    ? ""
    : `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`;

/**
 * Runs the three databases and renders the table.
 *
 * @param scale Operations of the one-writer write workloads.
 * @param base Parent of the temporary directories.
 * @returns The markdown and the raw lines.
 */
export async function runKvPeers(
  scale: number,
  base: string,
): Promise<{ markdown: string; lines: Line[] }> {
  const lines: Line[] = [];
  for (const engine of KV_ENGINES) {
    const dir = await Deno.makeTempDir({ dir: base, prefix: `kv-${engine}-` });
    try {
      const { stdout, code } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-kv",
          new URL("./kv_runner.ts", import.meta.url).pathname,
          "--engine",
          engine,
          "--scale",
          String(scale),
          "--dir",
          dir,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (code !== 0) {
        throw new Error(`kv runner ${engine} exited with ${code}`);
      }
      for (const text of new TextDecoder().decode(stdout).split("\n")) {
        if (text.startsWith("{")) lines.push(JSON.parse(text));
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  const rate = (engine: string, workload: string) =>
    lines.find((l) => l.engine === engine && l.workload === workload)?.rate;
  const rows = [
    "| workload | Strata | Deno KV | Strata ÷ Deno KV | Strata, sync: false | ÷ Deno KV |",
    "|---|--:|--:|--:|--:|--:|",
  ];
  for (const w of KV_WORKLOADS) {
    const s = rate("strata", w),
      d = rate("denokv", w),
      r = rate("strata-relaxed", w);
    rows.push(
      `| ${KV_LABELS[w]} | ${fmt(s)} | ${fmt(d)} | ${ratio(s, d)} | ${
        fmt(r)
      } | ${ratio(r, d)} |`,
    );
  }
  const floorS = rate("strata", "floor"), floorD = rate("denokv", "floor");
  rows.push(`| ↳ fdatasync floor | ${fmt(floorS)} | ${fmt(floorD)} | | | |`);
  const pct = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? "" : `${Math.round((a / b) * 100)}%`;
  rows.push(
    `| ↳ set (1 writer) ÷ floor | ${pct(rate("strata", "set"), floorS)} | ${
      pct(rate("denokv", "set"), floorD)
    } | | | |`,
  );
  const lat = (engine: string) => {
    const l = lines.find((x) => x.engine === engine && x.workload === "set");
    return l ? `p50 ${fmt(l.p50)} µs, p99 ${fmt(l.p99)} µs` : "";
  };
  const markdown = [
    `## The Deno KV API: Strata's openKv beside Deno KV`,
    "",
    `Operations per second; every write is durable per commit (fdatasync) on both, except in the \`sync: false\` column. ${scale} one-writer writes, ${
      scale * 10
    } with 64 writers; reads of the entries the writes left.`,
    "",
    ...rows,
    "",
    `Latency of one durable set (1 writer): Strata ${lat("strata")}; Deno KV ${
      lat("denokv")
    }.`,
    "",
  ].join("\n");
  return { markdown, lines };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scale: { type: "string", default: "2000" },
      out: { type: "string", default: "bench/results" },
    },
  });
  const scale = Number(values.scale);
  const base = await Deno.makeTempDir({ prefix: "strata-kv-peers-" });
  try {
    const { markdown, lines } = await runKvPeers(scale, base);
    await Deno.mkdir(values.out, { recursive: true });
    await Deno.writeTextFile(`${values.out}/kv-${scale}.md`, markdown);
    await Deno.writeTextFile(
      `${values.out}/kv-${scale}.json`,
      JSON.stringify(lines, null, 1) + "\n",
    );
    console.log(markdown);
  } finally {
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}
