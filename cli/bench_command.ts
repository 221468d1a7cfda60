/**
 * `strata bench`: runs the db_bench workloads of `./bench.ts` against a
 * Strata database and prints a table of µs/op, ops/s and MB/s.
 *
 * @module
 */

import { join } from "node:path";
import {
  type BenchmarkName,
  BENCHMARKS,
  type BenchResult,
  plannedOps,
  runBenchmark,
} from "./bench.ts";
import { intOption } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { Output } from "./output.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { openStrataBenchStore } from "./strata_bench_store.ts";
import { formatCount } from "../lib/util/units.ts";
import { StrataError } from "../mod.ts";

// Left in a --db directory so a later run knows it may erase it.
const MARKER = ".strata-bench";

/**
 * Formats results as the table `strata bench` prints.
 *
 * @param results One row per workload.
 * @returns The table, header included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBenchTable } from "./bench_command.ts";
 * const table = formatBenchTable([{
 *   name: "fillseq", ops: 10, seconds: 0.001, microsPerOp: 100,
 *   opsPerSec: 10000, mbPerSec: 1.16, note: "",
 * }]);
 * assert(table.includes("fillseq") && table.includes("µs/op"));
 * ```
 */
export function formatBenchTable(results: BenchResult[]): string {
  const rows = [["benchmark", "ops", "µs/op", "ops/s", "MB/s", ""]];
  for (const r of results) {
    rows.push([
      r.name,
      formatCount(r.ops),
      r.microsPerOp.toFixed(3),
      formatCount(r.opsPerSec),
      r.mbPerSec.toFixed(1),
      r.note,
    ]);
  }
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((row) => row[c]!.length))
  );
  return rows.map((row) =>
    row.map((cell, c) =>
      c === 0 || c === 5 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)
    )
      .join("  ").trimEnd()
  ).join("\n");
}

function parseBenchmarks(text: string | undefined): BenchmarkName[] {
  if (text === undefined) return [...BENCHMARKS];
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) {
      throw new UsageError(
        `Unknown benchmark "${name}": expected some of ${BENCHMARKS.join(",")}`,
      );
    }
  }
  if (names.length === 0) {
    throw new UsageError(
      'Invalid value "" for --benchmarks: it names no benchmark',
    );
  }
  return names as BenchmarkName[];
}

// A --db directory is used only when bench may erase it: missing, empty,
// or marked by an earlier run.
async function claimDirectory(dir: string): Promise<void> {
  let empty = true;
  let marked = false;
  try {
    for await (const entry of Deno.readDir(dir)) {
      empty = false;
      if (entry.name === MARKER) marked = true;
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await Deno.mkdir(dir, { recursive: true });
  }
  if (!empty && !marked) {
    throw new StrataError(
      "EXISTS",
      `Cannot benchmark in "${dir}": the directory is not empty and was not made by strata bench (fill benchmarks erase it)`,
    );
  }
  await Deno.writeTextFile(
    join(dir, MARKER),
    "made by strata bench; its database may be erased\n",
  );
}

/** The `bench` command. */
export const benchCommand: Command = {
  name: "bench",
  args: "",
  arity: [0, 0],
  summary: "run the db_bench workloads and print throughput",
  description: [
    "Runs LevelDB's db_bench workloads with 16-byte keys and 100-byte values:",
    "fillseq, fillsync, fillbatch, fillrandom, overwrite, readrandom, readseq,",
    "readreverse and deleterandom, in that order (or those of --benchmarks).",
    "fill* benchmarks start from an empty database; fillsync does num/100",
    "synced puts; fillbatch writes batches of 1,000. Without --db the",
    "database lives in a temporary directory that is removed afterwards; a",
    "--db directory must be empty or made by an earlier bench, and is kept.",
  ].join("\n"),
  options: {
    num: {
      type: "string",
      value: "N",
      help: "operations per benchmark (default 100000)",
    },
    benchmarks: {
      type: "string",
      value: "LIST",
      help: "comma-separated workloads (default: all)",
    },
    db: {
      type: "string",
      value: "DIR",
      help: "run in DIR and keep the database",
    },
    "value-size": {
      type: "string",
      value: "B",
      help: "bytes per value (default 100)",
    },
    seed: { type: "string", value: "S", help: "PRNG seed (default 301)" },
    json: { type: "boolean", help: "print the results as one JSON document" },
  },
  async run(args) {
    const num = intOption(args, "num", 1) ?? 100_000;
    const valueSize = intOption(args, "value-size", 0) ?? 100;
    const seed = intOption(args, "seed", 0) ?? 301;
    const names = parseBenchmarks(args.strings.get("benchmarks"));
    const given = args.strings.get("db");
    let dir: string;
    if (given !== undefined) {
      dir = given;
      await claimDirectory(dir);
    } else {
      dir = await Deno.makeTempDir({ prefix: "strata-bench-" });
    }
    // Ctrl-C must not leave a throwaway database behind in the temp dir.
    const onInterrupt = () => {
      if (given === undefined) Deno.removeSync(dir, { recursive: true });
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", onInterrupt);
    const interactive = progressAllowed(false);
    const results: BenchResult[] = [];
    const out = new Output();
    try {
      const store = await openStrataBenchStore(dir);
      try {
        for (const name of names) {
          const bar = new ProgressBar(
            name.padEnd(12),
            plannedOps(name, num),
            "items",
            interactive,
          );
          try {
            results.push(
              await runBenchmark(
                store,
                name,
                { num, valueSize, seed },
                (done, total) => bar.update(done, total),
              ),
            );
          } finally {
            bar.finish();
          }
        }
      } finally {
        await store.close();
      }
    } finally {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      if (given === undefined) await Deno.remove(dir, { recursive: true });
    }
    if (args.flags.has("json")) {
      out.line(JSON.stringify({ num, valueSize, seed, results }, null, 2));
    } else {
      out.line(
        `Strata bench: ${
          formatCount(num)
        } ops, 16-byte keys, ${valueSize}-byte values`,
      );
      out.line(formatBenchTable(results));
    }
    out.flush();
    return 0;
  },
};
