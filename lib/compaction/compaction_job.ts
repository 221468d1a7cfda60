/**
 * Background work as self-contained data: a compaction (which tables to
 * merge, how to write the output, what may be dropped) or a flush (a
 * memtable's image to write as one level-0 table; LevelDB calls it a
 * memtable compaction). Being plain data, a job can run on the main thread
 * or be posted to a Worker (lib/compaction_worker.ts), so that its CPU work
 * runs on another core.
 *
 * @module
 */

import { diskFs } from "../fs/disk_fs.ts";
import type { Fs } from "../fs/fs.ts";
import { BlockCache } from "../sstable/block_cache.ts";
import type { Compression } from "../sstable/sstable_writer.ts";
import { compareBytes } from "../util/bytes.ts";
import {
  type MergeResult,
  mergeToTables,
  type ValueExpiry,
} from "./compaction.ts";
import { StrataError } from "../util/errors.ts";
import type { InternalIterator } from "../iterator/internal_key.ts";
import { LevelIterator } from "../manifest/level_iterator.ts";
import { MemTable, type MemTableImage } from "../memtable/memtable.ts";
import { MergingIterator } from "../iterator/merging_iterator.ts";
import { TableCache } from "../sstable/table_cache.ts";
import { type FileMeta, findFile } from "../manifest/version.ts";
import type { RangeTombstone } from "../iterator/range_tombstones.ts";

/** Everything a compaction needs to know, as structured-cloneable data. */
export interface CompactionJob {
  /** Discriminates the job kinds. */
  kind: "compaction";
  /** Database directory. */
  dir: string;
  /** Input tables of the upper level, newest first (each may overlap). */
  inputs: FileMeta[];
  /** Input tables of the output level: disjoint, sorted by key. */
  overlaps: FileMeta[];
  /** Block size of the output tables. */
  blockSize: number;
  /** Bloom bits per key of the output tables. */
  bloomBitsPerKey: number;
  /** How the output tables store data blocks ["lz4"]. */
  compression?: Compression;
  /** Cut output files at this size. */
  targetFileSize: number;
  /** Oldest sequence number a reader may still need. */
  smallestSnapshot: number;
  /** Files of each level below the output level (for dropping tombstones). */
  deeperLevels: FileMeta[][];
  /** File numbers reserved for the outputs, used in order. */
  outputNumbers: number[];
  /** Entries that carry an expiry time, and the time to judge them at. */
  expiry?: ValueExpiry & { nowMs: number };
  /** The version's range tombstones. */
  rangeTombstones?: RangeTombstone[];
}

/** Where and how a flush writes its table. */
export interface FlushSettings {
  /** Database directory. */
  dir: string;
  /** Block size of the table. */
  blockSize: number;
  /** Bloom bits per key of the table. */
  bloomBitsPerKey: number;
  /** How the table stores data blocks ["lz4"]. */
  compression?: Compression;
  /** File number of the table. */
  outputNumber: number;
  /** The range tombstones of the version and of the memtable itself. */
  rangeTombstones?: RangeTombstone[];
}

/** A memtable to write as one level-0 table, as structured-cloneable data. */
export interface FlushJob extends FlushSettings {
  /** Discriminates the job kinds. */
  kind: "flush";
  /** The memtable's contents (its buffer is transferred to a worker). */
  image: MemTableImage;
}

/** Any job a {@link CompactionRunner} runs. */
export type BackgroundJob = CompactionJob | FlushJob;

/**
 * Runs a flush job: writes the memtable image to one synced table.
 *
 * @param job The job.
 * @param shouldAbort Asked between slices; true stops and deletes the output.
 * @param fs The filesystem (the real one by default).
 * @returns What was written (no outputs for an empty memtable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFlushJob } from "./compaction_job.ts";
 * import { MemTable } from "../memtable/memtable.ts";
 * const dir = await Deno.makeTempDir();
 * const mem = new MemTable();
 * mem.add(1, 1, new Uint8Array([7]), new Uint8Array([42]));
 * const result = await runFlushJob({
 *   kind: "flush", dir, image: mem.toImage(), blockSize: 4096, bloomBitsPerKey: 10, outputNumber: 9,
 * });
 * assert.equal(result.outputs[0]?.number, 9);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function runFlushJob(
  job: FlushJob,
  shouldAbort: () => boolean = () => false,
  fs: Fs = diskFs,
): Promise<MergeResult> {
  return flushMemTable(MemTable.fromImage(job.image), job, shouldAbort, fs);
}

/**
 * Writes a memtable to one synced table (what {@link runFlushJob} does
 * with the memtable at hand, on the main thread).
 *
 * @param mem The memtable.
 * @param settings Where and how to write the table.
 * @param shouldAbort Asked between slices; true stops and deletes the output.
 * @param fs The filesystem (the real one by default).
 * @returns What was written (no outputs for an empty memtable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flushMemTable } from "./compaction_job.ts";
 * import { MemTable } from "../memtable/memtable.ts";
 * const dir = await Deno.makeTempDir();
 * const mem = new MemTable();
 * mem.add(1, 1, new Uint8Array([7]), new Uint8Array([42]));
 * const result = await flushMemTable(mem, { dir, blockSize: 4096, bloomBitsPerKey: 10, outputNumber: 3 });
 * assert.equal(result.outputs[0]?.entries, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function flushMemTable(
  mem: MemTable,
  settings: FlushSettings,
  shouldAbort: () => boolean = () => false,
  fs: Fs = diskFs,
): Promise<MergeResult> {
  const source = mem.iterator();
  try {
    return await mergeToTables(source, {
      dir: settings.dir,
      fs,
      blockSize: settings.blockSize,
      bloomBitsPerKey: settings.bloomBitsPerKey,
      ...(settings.compression ? { compression: settings.compression } : {}),
      targetFileSize: Infinity,
      ...(settings.rangeTombstones
        ? { rangeTombstones: settings.rangeTombstones }
        : {}),
      newFileNumber: () => settings.outputNumber,
      shouldAbort,
    });
  } finally {
    source.close();
  }
}

/**
 * How many output numbers to reserve for a job over `inputBytes`: outputs
 * never exceed the input, and every file but the last reaches the target.
 *
 * @param inputBytes Bytes of all input tables.
 * @param targetFileSize The output file size.
 * @returns A safe count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outputNumbersNeeded } from "./compaction_job.ts";
 * assert.equal(outputNumbersNeeded(10, 4), 7);
 * ```
 */
export function outputNumbersNeeded(
  inputBytes: number,
  targetFileSize: number,
): number {
  return Math.ceil(inputBytes / targetFileSize) + 4;
}

/**
 * Runs a job: merges its inputs into new synced tables.
 *
 * @param job The job.
 * @param tables Where to open the inputs (a private cache, closed at the
 * end, when omitted).
 * @param shouldAbort Asked between slices; true stops and deletes outputs.
 * @param fs The filesystem (the real one by default).
 * @returns What was written.
 *
 * @example An empty job writes nothing
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCompactionJob } from "./compaction_job.ts";
 * const result = await runCompactionJob({
 *   kind: "compaction", dir: ".", inputs: [], overlaps: [], blockSize: 4096, bloomBitsPerKey: 10,
 *   targetFileSize: 1 << 20, smallestSnapshot: 0, deeperLevels: [], outputNumbers: [],
 * }, undefined);
 * assert.equal(result.outputs.length, 0);
 * ```
 */
export async function runCompactionJob(
  job: CompactionJob,
  tables: TableCache | undefined,
  shouldAbort: () => boolean = () => false,
  fs: Fs = diskFs,
): Promise<MergeResult> {
  if (tables === undefined) {
    // A private cache (the Worker's): its files are this job's to close.
    const own = new TableCache(job.dir, new BlockCache(0), fs);
    try {
      return await runCompactionJob(job, own, shouldAbort, fs);
    } finally {
      own.closeAll();
    }
  }
  // One pass over data about to be replaced: keep it out of the cache (the
  // engine's, when this runs on the main thread), as LevelDB does.
  const options = { fillCache: false };
  const sources: InternalIterator[] = [];
  for (const f of job.inputs) {
    sources.push(tables.get(f.number).iterator(options));
  }
  if (job.overlaps.length > 0) {
    sources.push(new LevelIterator(job.overlaps, tables, options));
  }
  const source = new MergingIterator(sources);
  let next = 0;
  try {
    return await mergeToTables(source, {
      dir: job.dir,
      fs,
      blockSize: job.blockSize,
      bloomBitsPerKey: job.bloomBitsPerKey,
      ...(job.compression ? { compression: job.compression } : {}),
      targetFileSize: job.targetFileSize,
      smallestSnapshot: job.smallestSnapshot,
      ...(job.expiry ? { expiry: job.expiry } : {}),
      ...(job.rangeTombstones ? { rangeTombstones: job.rangeTombstones } : {}),
      isBottomForKey: (key) =>
        job.deeperLevels.every((files) => !levelHolds(files, key)),
      newFileNumber: () => {
        const n = job.outputNumbers[next++];
        if (n === undefined) {
          throw new StrataError(
            "INTERNAL",
            "Compaction ran out of reserved file numbers",
          );
        }
        return n;
      },
      mayCut: () => next < job.outputNumbers.length,
      shouldAbort,
    });
  } finally {
    source.close(); // unpins the blocks the inputs stand on
  }
}

/** Whether a disjoint, sorted level has a file whose range holds `key`. */
function levelHolds(files: readonly FileMeta[], key: Uint8Array): boolean {
  const f = files[findFile(files, key)];
  return f !== undefined && compareBytes(f.smallestKey, key) <= 0;
}
