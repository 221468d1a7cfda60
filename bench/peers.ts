/**
 * Peer comparison of Strata (`deno task bench:peers`): the db_bench
 * workloads on Strata, SQLite (`node:sqlite`) and Deno KV, optionally LevelDB
 * (`npm:classic-level`) and LMDB (`npm:lmdb`). Each engine runs in its own
 * process (`bench/peer_runner.ts`) in a fresh directory, with the same
 * seeded keys. Writes `peers-<N>.md` (table), `peers-<N>.svg` (chart) and
 * `peers-<N>.json` (raw lines) to `--out`, and prints the markdown. Then the
 * Deno KV API section (`bench/kv_peers.ts`): Strata's `openKv` beside Deno
 * KV, written to `kv-<scale>.md`.
 *
 * ```sh
 * deno run -A bench/peers.ts [--num 200000] [--engines strata,sqlite,denokv]
 *   [--optional] [--benchmarks fillseq,readrandom,…] [--out bench/results]
 *   [--dir /tmp] [--seed 301] [--kv-scale 2000 | --no-kv]
 * deno run -A bench/peers.ts --render bench/results/peers-200000.json
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { renderChart } from "./peers/chart.ts";
import {
  DEFAULT_ENGINES,
  type EngineName,
  OPTIONAL_ENGINES,
  parseEngines,
} from "./peers/engine.ts";
import { DEFAULT_SEED } from "./peers/keys.ts";
import { describeMachine, loadAverage } from "./peers/machine.ts";
import type { PeerRun } from "./peers/peer_run.ts";
import { renderReport } from "./peers/report.ts";
import { runKvPeers } from "./kv_peers.ts";
import {
  parseWorkloads,
  type RunnerLine,
  WORKLOAD_NAMES,
} from "./peers/workloads.ts";

/** Parsed command line of the driver. */
export interface PeersArgs {
  num: number;
  engines: EngineName[];
  benchmarks: string[];
  out: string;
  /** Parent of the per-engine temp directories; the system's when undefined. */
  dir: string | undefined;
  seed: number;
  /** The `deno task` command that reproduces these settings. */
  command: string;
  /** Re-render the report and chart of this saved `peers-<N>.json`, run nothing. */
  render: string | undefined;
  /** One-writer writes of the Deno KV API section; 0 skips it. */
  kvScale: number;
}

const DEFAULT_NUM = 200_000;
const DEFAULT_OUT = "bench/results";

/**
 * Parses the driver's command line.
 *
 * @param args Arguments without the program name.
 * @returns The settings.
 * @throws {Error} On a bad flag.
 *
 * @example
 * ```ts
 * import { parsePeersArgs } from "./peers.ts";
 * const a = parsePeersArgs(["--num", "1000", "--optional"]);
 * if (a.engines.join() !== "strata,sqlite,denokv,leveldb,lmdb") throw new Error(a.engines.join());
 * if (a.command !== "deno task bench:peers --num 1000 --optional") throw new Error(a.command);
 * ```
 */
export function parsePeersArgs(args: string[]): PeersArgs {
  const { values } = parseArgs({
    args,
    options: {
      num: { type: "string", default: String(DEFAULT_NUM) },
      engines: { type: "string", default: DEFAULT_ENGINES.join(",") },
      optional: { type: "boolean", default: false },
      benchmarks: { type: "string", default: WORKLOAD_NAMES.join(",") },
      out: { type: "string", default: DEFAULT_OUT },
      dir: { type: "string" },
      render: { type: "string" },
      seed: { type: "string", default: String(DEFAULT_SEED) },
      "kv-scale": { type: "string", default: "2000" },
      "no-kv": { type: "boolean", default: false },
    },
    strict: true,
  });
  const kvScale = values["no-kv"] ? 0 : Number(values["kv-scale"]);
  if (!Number.isSafeInteger(kvScale) || kvScale < 0) {
    throw new Error(
      `Invalid --kv-scale "${values["kv-scale"]}": expected a positive integer`,
    );
  }
  const num = Number(values.num);
  if (!Number.isSafeInteger(num) || num < 100 || num > 100_000_000) {
    throw new Error(
      `Invalid --num "${values.num}": expected an integer from 100 to 100000000`,
    );
  }
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`Invalid --seed "${values.seed}": expected an integer`);
  }
  const engines = parseEngines(values.engines);
  if (values.optional) {
    for (const e of OPTIONAL_ENGINES) {
      if (!engines.includes(e)) engines.push(e);
    }
  }
  if (engines.length === 0) {
    throw new Error("Invalid --engines: no engine given");
  }
  const benchmarks = parseWorkloads(values.benchmarks);
  if (benchmarks.length === 0) {
    throw new Error("Invalid --benchmarks: no benchmark given");
  }

  const command = ["deno task bench:peers", `--num ${num}`];
  if (values.engines !== DEFAULT_ENGINES.join(",")) {
    command.push(`--engines ${values.engines}`);
  }
  if (values.optional) command.push("--optional");
  if (benchmarks.length !== WORKLOAD_NAMES.length) {
    command.push(`--benchmarks ${benchmarks.join(",")}`);
  }
  if (seed !== DEFAULT_SEED) command.push(`--seed ${seed}`);
  return {
    num,
    engines,
    benchmarks,
    out: values.out,
    dir: values.dir,
    seed,
    command: command.join(" "),
    render: values.render,
    kvScale,
  };
}

/**
 * The `deno` arguments that run one engine's process.
 *
 * @param engine Engine.
 * @param opts Driver settings.
 * @param dir The engine's empty directory.
 * @returns Arguments for `Deno.execPath()`.
 *
 * @example
 * ```ts
 * import { parsePeersArgs, runnerArgs } from "./peers.ts";
 * const args = runnerArgs("denokv", parsePeersArgs([]), "/tmp/x");
 * if (!args.includes("--unstable-kv")) throw new Error("Deno KV needs its flag");
 * ```
 */
export function runnerArgs(
  engine: EngineName,
  opts: PeersArgs,
  dir: string,
): string[] {
  const runner = decodeURIComponent(
    new URL("./peer_runner.ts", import.meta.url).pathname,
  );
  const flags = ["run", "-A"];
  if (engine === "denokv") flags.push("--unstable-kv");
  // npm peers must not add entries to the project's lockfile on every run.
  // `--quiet` hides Deno's note that the packages' (unneeded) install
  // scripts did not run: their native addons ship prebuilt.
  if (OPTIONAL_ENGINES.includes(engine)) flags.push("--no-lock", "--quiet");
  return [
    ...flags,
    runner,
    "--engine",
    engine,
    "--num",
    String(opts.num),
    "--dir",
    dir,
    "--seed",
    String(opts.seed),
    "--benchmarks",
    opts.benchmarks.join(","),
  ];
}

async function runEngine(
  engine: EngineName,
  opts: PeersArgs,
  base: string,
): Promise<RunnerLine[]> {
  const dir = await Deno.makeTempDir({ dir: base, prefix: `${engine}-` });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: runnerArgs(engine, opts, dir),
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    });
    const { code, stdout } = await child.output();
    const lines: RunnerLine[] = [];
    for (const text of new TextDecoder().decode(stdout).split("\n")) {
      if (!text.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(text) as RunnerLine);
      } catch {
        // A torn last line of a crashed runner: the error line below covers it.
      }
    }
    if (code !== 0) {
      const done = new Set(
        lines.filter((l) => l.kind === "result" || l.kind === "error").map((
          l,
        ) => l.workload),
      );
      for (const w of opts.benchmarks) {
        if (!done.has(w)) {
          lines.push({
            kind: "error",
            engine,
            workload: w,
            message: `runner exited with code ${code}`,
          });
        }
      }
    }
    return lines;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Writes `peers-<N>.md`, `.svg` and `.json` of a run to `out`, and prints
 * the markdown.
 *
 * @param run The run.
 * @param out Output directory (created if missing).
 */
async function writeOutputs(run: PeerRun, out: string): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const stem = `${out}/peers-${run.num}`;
  const chartName = `peers-${run.num}.svg`;
  const report = renderReport(run, chartName);
  await Deno.writeTextFile(`${stem}.md`, report);
  await Deno.writeTextFile(`${out}/${chartName}`, renderChart(run));
  await Deno.writeTextFile(`${stem}.json`, JSON.stringify(run, null, 1) + "\n");
  console.log(report);
  console.error(`bench:peers: wrote ${stem}.md, ${stem}.svg and ${stem}.json`);
}

/**
 * Runs the comparison (or, with `--render`, re-renders a saved one) and writes the report, chart and raw lines.
 *
 * @param args Command-line arguments.
 * @returns Exit code: 0, 1 when an engine failed a workload, 2 on usage errors.
 */
export async function main(args: string[]): Promise<number> {
  let opts: PeersArgs;
  try {
    opts = parsePeersArgs(args);
  } catch (err) {
    console.error(
      `bench:peers: ${err instanceof Error ? err.message : String(err)}`,
    );
    console.error(
      "usage: deno task bench:peers [--num N] [--engines strata,sqlite,denokv,leveldb,lmdb] [--optional] " +
        "[--benchmarks a,b,…] [--out DIR] [--dir TMPDIR] [--seed S] [--kv-scale N | --no-kv] | --render peers-N.json [--out DIR]",
    );
    return 2;
  }
  if (opts.render !== undefined) {
    const run = JSON.parse(await Deno.readTextFile(opts.render)) as PeerRun;
    await writeOutputs(run, opts.out);
    return 0;
  }
  const base = await Deno.makeTempDir(
    opts.dir === undefined ? { prefix: "strata-peers-" } : {
      dir: opts.dir,
      prefix: "strata-peers-",
    },
  );
  const lines: RunnerLine[] = [];
  try {
    const machine = describeMachine(base);
    console.error(
      `bench:peers: N = ${opts.num}, engines ${
        opts.engines.join(", ")
      }, in ${base}`,
    );
    for (const engine of opts.engines) {
      lines.push(...await runEngine(engine, opts, base));
    }
    const load = loadAverage();
    if (!Number.isNaN(load)) machine.load.push(load);
    const run: PeerRun = {
      num: opts.num,
      seed: opts.seed,
      engines: opts.engines,
      workloads: opts.benchmarks,
      machine,
      lines,
      command: opts.command,
    };
    await writeOutputs(run, opts.out);
    if (opts.kvScale > 0) {
      // The Deno KV API beside Deno KV, in the same run.
      const { markdown, lines: kvLines } = await runKvPeers(opts.kvScale, base);
      await Deno.writeTextFile(`${opts.out}/kv-${opts.kvScale}.md`, markdown);
      await Deno.writeTextFile(
        `${opts.out}/kv-${opts.kvScale}.json`,
        JSON.stringify(kvLines, null, 1) + "\n",
      );
      console.log(markdown);
      console.error(`bench:peers: wrote ${opts.out}/kv-${opts.kvScale}.md`);
    }
  } finally {
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
  return lines.some((l) => l.kind === "error") ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
