/**
 * Range tombstones: what `DB.deleteRange(start, end)` leaves behind. A
 * tombstone `[start, end) @ seq` hides every version of every key in the
 * range whose sequence number is below `seq`, for a reader whose snapshot
 * is at or after `seq`. It costs one entry however many keys it covers.
 *
 * Tombstones live in the memtable that took the write and, once that is
 * flushed, in the version (recorded by the manifest), not in tables: a
 * version holds them all, so every read path and every compaction sees
 * every tombstone, at every level, without any being split between files.
 * A tombstone is retired from the version once no table can hold a key it
 * covers (see `Version.retirableRangeTombstones`).
 *
 * For lookups, a set of tombstones is cut into fragments: disjoint key
 * ranges, each with the sequence numbers of the tombstones over it, newest
 * first (RocksDB's `FragmentedRangeTombstoneList` does the same):
 *
 * ```
 *  tombstones   [b ......... f) @9
 *                    [d ............ h) @4
 *  fragments    [b   d) @9  [d   f) @9,4  [f   h) @4
 * ```
 *
 * @module
 */

import { compareBytes } from "../util/bytes.ts";

/** One range deletion: the keys in `[start, end)`, older than `seq`. */
export interface RangeTombstone {
  /** First key covered. */
  start: Uint8Array;
  /** First key not covered; empty means every key from `start` on. */
  end: Uint8Array;
  /** Sequence number of the deletion. */
  seq: number;
}

/**
 * Whether `key` is in a tombstone's range.
 *
 * @param t The tombstone.
 * @param key A user key.
 * @returns True when `start <= key < end`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tombstoneCovers } from "./range_tombstones.ts";
 * const t = { start: new Uint8Array([2]), end: new Uint8Array([5]), seq: 1 };
 * assert(tombstoneCovers(t, new Uint8Array([2])));
 * assert(!tombstoneCovers(t, new Uint8Array([5])));
 * ```
 */
export function tombstoneCovers(t: RangeTombstone, key: Uint8Array): boolean {
  return compareBytes(key, t.start) >= 0 &&
    (t.end.length === 0 || compareBytes(key, t.end) < 0);
}

/**
 * Whether a tombstone's range meets the user-key range `[smallest,
 * largest]` (both inclusive, as a table's bounds are).
 *
 * @param t The tombstone.
 * @param smallest Smallest key of the other range.
 * @param largest Largest key of the other range.
 * @returns True when some key lies in both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tombstoneOverlaps } from "./range_tombstones.ts";
 * const t = { start: new Uint8Array([2]), end: new Uint8Array([5]), seq: 1 };
 * assert(tombstoneOverlaps(t, new Uint8Array([4]), new Uint8Array([9])));
 * assert(!tombstoneOverlaps(t, new Uint8Array([5]), new Uint8Array([9])));
 * ```
 */
export function tombstoneOverlaps(
  t: RangeTombstone,
  smallest: Uint8Array,
  largest: Uint8Array,
): boolean {
  return compareBytes(largest, t.start) >= 0 &&
    (t.end.length === 0 || compareBytes(smallest, t.end) < 0);
}

/**
 * A set of range tombstones cut into fragments for lookups. Immutable.
 *
 * @example Which deletion hides a key, at which snapshot
 * ```ts
 * import assert from "node:assert/strict";
 * import { RangeTombstoneIndex } from "./range_tombstones.ts";
 * const k = (s: string) => new TextEncoder().encode(s);
 * const index = RangeTombstoneIndex.build([[
 *   { start: k("b"), end: k("f"), seq: 9 },
 *   { start: k("d"), end: k("h"), seq: 4 },
 * ]]);
 * assert.equal(index.newestCovering(k("e"), 100), 9);
 * assert.equal(index.newestCovering(k("e"), 8), 4); // a snapshot before 9
 * assert.equal(index.newestCovering(k("a"), 100), 0);
 * assert(index.hides(k("c"), 5, 100)); // a put at 5 is under the delete at 9
 * assert(!index.hides(k("g"), 5, 100)); // the delete at 4 is older than it
 * ```
 */
export class RangeTombstoneIndex {
  /** An index of no tombstones. */
  static readonly EMPTY: RangeTombstoneIndex = new RangeTombstoneIndex(
    [],
    [],
    [],
    [],
  );

  /** The tombstones, as given. */
  readonly tombstones: readonly RangeTombstone[];
  // Fragment i covers [#starts[i], #ends[i]) (an empty end: no end) and
  // holds the tombstones #seqs[i], newest first.
  readonly #starts: Uint8Array[];
  readonly #ends: Uint8Array[];
  readonly #seqs: number[][];
  // The fragment the last lookup found: scans and merges ask about keys
  // in order, so the next answer is usually the same fragment.
  #last = 0;

  private constructor(
    tombstones: readonly RangeTombstone[],
    starts: Uint8Array[],
    ends: Uint8Array[],
    seqs: number[][],
  ) {
    this.tombstones = tombstones;
    this.#starts = starts;
    this.#ends = ends;
    this.#seqs = seqs;
  }

  /**
   * Fragments the tombstones of several lists (a memtable's, a version's).
   *
   * @param lists The tombstones.
   * @param atMost Leave out tombstones newer than this (a scan's snapshot).
   * @returns The index.
   */
  static build(
    lists: readonly (readonly RangeTombstone[])[],
    atMost = Infinity,
  ): RangeTombstoneIndex {
    const all: RangeTombstone[] = [];
    for (const list of lists) {
      for (const t of list) if (t.seq <= atMost) all.push(t);
    }
    if (all.length === 0) return RangeTombstoneIndex.EMPTY;
    // Every start and end is a boundary between fragments.
    const bounds: Uint8Array[] = [];
    for (const t of all) {
      bounds.push(t.start);
      if (t.end.length > 0) bounds.push(t.end);
    }
    bounds.sort(compareBytes);
    const unique: Uint8Array[] = [];
    for (const b of bounds) {
      if (
        unique.length === 0 || compareBytes(unique[unique.length - 1]!, b) !== 0
      ) {
        unique.push(b);
      }
    }
    const byStart = all.slice().sort((a, b) => compareBytes(a.start, b.start));
    const starts: Uint8Array[] = [];
    const ends: Uint8Array[] = [];
    const seqs: number[][] = [];
    // A sweep over the boundaries with the tombstones open at each.
    let open: RangeTombstone[] = [];
    let next = 0;
    for (let i = 0; i < unique.length; i++) {
      const from = unique[i]!;
      open = open.filter((t) =>
        t.end.length === 0 || compareBytes(t.end, from) > 0
      );
      while (
        next < byStart.length && compareBytes(byStart[next]!.start, from) <= 0
      ) {
        open.push(byStart[next++]!);
      }
      if (open.length === 0) continue;
      starts.push(from);
      ends.push(unique[i + 1] ?? new Uint8Array(0));
      seqs.push(open.map((t) => t.seq).sort((a, b) => b - a));
    }
    return new RangeTombstoneIndex(all, starts, ends, seqs);
  }

  /** True when the index holds no tombstone. */
  get isEmpty(): boolean {
    return this.#starts.length === 0;
  }

  /**
   * The newest tombstone over `key` that a reader at `atMost` sees.
   *
   * @param key A user key.
   * @param atMost The reader's sequence number (Infinity: every tombstone).
   * @returns Its sequence number, or 0 when none covers the key.
   */
  newestCovering(key: Uint8Array, atMost: number): number {
    const i = this.#fragmentOf(key);
    if (i < 0) return 0;
    const seqs = this.#seqs[i]!;
    for (let j = 0; j < seqs.length; j++) {
      if (seqs[j]! <= atMost) return seqs[j]!;
    }
    return 0;
  }

  /**
   * Whether a version of `key` written at `seq` is deleted for a reader at
   * `atMost`: a tombstone it sees is newer than the version.
   *
   * @param key The user key.
   * @param seq The version's sequence number.
   * @param atMost The reader's sequence number.
   * @returns True when the version is hidden.
   */
  hides(key: Uint8Array, seq: number, atMost: number): boolean {
    return this.#starts.length > 0 && this.newestCovering(key, atMost) > seq;
  }

  /** Index of the fragment holding `key`, or -1. */
  #fragmentOf(key: Uint8Array): number {
    const starts = this.#starts;
    const n = starts.length;
    if (n === 0) return -1;
    const last = this.#last;
    if (this.#inFragment(last, key)) return last;
    // The last fragment whose start is at or before the key.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(starts[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0 || !this.#inFragment(i, key)) return -1;
    this.#last = i;
    return i;
  }

  #inFragment(i: number, key: Uint8Array): boolean {
    const start = this.#starts[i];
    if (start === undefined || compareBytes(key, start) < 0) return false;
    const end = this.#ends[i]!;
    return end.length === 0 || compareBytes(key, end) < 0;
  }
}
