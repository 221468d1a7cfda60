/**
 * Versions: an immutable picture of which SSTables make up each level.
 * Every flush or compaction produces a {@link VersionEdit} (files added and
 * removed), and applying it to the current version yields the next one.
 * Readers hold a reference to the version they started with, so the files
 * they read stay on disk until they finish.
 *
 * Level 0 holds flushed memtables, which may overlap; it is kept newest
 * first. Levels 1 and deeper hold files with disjoint key ranges sorted by
 * key, and one user key never spans two files of a level.
 *
 * @module
 */

import { compareBytes } from "../util/bytes.ts";
import { CorruptionError } from "../util/errors.ts";
import {
  type RangeTombstone,
  RangeTombstoneIndex,
  tombstoneOverlaps,
} from "../iterator/range_tombstones.ts";

/** The number of levels, as in LevelDB. */
export const NUM_LEVELS = 7;

/** What the manifest records about one SSTable. */
export interface FileMeta {
  /** File number (`NNNNNN.sst`). */
  number: number;
  /** Size in bytes. */
  size: number;
  /** Entries in the table. */
  entries: number;
  /** Smallest user key. */
  smallestKey: Uint8Array;
  /** Sequence number of the smallest internal key. */
  smallestSeq: number;
  /** Largest user key. */
  largestKey: Uint8Array;
  /** Sequence number of the largest internal key. */
  largestSeq: number;
  /**
   * Lowest sequence number of any entry. Absent for tables recorded by
   * manifests from before it was kept.
   */
  minSeq?: number;
  /** Highest sequence number of any entry (absent like `minSeq`). */
  maxSeq?: number;
  /**
   * The newest range tombstone the writer of this table took into
   * account: every tombstone at or below it that hides an entry of the
   * table set {@link FileMeta.rangeDeleted}. Absent: none was considered.
   */
  rangeDeletesSeen?: number;
  /** The table holds entries that a tombstone it considered hides. */
  rangeDeleted?: boolean;
}

/**
 * A change to the set of live files, as the manifest logs it. Absent fields
 * leave the corresponding state unchanged.
 */
export interface VersionEdit {
  /** WALs numbered below this are fully contained in tables. */
  logNumber?: number;
  /** The next file number to hand out. */
  nextFileNumber?: number;
  /** The last sequence number in use. */
  lastSequence?: number;
  /** Per level, the key after which the next compaction starts. */
  compactPointers?: [level: number, key: Uint8Array][];
  /** Files removed from a level. */
  deleted?: [level: number, number: number][];
  /** Files added to a level. */
  added?: [level: number, file: FileMeta][];
  /** Range tombstones of a flushed memtable. */
  rangeTombstonesAdded?: RangeTombstone[];
  /** Range tombstones no table needs any more, by sequence number. */
  rangeTombstonesRetired?: number[];
  /**
   * The database's lifetime counters as of this edit (totals, not
   * increments: the last edit that carries them wins).
   */
  lifetime?: Record<string, number>;
}

/**
 * The files of every level at one moment. Immutable once built.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Version } from "./version.ts";
 * const v = Version.empty().apply({
 *   added: [[1, {
 *     number: 5, size: 100, entries: 1,
 *     smallestKey: new Uint8Array([1]), smallestSeq: 1,
 *     largestKey: new Uint8Array([9]), largestSeq: 1,
 *   }]],
 * }, "MANIFEST");
 * assert(v.files(1).length === 1 && v.filesForKey(1, new Uint8Array([5])).length === 1);
 * ```
 */
export class Version {
  readonly #levels: FileMeta[][];
  /** The range tombstones of every flushed memtable, oldest first. */
  readonly rangeTombstones: readonly RangeTombstone[];
  #rangeIndex: RangeTombstoneIndex | undefined;
  /** Readers that still use this version (scans, compactions). */
  refs = 0;

  private constructor(
    levels: FileMeta[][],
    rangeTombstones: readonly RangeTombstone[],
  ) {
    this.#levels = levels;
    this.rangeTombstones = rangeTombstones;
  }

  /**
   * A version with no files.
   *
   * @returns The empty version.
   */
  static empty(): Version {
    return new Version(Array.from({ length: NUM_LEVELS }, () => []), []);
  }

  /**
   * The range tombstones as an index for lookups, built on first use.
   *
   * @returns The index ({@link RangeTombstoneIndex.EMPTY} when none).
   */
  rangeTombstoneIndex(): RangeTombstoneIndex {
    this.#rangeIndex ??= RangeTombstoneIndex.build([this.rangeTombstones]);
    return this.#rangeIndex;
  }

  /**
   * The range tombstones that hide nothing any more: no table whose key
   * range meets the tombstone's may hold an entry older than it. A table
   * is cleared of a tombstone when all its entries are newer, or when its
   * writer considered the tombstone and found nothing under it (a
   * compaction that dropped what the tombstone hid writes such tables).
   * Memtables need no look: a tombstone reaches the version when its own
   * memtable is flushed, after every older one.
   *
   * @returns Their sequence numbers.
   */
  retirableRangeTombstones(): number[] {
    const retirable: number[] = [];
    for (const t of this.rangeTombstones) {
      let needed = false;
      for (let level = 0; level < NUM_LEVELS && !needed; level++) {
        for (const f of this.#levels[level]!) {
          if (!tombstoneOverlaps(t, f.smallestKey, f.largestKey)) continue;
          const newer = f.minSeq !== undefined && f.minSeq > t.seq;
          const cleared = f.rangeDeletesSeen !== undefined &&
            f.rangeDeletesSeen >= t.seq && !f.rangeDeleted;
          if (!newer && !cleared) {
            needed = true;
            break;
          }
        }
      }
      if (!needed) retirable.push(t.seq);
    }
    return retirable;
  }

  /**
   * Returns the version that results from applying `edit`.
   *
   * @param edit Files to add and remove.
   * @param source Where the edit came from, for error messages.
   * @returns A new version; this one is unchanged.
   * @throws {CorruptionError} When the edit names a level out of range or
   * removes a file the level does not hold.
   */
  apply(edit: VersionEdit, source: string): Version {
    const levels = this.#levels.map((files) => files.slice());
    for (const [level, number] of edit.deleted ?? []) {
      const files = levels[level];
      const at = files?.findIndex((f) => f.number === number) ?? -1;
      if (!files || at < 0) {
        throw new CorruptionError(
          source,
          0,
          `edit removes file ${number} which level ${level} does not hold`,
        );
      }
      files.splice(at, 1);
    }
    for (const [level, file] of edit.added ?? []) {
      const files = levels[level];
      if (!files) {
        throw new CorruptionError(source, 0, `edit names level ${level}`);
      }
      files.push(file);
    }
    levels[0]!.sort(newestFirst);
    for (let level = 1; level < NUM_LEVELS; level++) {
      levels[level]!.sort((a, b) => compareBytes(a.smallestKey, b.smallestKey));
    }
    let tombstones = this.rangeTombstones;
    if (edit.rangeTombstonesAdded?.length) {
      tombstones = [...tombstones, ...edit.rangeTombstonesAdded];
    }
    // After the additions: an edit may add a tombstone that hides nothing
    // and retire it at once.
    const retired = edit.rangeTombstonesRetired ?? [];
    if (retired.length > 0) {
      const gone = new Set(retired);
      const kept = tombstones.filter((t) => !gone.has(t.seq));
      if (kept.length !== tombstones.length - gone.size) {
        throw new CorruptionError(
          source,
          0,
          "edit retires a range tombstone the version does not hold",
        );
      }
      tombstones = kept;
    }
    return new Version(levels, tombstones);
  }

  /**
   * The files of a level: level 0 newest first (see {@link newestFirst}),
   * other levels by key.
   *
   * @param level Level number.
   * @returns The files (do not mutate).
   */
  files(level: number): readonly FileMeta[] {
    return this.#levels[level] ?? [];
  }

  /**
   * Total bytes of a level's files.
   *
   * @param level Level number.
   * @returns Bytes.
   */
  levelBytes(level: number): number {
    let sum = 0;
    for (const f of this.files(level)) sum += f.size;
    return sum;
  }

  /** Every live file number of this version. */
  *allFileNumbers(): IterableIterator<number> {
    for (const files of this.#levels) for (const f of files) yield f.number;
  }

  /**
   * The files of `level` whose key range may hold `key`, in the order a
   * point lookup must consult them (for level 0, newest first).
   *
   * @param level Level number.
   * @param key User key.
   * @returns The candidate files.
   */
  filesForKey(level: number, key: Uint8Array): FileMeta[] {
    const files = this.files(level);
    if (level === 0) {
      return files.filter((f) =>
        compareBytes(key, f.smallestKey) >= 0 &&
        compareBytes(key, f.largestKey) <= 0
      );
    }
    const i = findFile(files, key);
    const f = files[i];
    return f && compareBytes(key, f.smallestKey) >= 0 ? [f] : [];
  }

  /**
   * The files of `level` that overlap the user-key range
   * `[smallest, largest]` (`undefined` means unbounded).
   *
   * @param level Level number.
   * @param smallest Lower bound, inclusive.
   * @param largest Upper bound, inclusive.
   * @returns The overlapping files.
   */
  overlapping(
    level: number,
    smallest: Uint8Array | undefined,
    largest: Uint8Array | undefined,
  ): FileMeta[] {
    return this.files(level).filter((f) =>
      (smallest === undefined || compareBytes(f.largestKey, smallest) >= 0) &&
      (largest === undefined || compareBytes(f.smallestKey, largest) <= 0)
    );
  }
}

/**
 * The order of level 0: by highest sequence number, newest first, so that
 * a point lookup can stop at the first table that holds the key unless a
 * table after it holds newer entries (tables `repairDatabase` put in level
 * 0 may overlap in sequence numbers too). Tables recorded without their
 * sequence numbers (older manifests) are older than every table recorded
 * with them, and among themselves newest file first, as before.
 *
 * @param a A level-0 table.
 * @param b Another.
 * @returns Negative when `a` comes first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newestFirst } from "./version.ts";
 * const f = (number: number, maxSeq?: number) => ({ number, size: 1, entries: 1,
 *   smallestKey: new Uint8Array([1]), smallestSeq: 1, largestKey: new Uint8Array([1]),
 *   largestSeq: 1, ...(maxSeq === undefined ? {} : { maxSeq }) });
 * assert.deepEqual([f(3, 5), f(4), f(2, 9), f(7)].sort(newestFirst).map((x) => x.number), [2, 3, 7, 4]);
 * ```
 */
export function newestFirst(a: FileMeta, b: FileMeta): number {
  if (a.maxSeq !== undefined && b.maxSeq !== undefined) {
    return b.maxSeq - a.maxSeq || b.number - a.number;
  }
  if (a.maxSeq !== undefined) return -1;
  if (b.maxSeq !== undefined) return 1;
  return b.number - a.number;
}

/**
 * Index of the first file whose largest key is at or after `key` (binary
 * search over a sorted, disjoint level).
 *
 * @param files A level of disjoint files sorted by key.
 * @param key User key.
 * @returns The index, `files.length` when every file ends before `key`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findFile } from "./version.ts";
 * assert(findFile([], new Uint8Array([1])) === 0);
 * ```
 */
export function findFile(files: readonly FileMeta[], key: Uint8Array): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(files[mid]!.largestKey, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
