/**
 * Everything one `bench:peers` run produced, with the lookups the markdown
 * report and the SVG chart share.
 *
 * @module
 */

import type { EngineName } from "./engine.ts";
import type { MachineInfo } from "./machine.ts";
import type { RunnerLine } from "./workloads.ts";

/** The complete outcome of a peer comparison. */
export interface PeerRun {
  /** `--num`. */
  num: number;
  /** Seed of keys, values and orders. */
  seed: number;
  /** Engines in column order. */
  engines: EngineName[];
  /** Workloads in row order. */
  workloads: string[];
  /** Where it ran. */
  machine: MachineInfo;
  /** Every line the runners printed, plus driver-made error lines. */
  lines: RunnerLine[];
  /** The command that reproduces the run. */
  command: string;
}

/** Display names of the engines. */
export const ENGINE_LABELS: Record<EngineName, string> = {
  strata: "Strata",
  sqlite: "SQLite",
  denokv: "Deno KV",
  leveldb: "LevelDB",
  lmdb: "LMDB",
};

/** Disk rows of the report: the `after` tags of disk lines, with labels. */
export const DISK_ROWS: readonly { after: string; label: string }[] = [
  { after: "fillseq", label: "disk after fillseq" },
  { after: "fillrandom+overwrite", label: "disk after fillrandom + overwrite" },
  { after: "fillrandom", label: "disk after fillrandom" },
];

/**
 * The rate an engine reached on a workload.
 *
 * @param run The run.
 * @param engine Engine.
 * @param workload Workload name.
 * @returns Operations (or entries, or seeks) per second; `undefined` when it
 * did not run or failed.
 *
 * @example
 * ```ts
 * import { rateOf, type PeerRun } from "./peer_run.ts";
 * const run = { lines: [{ kind: "result", engine: "sqlite", workload: "fillseq", rate: 5 }] } as unknown as PeerRun;
 * if (rateOf(run, "sqlite", "fillseq") !== 5) throw new Error("bad");
 * ```
 */
export function rateOf(
  run: PeerRun,
  engine: EngineName,
  workload: string,
): number | undefined {
  for (const l of run.lines) {
    if (l.kind === "result" && l.engine === engine && l.workload === workload) {
      return l.rate;
    }
  }
  return undefined;
}

/**
 * The fdatasync floor an engine's process measured just before its
 * single-writer fillsync.
 *
 * @param run The run.
 * @param engine Engine.
 * @returns Appends per second, or `undefined`.
 *
 * @example
 * ```ts
 * import { floorOf, type PeerRun } from "./peer_run.ts";
 * const run = { lines: [{ kind: "floor", engine: "sqlite", rate: 4000 }] } as unknown as PeerRun;
 * if (floorOf(run, "sqlite") !== 4000) throw new Error("bad");
 * ```
 */
export function floorOf(run: PeerRun, engine: EngineName): number | undefined {
  for (const l of run.lines) {
    if (l.kind === "floor" && l.engine === engine) return l.rate;
  }
  return undefined;
}

/**
 * Disk usage an engine reported after some fills.
 *
 * @param run The run.
 * @param engine Engine.
 * @param after The `after` tag, such as `"fillseq"`.
 * @returns Bytes, or `undefined`.
 *
 * @example
 * ```ts
 * import { diskOf, type PeerRun } from "./peer_run.ts";
 * const run = { lines: [{ kind: "disk", engine: "sqlite", after: "fillseq", bytes: 9 }] } as unknown as PeerRun;
 * if (diskOf(run, "sqlite", "fillseq") !== 9) throw new Error("bad");
 * ```
 */
export function diskOf(
  run: PeerRun,
  engine: EngineName,
  after: string,
): number | undefined {
  for (const l of run.lines) {
    if (l.kind === "disk" && l.engine === engine && l.after === after) {
      return l.bytes;
    }
  }
  return undefined;
}

/**
 * Peak RSS of an engine's process.
 *
 * @param run The run.
 * @param engine Engine.
 * @returns Bytes, or `undefined`.
 *
 * @example
 * ```ts
 * import { rssOf, type PeerRun } from "./peer_run.ts";
 * const run = { lines: [{ kind: "rss", engine: "lmdb", bytes: 7 }] } as unknown as PeerRun;
 * if (rssOf(run, "lmdb") !== 7) throw new Error("bad");
 * ```
 */
export function rssOf(run: PeerRun, engine: EngineName): number | undefined {
  for (const l of run.lines) {
    if (l.kind === "rss" && l.engine === engine) return l.bytes;
  }
  return undefined;
}

/**
 * The disk rows that have data in this run.
 *
 * @param run The run.
 * @returns Rows in report order.
 *
 * @example
 * ```ts
 * import { diskRows, type PeerRun } from "./peer_run.ts";
 * const run = { lines: [{ kind: "disk", engine: "sqlite", after: "fillseq", bytes: 9 }] } as unknown as PeerRun;
 * if (diskRows(run).length !== 1) throw new Error("bad");
 * ```
 */
export function diskRows(run: PeerRun): { after: string; label: string }[] {
  return DISK_ROWS.filter((r) =>
    run.lines.some((l) => l.kind === "disk" && l.after === r.after)
  );
}

/**
 * Formats a rate or count with thousands separators (one decimal below 100).
 *
 * @param x The number.
 * @returns Text such as `"512,345"`.
 *
 * @example
 * ```ts
 * import { formatCount } from "./peer_run.ts";
 * if (formatCount(1234567.8) !== "1,234,568") throw new Error(formatCount(1234567.8));
 * ```
 */
export function formatCount(x: number): string {
  if (x < 100) return x.toFixed(1);
  return Math.round(x).toLocaleString("en-US");
}

/**
 * Formats a rate compactly for chart labels: `"512k"`, `"1.2M"`, `"4.5k"`.
 *
 * @param x The number.
 * @returns Short text.
 *
 * @example
 * ```ts
 * import { formatShort } from "./peer_run.ts";
 * if (formatShort(1_234_000) !== "1.23M" || formatShort(4_520) !== "4.52k") throw new Error("bad");
 * ```
 */
export function formatShort(x: number): string {
  const three = (v: number) =>
    v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (x >= 1e6) return `${three(x / 1e6)}M`;
  if (x >= 1e3) return `${three(x / 1e3)}k`;
  return three(x);
}

/**
 * Formats a ratio: `"2.31×"`, `"14.2×"`, `"120×"`.
 *
 * @param x The ratio.
 * @returns Text with a multiplication sign.
 *
 * @example
 * ```ts
 * import { formatRatio } from "./peer_run.ts";
 * if (formatRatio(2.314) !== "2.31×") throw new Error("bad");
 * ```
 */
export function formatRatio(x: number): string {
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/**
 * Formats bytes as MiB with one decimal.
 *
 * @param bytes Byte count.
 * @returns Text such as `"22.1"`.
 *
 * @example
 * ```ts
 * import { formatMiB } from "./peer_run.ts";
 * if (formatMiB(1048576 * 1.5) !== "1.5") throw new Error("bad");
 * ```
 */
export function formatMiB(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
