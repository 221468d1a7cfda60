/**
 * The user iterator: turns the internal stream of a scan (every version of
 * every key, tombstones included) into what a user sees: each user key
 * once, with its newest version visible at the snapshot, deleted keys
 * hidden, within the scan's bounds. LevelDB's `db/db_iter.cc` plays this
 * part.
 *
 * It streams: the only state is the current key (and, walking backward,
 * the current value) in buffers reused from one entry to the next.
 *
 * @module
 */

import { compareBytes } from "../util/bytes.ts";
import {
  type InternalIterator,
  MAX_SEQUENCE,
  TYPE_DELETE,
} from "./internal_key.ts";
import type { RangeTombstoneIndex } from "./range_tombstones.ts";

/** Options of a {@link UserIterator}. */
export interface UserIteratorOptions {
  /** Largest visible sequence number: newer entries are ignored. */
  snapshot: number;
  /** Walk from the upper bound down instead of from the lower bound up. */
  reverse: boolean;
  /** Lower bound on user keys (none when absent). */
  lower?: Uint8Array;
  /** Whether a key equal to `lower` is in range; true when absent. */
  lowerInclusive?: boolean;
  /** Upper bound on user keys (none when absent). */
  upper?: Uint8Array;
  /** Whether a key equal to `upper` is in range; false when absent. */
  upperInclusive?: boolean;
  /**
   * Range tombstones: a version one of them hides, at the snapshot, is
   * treated like a deleted one.
   */
  rangeTombstones?: RangeTombstoneIndex;
}

/** A user-visible entry; the arrays are valid until the next call. */
export interface UserEntry {
  /** The user key. */
  key: Uint8Array;
  /** The newest value visible at the snapshot. */
  value: Uint8Array;
}

/** Copies `src` into `buf` (grown when too small); returns the buffer. */
function copyInto(buf: Uint8Array, src: Uint8Array): Uint8Array {
  if (buf.length < src.length) {
    buf = new Uint8Array(Math.max(src.length, buf.length * 2));
  }
  buf.set(src);
  return buf;
}

/** Tells whether `key` equals the first `len` bytes of `buf`. */
function equalsSaved(key: Uint8Array, buf: Uint8Array, len: number): boolean {
  if (key.length !== len) return false;
  for (let i = len - 1; i >= 0; i--) if (key[i] !== buf[i]) return false;
  return true;
}

/**
 * The user-visible stream of a scan over an {@link InternalIterator}.
 *
 * Walking forward, the returned key and value are the source's own arrays;
 * walking backward they are buffers of this iterator (the source has moved
 * past the entry by the time it is known to be the newest visible one).
 * Either way they are valid only until the next call to
 * {@link UserIterator.next}: copy them before that.
 *
 * @example Newest visible versions, tombstones hidden
 * ```ts
 * import assert from "node:assert/strict";
 * import { UserIterator } from "./user_iterator.ts";
 * import { MemTable } from "../memtable/memtable.ts";
 * import { TYPE_DELETE, TYPE_PUT } from "./internal_key.ts";
 *
 * const enc = (s: string) => new TextEncoder().encode(s);
 * const dec = (b: Uint8Array) => new TextDecoder().decode(b);
 * const mt = new MemTable();
 * mt.add(1, TYPE_PUT, enc("a"), enc("a1"));
 * mt.add(2, TYPE_PUT, enc("b"), enc("b2"));
 * mt.add(3, TYPE_PUT, enc("a"), enc("a3"));
 * mt.add(4, TYPE_DELETE, enc("b"), new Uint8Array(0));
 *
 * const scan = (snapshot: number, reverse: boolean) => {
 *   const it = new UserIterator(mt.iterator(), { snapshot, reverse });
 *   const out: string[] = [];
 *   for (let e = it.next(); e !== undefined; e = it.next()) {
 *     out.push(`${dec(e.key)}=${dec(e.value)}`);
 *   }
 *   return out.join(" ");
 * };
 * assert(scan(4, false) === "a=a3");
 * assert(scan(2, false) === "a=a1 b=b2");
 * assert(scan(3, true) === "b=b2 a=a3");
 * ```
 */
export class UserIterator {
  readonly #source: InternalIterator;
  readonly #snapshot: number;
  readonly #reverse: boolean;
  readonly #lower: Uint8Array | undefined;
  readonly #lowerInclusive: boolean;
  readonly #upper: Uint8Array | undefined;
  readonly #upperInclusive: boolean;
  readonly #ranges: RangeTombstoneIndex | undefined;
  #started = false;
  #done = false;
  /** The current user key: skipped forward, being resolved backward. */
  #saved: Uint8Array = new Uint8Array(64);
  #savedLen = -1;
  /** Walking backward: the newest visible value of the saved key so far. */
  #value: Uint8Array = new Uint8Array(0);
  #valueLen = 0;

  /**
   * Creates a scan over `source`. Nothing is read before the first call to
   * {@link UserIterator.next}; an empty or inverted range never touches
   * the source.
   *
   * @param source The internal stream; the user iterator positions it.
   * @param options Snapshot, direction and bounds.
   */
  constructor(source: InternalIterator, options: UserIteratorOptions) {
    this.#source = source;
    this.#snapshot = options.snapshot;
    this.#reverse = options.reverse;
    this.#lower = options.lower;
    this.#lowerInclusive = options.lowerInclusive ?? true;
    this.#upper = options.upper;
    this.#upperInclusive = options.upperInclusive ?? false;
    const ranges = options.rangeTombstones;
    this.#ranges = ranges === undefined || ranges.isEmpty ? undefined : ranges;
    const lower = this.#lower;
    const upper = this.#upper;
    if (lower !== undefined && upper !== undefined) {
      const c = compareBytes(lower, upper);
      if (
        c > 0 || (c === 0 && !(this.#lowerInclusive && this.#upperInclusive))
      ) {
        this.#done = true;
      }
    }
  }

  /**
   * Returns the next user-visible entry in the scan's direction.
   *
   * @returns The entry, or `undefined` when the scan is over.
   *
   * @example Bounds
   * ```ts
   * import assert from "node:assert/strict";
   * import { UserIterator } from "./user_iterator.ts";
   * import { MemTable } from "../memtable/memtable.ts";
   * import { TYPE_PUT } from "./internal_key.ts";
   *
   * const mt = new MemTable();
   * for (let i = 1; i <= 5; i++) {
   *   mt.add(i, TYPE_PUT, new Uint8Array([i]), new Uint8Array([i]));
   * }
   * const it = new UserIterator(mt.iterator(), {
   *   snapshot: 5,
   *   reverse: false,
   *   lower: new Uint8Array([2]),
   *   lowerInclusive: false,
   *   upper: new Uint8Array([4]),
   *   upperInclusive: true,
   * });
   * assert(it.next()!.key[0] === 3);
   * assert(it.next()!.key[0] === 4);
   * assert(it.next() === undefined);
   * ```
   */
  next(): UserEntry | undefined {
    if (this.#done) return undefined;
    return this.#reverse ? this.#prevEntry() : this.#nextEntry();
  }

  #nextEntry(): UserEntry | undefined {
    const src = this.#source;
    if (!this.#started) {
      this.#started = true;
      const lower = this.#lower;
      if (lower === undefined) {
        src.seekToFirst();
      } else {
        src.seek(lower, MAX_SEQUENCE);
        // An exclusive lower bound is a key to skip, like a shadowed one.
        if (!this.#lowerInclusive) this.#save(lower);
      }
    } else {
      // The source still stands on the entry returned last time.
      src.next();
    }
    const snapshot = this.#snapshot;
    const upper = this.#upper;
    for (; src.valid(); src.next()) {
      const key = src.key();
      if (
        this.#savedLen >= 0 && equalsSaved(key, this.#saved, this.#savedLen)
      ) {
        continue;
      }
      // Checked before visibility, so that invisible entries past the
      // bound do not keep the scan going.
      if (upper !== undefined) {
        const c = compareBytes(key, upper);
        if (c > 0 || (c === 0 && !this.#upperInclusive)) break;
      }
      if (src.seq() > snapshot) continue;
      // The newest visible version of a new key: older ones get skipped.
      this.#save(key);
      if (src.type() === TYPE_DELETE) continue;
      if (this.#ranges?.hides(key, src.seq(), snapshot)) continue;
      return { key, value: src.value() };
    }
    this.#done = true;
    return undefined;
  }

  #prevEntry(): UserEntry | undefined {
    const src = this.#source;
    if (!this.#started) {
      this.#started = true;
      const upper = this.#upper;
      if (upper === undefined) {
        src.seekToLast();
      } else if (this.#upperInclusive) {
        // (upper, 0) is the last possible entry of `upper`.
        src.seekForPrev(upper, 0);
      } else {
        src.seekForPrev(upper, MAX_SEQUENCE);
        while (src.valid() && compareBytes(src.key(), upper) >= 0) src.prev();
      }
    }
    // The source stands on the oldest version of the next key to resolve.
    // Versions arrive oldest first, so the last visible one seen wins.
    const snapshot = this.#snapshot;
    const lower = this.#lower;
    let found = false;
    let foundSeq = 0;
    this.#savedLen = -1;
    for (; src.valid(); src.prev()) {
      const key = src.key();
      if (
        this.#savedLen < 0 || !equalsSaved(key, this.#saved, this.#savedLen)
      ) {
        // A new key: the previous one is resolved.
        if (found && !this.#hiddenSaved(foundSeq)) return this.#savedEntry();
        found = false;
        if (lower !== undefined) {
          const c = compareBytes(key, lower);
          if (c < 0 || (c === 0 && !this.#lowerInclusive)) break;
        }
        this.#save(key);
      }
      if (src.seq() > snapshot) continue;
      if (src.type() === TYPE_DELETE) {
        found = false;
      } else {
        const value = src.value();
        this.#value = copyInto(this.#value, value);
        this.#valueLen = value.length;
        found = true;
        foundSeq = src.seq();
      }
    }
    this.#done = true;
    return found && !this.#hiddenSaved(foundSeq)
      ? this.#savedEntry()
      : undefined;
  }

  /** Whether a range tombstone hides the saved key's version at `seq`. */
  #hiddenSaved(seq: number): boolean {
    return this.#ranges !== undefined &&
      this.#ranges.hides(
        this.#saved.subarray(0, this.#savedLen),
        seq,
        this.#snapshot,
      );
  }

  #save(key: Uint8Array): void {
    this.#saved = copyInto(this.#saved, key);
    this.#savedLen = key.length;
  }

  #savedEntry(): UserEntry {
    return {
      key: this.#saved.subarray(0, this.#savedLen),
      value: this.#value.subarray(0, this.#valueLen),
    };
  }
}
