/**
 * Internal keys: the (user key, sequence number, type) triple under which
 * every version of a key is stored, in the memtable, the WAL and SSTables.
 *
 * Internal order is user key ascending (memcmp), then sequence number
 * descending, so the newest version of a key comes first and a seek to
 * `(key, snapshotSequence)` lands on the newest version a snapshot may see.
 *
 * Sequence numbers are JavaScript numbers and stay below 2^53
 * ({@link MAX_SEQUENCE}); on disk they take 8 bytes (two u32 halves).
 *
 * @module
 */

import { compareBytes } from "../util/bytes.ts";

/** Entry type of a value (the WAL's `type` byte). */
export const TYPE_PUT = 1;
/** Entry type of a deletion marker, a tombstone (the WAL's `type` byte). */
export const TYPE_DELETE = 2;
/** The type byte of an entry: {@link TYPE_PUT} or {@link TYPE_DELETE}. */
export type EntryType = typeof TYPE_PUT | typeof TYPE_DELETE;

/**
 * The largest sequence number Strata issues: 2^53 - 1, the largest integer
 * a JavaScript number holds exactly. Seeking to `(key, MAX_SEQUENCE)` finds
 * the newest version of `key`.
 */
export const MAX_SEQUENCE: number = Number.MAX_SAFE_INTEGER;

/**
 * Compares two internal keys: user key ascending, then sequence descending.
 *
 * @param aKey User key of the first entry.
 * @param aSeq Sequence number of the first entry.
 * @param bKey User key of the second entry.
 * @param bSeq Sequence number of the second entry.
 * @returns Negative when the first sorts first, zero when equal, positive
 * otherwise.
 *
 * @example Newer versions sort first
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareInternal } from "./internal_key.ts";
 * const k = new Uint8Array([1]);
 * assert(compareInternal(k, 9, k, 3) < 0);
 * ```
 */
export function compareInternal(
  aKey: Uint8Array,
  aSeq: number,
  bKey: Uint8Array,
  bSeq: number,
): number {
  const c = compareBytes(aKey, bKey);
  if (c !== 0) return c;
  return bSeq - aSeq;
}

/**
 * A cursor over entries in internal order, implemented by the memtable,
 * SSTables and the merging iterator. Accessors may only be called while
 * {@link InternalIterator.valid} is true; the arrays they return must not
 * be mutated by the caller (copy them before handing them to users).
 *
 * @example Walk every entry
 * ```ts ignore
 * for (it.seekToFirst(); it.valid(); it.next()) console.log(it.key(), it.seq());
 * ```
 */
export interface InternalIterator {
  /** True while the cursor stands on an entry. */
  valid(): boolean;
  /** Moves to the first entry. */
  seekToFirst(): void;
  /** Moves to the last entry. */
  seekToLast(): void;
  /** Moves to the first entry at or after `(key, seq)` in internal order. */
  seek(key: Uint8Array, seq: number): void;
  /** Moves to the last entry at or before `(key, seq)` in internal order. */
  seekForPrev(key: Uint8Array, seq: number): void;
  /** Moves to the next entry. */
  next(): void;
  /** Moves to the previous entry. */
  prev(): void;
  /** User key of the current entry. */
  key(): Uint8Array;
  /** Sequence number of the current entry. */
  seq(): number;
  /** Type of the current entry. */
  type(): EntryType;
  /** Value of the current entry (empty for a tombstone). */
  value(): Uint8Array;
  /**
   * Lets go of what the iterator holds (a table iterator pins the cached
   * block it stands on, a memtable iterator keeps its memtable's memory
   * from being recycled). The iterator must not be used afterwards.
   * Owners call it when done, on error paths too; twice is harmless.
   */
  close(): void;
}
