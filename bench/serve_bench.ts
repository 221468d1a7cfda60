/**
 * `strata serve` throughput and latency: requests per second of `get`,
 * `set` and `atomic` (1 check + 2 sets) through `Deno.openKv("http://…")`
 * against a `strata serve` child process, with 1 and 64 clients (64
 * concurrent promises in one client process, and 64 client processes of
 * one client each), beside the same calls with the same concurrency on
 * Strata's `openKv` in-process and on a local Deno KV file
 * (`Deno.openKv("x.sqlite")`), in the same run. p50 and p99 are each
 * call's latency. Every target runs in a process of its own; the server's
 * and the in-process stores are durable per commit.
 *
 * Usage: deno run -A bench/serve_bench.ts [--seconds 3] [--warmup 1]
 *        [--clients 64] [--no-procs] [--keys 10000] [--ops get,set,atomic]
 *        [--prof DIR]
 *
 * `--no-procs` skips the 64 client processes; `--prof DIR` runs the server
 * with `--cpu-prof` (the profile lands in DIR when it stops).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openKv } from "../mod.ts";

type Op = "get" | "set" | "atomic";
type Target = "remote" | "strata" | "denokv";

const OPS: Op[] = ["get", "set", "atomic"];
const VALUE = "v".repeat(100);
/** Latencies a runner sends back: all, or an even sample of this many. */
const SAMPLE = 20_000;

interface RunResult {
  /** Calls completed within the measured window. */
  ops: number;
  /** The window, in milliseconds. */
  ms: number;
  /** Latencies (ms) of calls in the window, or an even sample of them. */
  lat: number[];
}

// ---------------------------------------------------------------------------
// The runner: one process, one store, `concurrency` loops of one call.

async function preload(kv: Deno.Kv, keys: number): Promise<void> {
  if ((await kv.get(["k", keys - 1])).value !== null) return;
  for (let i = 0; i < keys; i += 500) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(keys, i + 500); j++) op.set(["k", j], VALUE);
    await op.commit();
  }
}

function call(kv: Deno.Kv, op: Op, keys: number): () => Promise<unknown> {
  const key = () => ["k", Math.floor(Math.random() * keys)];
  let n = 0;
  const tag = crypto.randomUUID();
  switch (op) {
    case "get":
      return () => kv.get(key());
    case "set":
      return () => kv.set(key(), VALUE);
    case "atomic":
      // The check always passes (the key is never written): every commit
      // does the same work, however many clients contend.
      return () =>
        kv.atomic().check({ key: ["absent", tag, n++], versionstamp: null })
          .set(key(), VALUE).set(key(), VALUE).commit();
  }
}

async function runner(
  target: Target,
  where: string,
  op: Op,
  concurrency: number,
  warmupMs: number,
  ms: number,
  keys: number,
): Promise<RunResult> {
  const kv: Deno.Kv = target === "strata"
    ? await openKv(where)
    : await Deno.openKv(where);
  if (target !== "remote") await preload(kv, keys);
  const once = call(kv, op, keys);
  await once(); // connected (the remote client's metadata exchange)
  console.log("ready");
  // Wait for "go" on stdin, so that many runner processes start together.
  const reader = Deno.stdin.readable.getReader();
  await reader.read();
  reader.releaseLock();
  const start = performance.now() + warmupMs;
  const end = start + ms;
  let ops = 0;
  const lat: number[] = [];
  let seen = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      await once();
      const t1 = performance.now();
      if (t0 >= start && t1 <= end) {
        ops++;
        // Reservoir sampling keeps the latencies an even sample.
        if (lat.length < SAMPLE) lat.push(t1 - t0);
        else {
          const j = Math.floor(Math.random() * (seen + 1));
          if (j < SAMPLE) lat[j] = t1 - t0;
        }
        seen++;
      }
    }
  }));
  kv.close();
  return { ops, ms, lat };
}

// ---------------------------------------------------------------------------
// The parent.

/** Runs `count` runner processes together; merges their results. */
async function runMany(
  count: number,
  args: string[],
  token: string,
): Promise<RunResult> {
  const self = new URL(import.meta.url).pathname;
  const children = Array.from({ length: count }, () => {
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-kv", self, "--runner", ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1", DENO_KV_ACCESS_TOKEN: token },
    }).spawn();
    const lines = process.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    return { process, lines };
  });
  // Each says "ready" once open and warm; then all go at once.
  const rest = await Promise.all(children.map(async ({ lines }) => {
    let text = "";
    while (!text.includes("ready\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("a runner ended before it was ready");
      text += value;
    }
    return text.slice(text.indexOf("ready\n") + 6);
  }));
  const encoder = new TextEncoder();
  await Promise.all(children.map(async ({ process }) => {
    const w = process.stdin.getWriter();
    await w.write(encoder.encode("go\n"));
    await w.close();
  }));
  const results = await Promise.all(
    children.map(async ({ process, lines }, i) => {
      let text = rest[i]!;
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        text += value;
      }
      const status = await process.status;
      if (!status.success) {
        throw new Error(`a runner exited with ${status.code}`);
      }
      return JSON.parse(text.trim().split("\n").at(-1)!) as RunResult;
    }),
  );
  return {
    ops: results.reduce((n, r) => n + r.ops, 0),
    ms: results[0]!.ms,
    lat: results.flatMap((r) => r.lat),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Row {
  op: Op;
  clients: string;
  target: string;
  rps: number;
  p50: number;
  p99: number;
}

async function startServer(dir: string, token: string, prof?: string) {
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []),
      cli,
      "serve",
      dir,
      "--port",
      "0",
      "--access-token",
      token,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = process.stderr.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  for (;;) {
    const m = /serving ".*" at (http:\/\/\S+)/.exec(text);
    if (m) {
      // Keep draining stderr so the server never blocks on it.
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })();
      return { process, url: m[1]! };
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server did not start:\n${text}`);
    text += value;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      clients: { type: "string", default: "64" },
      keys: { type: "string", default: "10000" },
      "no-procs": { type: "boolean", default: false },
      ops: { type: "string", default: OPS.join(",") },
      prof: { type: "string" },
    },
  });
  const ms = Number(values.seconds) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const many = Number(values.clients);
  const keys = Number(values.keys);
  const base = await Deno.makeTempDir({ prefix: "strata_serve_bench_" });
  const token = crypto.randomUUID();
  const serverDir = `${base}/served`;
  {
    await using kv = await openKv(serverDir);
    await preload(kv, keys);
  }
  const server = await startServer(serverDir, token, values.prof);
  const rows: Row[] = [];
  const where: Record<Target, string> = {
    remote: server.url,
    strata: `${base}/strata`,
    denokv: `${base}/x.sqlite`,
  };
  const label: Record<Target, string> = {
    remote: "Deno.openKv(url) → strata serve",
    strata: "Strata openKv, in-process",
    denokv: "Deno KV file (SQLite)",
  };
  try {
    for (const op of values.ops.split(",") as Op[]) {
      for (const clients of [1, many]) {
        const cells: [string, Target, number][] = [
          [`${clients}`, "remote", 1],
          ...(clients > 1 && !values["no-procs"]
            ? [
              [`${clients} processes`, "remote", clients] as [
                string,
                Target,
                number,
              ],
            ]
            : []),
          [`${clients}`, "strata", 1],
          [`${clients}`, "denokv", 1],
        ];
        for (const [shown, target, procs] of cells) {
          const perProcess = procs > 1 ? 1 : clients;
          const r = await runMany(procs, [
            target,
            where[target],
            op,
            String(perProcess),
            String(warmupMs),
            String(ms),
            String(keys),
          ], token);
          const sorted = r.lat.sort((a, b) => a - b);
          const row: Row = {
            op,
            clients: shown,
            target: label[target],
            rps: r.ops / (r.ms / 1000),
            p50: percentile(sorted, 0.5),
            p99: percentile(sorted, 0.99),
          };
          rows.push(row);
          console.error(
            `${op} ×${shown} ${row.target}: ${Math.round(row.rps)}/s p50 ${
              row.p50.toFixed(2)
            } ms p99 ${row.p99.toFixed(2)} ms`,
          );
        }
      }
    }
  } finally {
    server.process.kill("SIGTERM");
    await server.process.status;
    await Deno.remove(base, { recursive: true });
  }
  console.log(render(rows, many));
}

function render(rows: Row[], many: number): string {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const lines = [
    `| op | clients | target | requests/s | p50 ms | p99 ms |`,
    `| --- | --- | --- | ---: | ---: | ---: |`,
    ...rows.map((r) =>
      `| ${r.op} | ${r.clients} | ${r.target} | ${fmt(r.rps)} | ${
        r.p50.toFixed(2)
      } | ${r.p99.toFixed(2)} |`
    ),
  ];
  // The yardstick: 64 clients through the server against 64
  // concurrent writers on one local Deno KV file.
  const find = (op: Op, clients: string, target: string) =>
    rows.find((r) =>
      r.op === op && r.clients === clients && r.target.startsWith(target)
    );
  const verdicts: string[] = [];
  for (const op of ["set", "atomic"] as Op[]) {
    const file = find(op, `${many}`, "Deno KV file");
    for (const clients of [`${many}`, `${many} processes`]) {
      const served = find(op, clients, "Deno.openKv(url)");
      if (file && served) {
        verdicts.push(
          `- ${op}, ${clients} clients through the server: ${
            (served.rps / file.rps).toFixed(1)
          }× a local Deno KV file with ${many} concurrent writers (goal ≥ 5×)`,
        );
      }
    }
  }
  return [...lines, "", ...verdicts].join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--runner");
  if (i >= 0) {
    const [target, where, op, concurrency, warmup, ms, keys] = Deno.args.slice(
      i + 1,
    );
    const result = await runner(
      target as Target,
      where!,
      op as Op,
      Number(concurrency),
      Number(warmup),
      Number(ms),
      Number(keys),
    );
    console.log(JSON.stringify(result));
  } else {
    await main();
  }
}
