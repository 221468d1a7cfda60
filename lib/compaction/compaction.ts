/**
 * Leveled compaction: choosing what to compact, and the merge that turns
 * input tables (or a memtable) into new sorted tables.
 *
 * Level 0 holds flushed memtables and may overlap; it is compacted, all of
 * it, into level 1 once it holds `l0CompactionTrigger` files. Level L >= 1
 * has a target size `base × levelSizeMultiplier^(L-1)`; a level over its
 * target gives one file (round-robin by key, from the level's compaction
 * pointer) to be merged with the files it overlaps one level down.
 *
 * The merge normally runs on a Worker (lib/compaction_runner.ts). It still
 * runs in slices of a few milliseconds that yield to the event loop, so
 * that on the main thread (the fallback) readers and writers keep being
 * served, and on the Worker a flush interleaves with a long compaction.
 *
 * @module
 */

import { compareBytes } from "../util/bytes.ts";
import { diskFs } from "../fs/disk_fs.ts";
import type { Fs } from "../fs/fs.ts";
import { tableFileName } from "../util/filenames.ts";
import {
  type InternalIterator,
  TYPE_DELETE,
} from "../iterator/internal_key.ts";
import {
  type RangeTombstone,
  RangeTombstoneIndex,
} from "../iterator/range_tombstones.ts";
import { type Compression, SSTableWriter } from "../sstable/sstable_writer.ts";
import { yieldToEventLoop } from "../util/yield.ts";
import {
  type FileMeta,
  NUM_LEVELS,
  type Version,
} from "../manifest/version.ts";

const EMPTY = new Uint8Array(0);

/**
 * The open options that shape the levels: the engine's `ResolvedOptions`
 * has them all.
 */
export interface LevelOptions {
  /** Bytes of a memtable; level 0's files are about this size. */
  memtableSize: number;
  /** Level-0 files that start a compaction into level 1. */
  l0CompactionTrigger: number;
  /** Each level below 1 may hold this many times the one above it. */
  levelSizeMultiplier: number;
}

/**
 * Level-0 files at which writes wait for compaction to catch up: 12, as in
 * LevelDB, or three times the compaction trigger when that is higher (a
 * stop below the trigger would wait for a compaction that never starts).
 * A later stop lets one level-0 compaction take more files for its rewrite
 * of level 1 (3M random puts, one run each: stop at 20, 123,129 puts/s
 * against 97,749), but that compaction then runs longer while writes wait:
 * bench:scale's longest put at 10M keys went from 7.5 to 14.8 s.
 *
 * @param options Open options.
 * @returns The number of level-0 files that stops writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l0StopWrites } from "./compaction.ts";
 * import { DEFAULT_OPTIONS } from "../engine/options.ts";
 * assert.equal(l0StopWrites(DEFAULT_OPTIONS), 12);
 * assert.equal(l0StopWrites({ ...DEFAULT_OPTIONS, l0CompactionTrigger: 64 }), 192);
 * ```
 */
export function l0StopWrites(options: LevelOptions): number {
  return Math.max(12, 3 * options.l0CompactionTrigger);
}

/** One unit of compaction work. */
export interface CompactionPlan {
  /** The level the inputs come from. */
  level: number;
  /** Files of `level` to merge. */
  inputs: FileMeta[];
  /** Files of `outputLevel` that overlap the inputs. */
  overlaps: FileMeta[];
  /** Where the output goes: `level + 1`, or the last level itself. */
  outputLevel: number;
}

/**
 * Target total bytes of a level (level 1 and deeper). Level 1 holds about
 * as much as level 0 at its trigger, and each level `levelSizeMultiplier`
 * times more than the one above.
 *
 * @param level Level number, 1 or more.
 * @param options Open options.
 * @returns Target bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxBytesForLevel } from "./compaction.ts";
 * import { DEFAULT_OPTIONS } from "../engine/options.ts";
 * assert(maxBytesForLevel(2, DEFAULT_OPTIONS) === 10 * maxBytesForLevel(1, DEFAULT_OPTIONS));
 * ```
 */
export function maxBytesForLevel(
  level: number,
  options: LevelOptions,
): number {
  const base = options.memtableSize * options.l0CompactionTrigger;
  return base * options.levelSizeMultiplier ** Math.max(0, level - 1);
}

/**
 * Size at which compaction output is cut into a new file: half a memtable,
 * like LevelDB's 2 MiB beside its 4 MiB memtable.
 *
 * @param options Open options.
 * @returns Bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetFileSize } from "./compaction.ts";
 * import { DEFAULT_OPTIONS } from "../engine/options.ts";
 * assert(targetFileSize(DEFAULT_OPTIONS) === 2 * 1024 * 1024);
 * ```
 */
export function targetFileSize(options: LevelOptions): number {
  return Math.max(1024, options.memtableSize / 2);
}

/**
 * How urgently each level needs compaction: level 0 by file count, deeper
 * levels by bytes over target. A score of 1 or more means "compact now".
 *
 * @param version The current version.
 * @param options Open options.
 * @returns One score per level (the last level never compacts: 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compactionScores } from "./compaction.ts";
 * import { DEFAULT_OPTIONS } from "../engine/options.ts";
 * import { Version } from "../manifest/version.ts";
 * assert(compactionScores(Version.empty(), DEFAULT_OPTIONS)[0] === 0);
 * ```
 */
export function compactionScores(
  version: Version,
  options: LevelOptions,
): number[] {
  const scores = [version.files(0).length / options.l0CompactionTrigger];
  for (let level = 1; level < NUM_LEVELS - 1; level++) {
    scores.push(version.levelBytes(level) / maxBytesForLevel(level, options));
  }
  scores.push(0);
  return scores;
}

/**
 * Chooses the most urgent compaction, if any level needs one.
 *
 * @param version The current version.
 * @param options Open options.
 * @param pointers Per level, the largest key of the previous compaction.
 * @returns The plan, or `undefined` when every score is below 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pickCompaction } from "./compaction.ts";
 * import { DEFAULT_OPTIONS } from "../engine/options.ts";
 * import { Version } from "../manifest/version.ts";
 * assert(pickCompaction(Version.empty(), DEFAULT_OPTIONS, []) === undefined);
 * ```
 */
export function pickCompaction(
  version: Version,
  options: LevelOptions,
  pointers: readonly (Uint8Array | undefined)[],
): CompactionPlan | undefined {
  const scores = compactionScores(version, options);
  let level = 0;
  for (let l = 1; l < scores.length; l++) {
    if (scores[l]! > scores[level]!) level = l;
  }
  if (scores[level]! < 1) return undefined;
  if (level === 0) return planForInputs(version, 0, version.files(0).slice());
  const files = version.files(level);
  const pointer = pointers[level];
  const next = pointer
    ? files.find((f) => compareBytes(f.largestKey, pointer) > 0) ?? files[0]!
    : files[0]!;
  return planForInputs(version, level, [next]);
}

/**
 * Completes a plan for `inputs` of `level` with the overlapping files one
 * level down. Level-0 inputs must be every level-0 file that overlaps them,
 * or an older version left behind in level 0 would shadow a newer one moved
 * down; callers pass all of level 0.
 *
 * @param version The current version.
 * @param level Input level.
 * @param inputs Input files.
 * @returns The plan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planForInputs } from "./compaction.ts";
 * import { Version } from "../manifest/version.ts";
 * assert(planForInputs(Version.empty(), 0, []).overlaps.length === 0);
 * ```
 */
export function planForInputs(
  version: Version,
  level: number,
  inputs: FileMeta[],
): CompactionPlan {
  // The last level has nowhere to go: it is rewritten in place.
  const outputLevel = Math.min(level + 1, NUM_LEVELS - 1);
  if (inputs.length === 0 || outputLevel === level) {
    return { level, inputs, overlaps: [], outputLevel };
  }
  const [smallest, largest] = keyRange(inputs);
  return {
    level,
    inputs,
    overlaps: version.overlapping(outputLevel, smallest, largest),
    outputLevel,
  };
}

/**
 * The user-key range that a set of files covers.
 *
 * @param files At least one file.
 * @returns `[smallest, largest]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyRange } from "./compaction.ts";
 * const f = { number: 1, size: 1, entries: 1, smallestSeq: 1, largestSeq: 1,
 *   smallestKey: new Uint8Array([2]), largestKey: new Uint8Array([5]) };
 * assert(keyRange([f])[1][0] === 5);
 * ```
 */
export function keyRange(files: readonly FileMeta[]): [Uint8Array, Uint8Array] {
  let smallest = files[0]!.smallestKey;
  let largest = files[0]!.largestKey;
  for (const f of files) {
    if (compareBytes(f.smallestKey, smallest) < 0) smallest = f.smallestKey;
    if (compareBytes(f.largestKey, largest) > 0) largest = f.largestKey;
  }
  return [smallest, largest];
}

/**
 * Whether a compaction can move its inputs down a level without rewriting
 * them: they do not overlap each other, and nothing below overlaps them.
 * Sequential fills compact almost entirely this way.
 *
 * @param plan The plan.
 * @returns `true` for a trivial move.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTrivialMove } from "./compaction.ts";
 * assert(!isTrivialMove({ level: 1, inputs: [], overlaps: [], outputLevel: 2 }));
 * ```
 */
export function isTrivialMove(plan: CompactionPlan): boolean {
  if (plan.inputs.length === 0 || plan.overlaps.length > 0) return false;
  if (plan.outputLevel <= plan.level) return false;
  const sorted = plan.inputs.slice().sort((a, b) =>
    compareBytes(a.smallestKey, b.smallestKey)
  );
  for (let i = 1; i < sorted.length; i++) {
    if (compareBytes(sorted[i - 1]!.largestKey, sorted[i]!.smallestKey) >= 0) {
      return false;
    }
  }
  return true;
}

/** How a merge writes its output and what it may drop. */
/**
 * Which entries carry an expiry time, and where: for user keys that start
 * with `keyPrefix`, the 8 bytes at `offset` of the value are the time in
 * milliseconds since the epoch (unsigned, little-endian) after which the
 * entry is gone; 0 means never. `openKv` stores `expireIn` this way.
 */
export interface ValueExpiry {
  /** User keys that start with these bytes carry an expiry. */
  keyPrefix: Uint8Array;
  /** Where in such a value the expiry time is. */
  offset: number;
}

/**
 * Whether a put of `value` under `key` has expired at `nowMs`.
 *
 * @param expiry Which entries carry an expiry, and where.
 * @param key The user key.
 * @param value The value.
 * @param nowMs The time, in milliseconds since the epoch.
 * @returns True when it carries an expiry time at or before `nowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isExpired } from "./compaction.ts";
 * const expiry = { keyPrefix: new Uint8Array([1]), offset: 0 };
 * const value = new Uint8Array(8);
 * new DataView(value.buffer).setBigUint64(0, 1000n, true);
 * assert(isExpired(expiry, new Uint8Array([1, 7]), value, 1000));
 * assert(!isExpired(expiry, new Uint8Array([1, 7]), value, 999));
 * assert(!isExpired(expiry, new Uint8Array([2, 7]), value, 5000));
 * ```
 */
export function isExpired(
  expiry: ValueExpiry,
  key: Uint8Array,
  value: Uint8Array,
  nowMs: number,
): boolean {
  const prefix = expiry.keyPrefix;
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (key[i] !== prefix[i]) return false;
  }
  const at = expiry.offset;
  if (value.length < at + 8) return false;
  // Two u32 halves: a Number holds every millisecond time exactly.
  const lo = (value[at]! | value[at + 1]! << 8 | value[at + 2]! << 16 |
    value[at + 3]! << 24) >>> 0;
  const hi = (value[at + 4]! | value[at + 5]! << 8 | value[at + 6]! << 16 |
    value[at + 7]! << 24) >>> 0;
  const time = hi * 0x1_0000_0000 + lo;
  return time !== 0 && time <= nowMs;
}

export interface MergeOptions {
  /** Database directory. */
  dir: string;
  /** The filesystem (the real one by default). */
  fs?: Fs;
  /** Block size of the output tables. */
  blockSize: number;
  /** Bloom bits per key of the output tables. */
  bloomBitsPerKey: number;
  /** How the output tables store data blocks ["lz4"]. */
  compression?: Compression;
  /** Cut a new output file once one reaches this size (Infinity: never). */
  targetFileSize: number;
  /**
   * Drop versions that no reader can see any more: a version shadowed by a
   * newer one at or below this sequence, and a tombstone at or below it
   * whose key no deeper level holds. `undefined` keeps everything (flush).
   */
  smallestSnapshot?: number;
  /** True when no level below the output may hold `key`. */
  isBottomForKey?: (key: Uint8Array) => boolean;
  /**
   * Entries that carry an expiry time (see {@link ValueExpiry}): a put
   * whose time has passed becomes a tombstone, which hides its older
   * versions and is itself dropped where tombstones are.
   */
  expiry?: ValueExpiry & { nowMs: number };
  /**
   * The range tombstones in force (the version's, and a flushed
   * memtable's own): under `smallestSnapshot`, what one hides is dropped;
   * otherwise the output records that it holds hidden entries, so the
   * tombstone is kept until they are gone (see `FileMeta.rangeDeleted`).
   */
  rangeTombstones?: readonly RangeTombstone[];
  /** Hands out a file number for each output table. */
  newFileNumber: () => number;
  /**
   * Whether another output file may begin [always]: false when the job
   * has used up the file numbers reserved for it, so the last output
   * grows past the target size instead of failing the job. (Compressed
   * inputs make the count of outputs an estimate.)
   */
  mayCut?: () => boolean;
  /** Asked between slices; true stops the merge and deletes its output. */
  shouldAbort: () => boolean;
}

/** What a merge wrote. */
export interface MergeResult {
  /** The new tables, in key order (empty when everything was dropped). */
  outputs: FileMeta[];
  /** Entries read from the source. */
  entriesRead: number;
  /** Entries dropped as invisible. */
  entriesDropped: number;
  /** True when {@link MergeOptions.shouldAbort} stopped it. */
  aborted: boolean;
}

/** Longest stretch of merge work between two yields to the event loop. */
const SLICE_MS = 4;

/**
 * Merges `source` into new tables, dropping what no reader can see, in
 * slices that yield to the event loop. Every output is synced before this
 * resolves; the caller syncs the directory and records them in the manifest.
 *
 * @param source Entries in internal order (a merging iterator, a memtable).
 * @param options Output and drop rules.
 * @returns The tables written.
 *
 * @example Write a memtable out
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeToTables } from "./compaction.ts";
 * import { MemTable } from "../memtable/memtable.ts";
 * const dir = await Deno.makeTempDir();
 * const mem = new MemTable();
 * mem.add(1, 1, new Uint8Array([7]), new Uint8Array([42]));
 * let n = 10;
 * const result = await mergeToTables(mem.iterator(), {
 *   dir, blockSize: 4096, bloomBitsPerKey: 10, targetFileSize: Infinity,
 *   newFileNumber: () => n++, shouldAbort: () => false,
 * });
 * assert(result.outputs[0]?.number === 10);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function mergeToTables(
  source: InternalIterator,
  options: MergeOptions,
): Promise<MergeResult> {
  const outputs: FileMeta[] = [];
  let writer: SSTableWriter | undefined;
  let writerNumber = 0;
  let entriesRead = 0;
  let entriesDropped = 0;
  // The user key being merged, copied into a reusable buffer: a fresh copy
  // per key was a measurable share of compaction time and garbage.
  let currentKey = new Uint8Array(256);
  let currentLength = -1;
  // Sequence of the previous (newer) version of currentKey in this merge.
  let newerSeq = Infinity; // none yet: never "visible to every reader"
  const snapshot = options.smallestSnapshot;
  const fs = options.fs ?? diskFs;
  const expiry = options.expiry;
  const tombstones = options.rangeTombstones ?? [];
  const ranges = RangeTombstoneIndex.build([tombstones]);
  let newestTombstone = 0;
  for (const t of tombstones) {
    newestTombstone = Math.max(newestTombstone, t.seq);
  }
  // The output being written holds an entry a range tombstone hides.
  let writerHidden = false;

  const finishWriter = async () => {
    if (!writer) return;
    const w = writer;
    writer = undefined;
    const info = await w.finish();
    const meta: FileMeta = {
      number: writerNumber,
      size: info.fileSize,
      entries: info.entries,
      smallestKey: info.smallestKey,
      smallestSeq: info.smallestSeq,
      largestKey: info.largestKey,
      largestSeq: info.largestSeq,
      minSeq: info.minSeq,
      maxSeq: info.maxSeq,
    };
    if (newestTombstone > 0) meta.rangeDeletesSeen = newestTombstone;
    if (writerHidden) meta.rangeDeleted = true;
    writerHidden = false;
    outputs.push(meta);
  };

  try {
    let sliceStart = performance.now();
    source.seekToFirst();
    while (source.valid()) {
      if (
        (entriesRead & 255) === 0 && performance.now() - sliceStart > SLICE_MS
      ) {
        await yieldToEventLoop();
        if (options.shouldAbort()) {
          writer?.abandon();
          writer = undefined;
          for (const f of outputs) {
            await fs.remove(tableFileName(options.dir, f.number)).catch(
              () => {},
            );
          }
          return { outputs: [], entriesRead, entriesDropped, aborted: true };
        }
        sliceStart = performance.now();
      }
      entriesRead++;
      const key = source.key();
      const seq = source.seq();
      let type = source.type();
      let value = type === TYPE_DELETE ? EMPTY : source.value();
      if (
        expiry !== undefined && type !== TYPE_DELETE &&
        isExpired(expiry, key, value, expiry.nowMs)
      ) {
        type = TYPE_DELETE; // gone: hides what is older, like a delete
        value = EMPTY;
      }
      const newKey = !sameKey(key, currentKey, currentLength);
      if (newKey) {
        if (key.length > currentKey.length) {
          currentKey = new Uint8Array(key.length * 2);
        }
        currentKey.set(key);
        currentLength = key.length;
        newerSeq = Infinity;
      }
      let drop = false;
      let hidden = false;
      if (snapshot !== undefined) {
        if (newerSeq <= snapshot) {
          drop = true; // a newer version that every reader sees hides this one
        } else if (
          type === TYPE_DELETE && seq <= snapshot &&
          options.isBottomForKey?.(key)
        ) {
          drop = true; // nothing older below it for the tombstone to hide
        }
      }
      if (!drop && !ranges.isEmpty && ranges.hides(key, seq, Infinity)) {
        // A range tombstone every reader sees hides it: gone. One that
        // some snapshot predates: kept, and the table says so.
        if (snapshot !== undefined && ranges.hides(key, seq, snapshot)) {
          drop = true;
        } else {
          hidden = true;
        }
      }
      newerSeq = seq;
      if (drop) {
        entriesDropped++;
      } else {
        // Cut files only between user keys: a key never spans two files.
        if (
          writer && newKey && writer.estimatedSize >= options.targetFileSize &&
          (options.mayCut?.() ?? true)
        ) {
          await finishWriter();
        }
        if (!writer) {
          writerNumber = options.newFileNumber();
          writer = SSTableWriter.create(
            tableFileName(options.dir, writerNumber),
            {
              blockSize: options.blockSize,
              bloomBitsPerKey: options.bloomBitsPerKey,
              ...(options.compression
                ? { compression: options.compression }
                : {}),
            },
            fs,
          );
        }
        writer.add(key, seq, type, value);
        if (hidden) writerHidden = true;
      }
      source.next();
    }
    await finishWriter();
  } catch (err) {
    writer?.abandon();
    throw err;
  }
  return { outputs, entriesRead, entriesDropped, aborted: false };
}

/** Whether `key` equals the first `length` bytes of `buffer`. */
function sameKey(key: Uint8Array, buffer: Uint8Array, length: number): boolean {
  if (key.length !== length) return false;
  for (let i = length - 1; i >= 0; i--) if (key[i] !== buffer[i]) return false;
  return true;
}
