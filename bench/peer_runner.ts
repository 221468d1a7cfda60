/**
 * One engine of the peer benchmark, in its own process: runs the db_bench
 * workloads on that engine in a directory the driver (`bench/peers.ts`)
 * made for it, and prints one JSON object per line on stdout (results, disk
 * usage, peak RSS); progress goes to stderr.
 *
 * ```sh
 * deno run -A [--unstable-kv] bench/peer_runner.ts --engine sqlite --num 200000 --dir /tmp/x
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type EngineName, parseEngines } from "./peers/engine.ts";
import { DEFAULT_SEED, KeySpace } from "./peers/keys.ts";
import {
  parseWorkloads,
  type RunnerLine,
  WORKLOAD_NAMES,
  WorkloadRunner,
} from "./peers/workloads.ts";

/** Parsed command line of the runner. */
export interface RunnerArgs {
  engine: EngineName;
  num: number;
  dir: string;
  seed: number;
  benchmarks: string[];
}

/**
 * Parses the runner's command line.
 *
 * @param args Arguments without the program name.
 * @returns The settings.
 * @throws {Error} On a missing or bad flag.
 *
 * @example
 * ```ts
 * import { parseRunnerArgs } from "./peer_runner.ts";
 * const a = parseRunnerArgs(["--engine", "sqlite", "--num", "1000", "--dir", "/tmp/x"]);
 * if (a.num !== 1000 || a.engine !== "sqlite") throw new Error("bad");
 * ```
 */
export function parseRunnerArgs(args: string[]): RunnerArgs {
  const { values } = parseArgs({
    args,
    options: {
      engine: { type: "string" },
      num: { type: "string", default: "200000" },
      dir: { type: "string" },
      seed: { type: "string", default: String(DEFAULT_SEED) },
      benchmarks: { type: "string", default: WORKLOAD_NAMES.join(",") },
    },
    strict: true,
  });
  const engines = parseEngines(values.engine ?? "");
  if (engines.length !== 1) {
    throw new Error(
      `Expected one engine in --engine, got "${values.engine ?? ""}"`,
    );
  }
  const num = Number(values.num);
  if (!Number.isSafeInteger(num) || num < 100) {
    throw new Error(
      `Invalid --num "${values.num}": expected an integer >= 100`,
    );
  }
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`Invalid --seed "${values.seed}": expected an integer`);
  }
  if (values.dir === undefined) {
    throw new Error("Missing --dir: the runner needs an empty directory");
  }
  return {
    engine: engines[0]!,
    num,
    dir: values.dir,
    seed,
    benchmarks: parseWorkloads(values.benchmarks),
  };
}

function progress(line: RunnerLine): void {
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  let text: string;
  switch (line.kind) {
    case "result":
      text =
        `${line.workload}: ${fmt(line.rate)}/s (${
          line.microsPerOp.toFixed(2)
        } µs/op, ` +
        `${line.seconds.toFixed(2)} s)${
          line.problem ? `  PROBLEM: ${line.problem}` : ""
        }`;
      break;
    case "disk":
      text = `disk after ${line.after}: ${
        (line.bytes / 1048576).toFixed(1)
      } MiB`;
      break;
    case "rss":
      text = `peak RSS: ${(line.bytes / 1048576).toFixed(1)} MiB`;
      break;
    case "error":
      text = `${line.workload}: ERROR ${line.message}`;
      break;
    case "info":
      text = line.describe;
      break;
    case "floor":
      text = `fdatasync floor: ${fmt(line.rate)}/s (${
        line.microsPerOp.toFixed(0)
      } µs)`;
      break;
  }
  console.error(`[${line.engine}] ${text}`);
}

/**
 * Runs the workloads of one engine and prints the JSON lines.
 *
 * @param args Command-line arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let opts: RunnerArgs;
  try {
    opts = parseRunnerArgs(args);
  } catch (err) {
    console.error(
      `peer_runner: ${err instanceof Error ? err.message : String(err)}`,
    );
    return 2;
  }
  const ks = new KeySpace(opts.num, opts.seed);
  const runner = new WorkloadRunner(
    opts.engine,
    ks,
    opts.seed,
    opts.dir,
    (line) => {
      console.log(JSON.stringify(line));
      progress(line);
    },
  );
  await runner.runAll(opts.benchmarks);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
