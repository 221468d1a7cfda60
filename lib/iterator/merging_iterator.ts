/**
 * The merging iterator: one sorted stream out of several, as LevelDB's
 * `table/merger.cc`. Scans put one over the memtables and the SSTables.
 *
 * The children sit in a binary heap keyed by their current entry (a
 * min-heap walking forward, a max-heap walking backward), so a step costs
 * O(log n) comparisons. The current key and sequence number of each child
 * are cached so comparisons make no calls into the children.
 *
 * Ties: the merged order is (user key asc, seq desc, child index asc), so
 * on an equal (key, seq) the child with the lower index comes first when
 * walking forward; walking backward yields exactly the reverse sequence.
 *
 * @module
 */

import type { EntryType, InternalIterator } from "./internal_key.ts";

/** Total order of the current entries of children `i` and `j`. */
function compareChildren(
  keys: Uint8Array[],
  seqs: Float64Array,
  i: number,
  j: number,
): number {
  const a = keys[i]!;
  const b = keys[j]!;
  const n = a.length < b.length ? a.length : b.length;
  for (let k = 0; k < n; k++) {
    const d = a[k]! - b[k]!;
    if (d !== 0) return d;
  }
  if (a.length !== b.length) return a.length - b.length;
  const s = seqs[j]! - seqs[i]!;
  return s !== 0 ? s : i - j;
}

/** Compares the current entry of a child with (key, seq), index aside. */
function compareChildWith(
  keys: Uint8Array[],
  seqs: Float64Array,
  i: number,
  key: Uint8Array,
  seq: number,
): number {
  const a = keys[i]!;
  const n = a.length < key.length ? a.length : key.length;
  for (let k = 0; k < n; k++) {
    const d = a[k]! - key[k]!;
    if (d !== 0) return d;
  }
  if (a.length !== key.length) return a.length - key.length;
  return seq - seqs[i]!;
}

/**
 * Merges several {@link InternalIterator}s into one in internal order,
 * in both directions, switching direction at any point. Children must not
 * be used by anyone else while the merging iterator is in use.
 *
 * @example Merge two memtables
 * ```ts
 * import assert from "node:assert/strict";
 * import { MergingIterator } from "./merging_iterator.ts";
 * import { MemTable } from "../memtable/memtable.ts";
 * import { TYPE_PUT } from "./internal_key.ts";
 *
 * const a = new MemTable();
 * const b = new MemTable();
 * a.add(1, TYPE_PUT, new Uint8Array([1]), new Uint8Array(0));
 * b.add(2, TYPE_PUT, new Uint8Array([2]), new Uint8Array(0));
 * a.add(3, TYPE_PUT, new Uint8Array([3]), new Uint8Array(0));
 *
 * const it = new MergingIterator([a.iterator(), b.iterator()]);
 * const seen: number[] = [];
 * for (it.seekToFirst(); it.valid(); it.next()) seen.push(it.key()[0]!);
 * assert(seen.join() === "1,2,3");
 * it.prev();
 * assert(!it.valid());
 * it.seekToLast();
 * it.prev();
 * assert(it.key()[0] === 2);
 * ```
 */
export class MergingIterator implements InternalIterator {
  readonly #children: InternalIterator[];
  /** Current key of each valid child (the child's own array, not a copy). */
  readonly #keys: Uint8Array[];
  readonly #seqs: Float64Array;
  /** Indices of the valid children; heap[0] is the current one. */
  readonly #heap: Int32Array;
  #size = 0;
  #forward = true;

  /**
   * Creates an unpositioned merging iterator: call a seek method first.
   *
   * @param children The iterators to merge, in priority order for equal
   * entries. Their positions are reset by the first seek.
   */
  constructor(children: InternalIterator[]) {
    this.#children = children;
    this.#keys = new Array<Uint8Array>(children.length).fill(
      new Uint8Array(0),
    );
    this.#seqs = new Float64Array(children.length);
    this.#heap = new Int32Array(children.length);
  }

  /**
   * Tells whether the iterator stands on an entry.
   *
   * @returns True while the iterator stands on an entry.
   */
  valid(): boolean {
    return this.#size > 0;
  }

  /** Moves to the first entry of all children. */
  seekToFirst(): void {
    for (const child of this.#children) child.seekToFirst();
    this.#rebuild(true);
  }

  /** Moves to the last entry of all children. */
  seekToLast(): void {
    for (const child of this.#children) child.seekToLast();
    this.#rebuild(false);
  }

  /**
   * Moves to the first entry at or after `(key, seq)`.
   *
   * @param key User key.
   * @param seq Sequence number.
   */
  seek(key: Uint8Array, seq: number): void {
    for (const child of this.#children) child.seek(key, seq);
    this.#rebuild(true);
  }

  /**
   * Moves to the last entry at or before `(key, seq)`.
   *
   * @param key User key.
   * @param seq Sequence number.
   */
  seekForPrev(key: Uint8Array, seq: number): void {
    for (const child of this.#children) child.seekForPrev(key, seq);
    this.#rebuild(false);
  }

  /** Moves to the next entry. */
  next(): void {
    if (!this.#forward) this.#turn(true);
    const top = this.#heap[0]!;
    const child = this.#children[top]!;
    child.next();
    this.#replaceTop(top, child);
  }

  /** Moves to the previous entry. */
  prev(): void {
    if (this.#forward) this.#turn(false);
    const top = this.#heap[0]!;
    const child = this.#children[top]!;
    child.prev();
    this.#replaceTop(top, child);
  }

  /**
   * The user key of the current entry: the child's own array.
   *
   * @returns The user key.
   */
  key(): Uint8Array {
    return this.#keys[this.#heap[0]!]!;
  }

  /**
   * The sequence number of the current entry.
   *
   * @returns The sequence number.
   */
  seq(): number {
    return this.#seqs[this.#heap[0]!]!;
  }

  /**
   * The type of the current entry.
   *
   * @returns `TYPE_PUT` or `TYPE_DELETE`.
   */
  type(): EntryType {
    return this.#children[this.#heap[0]!]!.type();
  }

  /**
   * The value of the current entry: the child's own array.
   *
   * @returns The value (empty for a tombstone).
   */
  value(): Uint8Array {
    return this.#children[this.#heap[0]!]!.value();
  }

  /** Closes every child; the merging iterator is unpositioned. */
  close(): void {
    for (const child of this.#children) child.close();
    this.#size = 0;
  }

  /**
   * Changes direction (LevelDB's merger.cc): every child but the current
   * one is moved to the entry just past the current entry in the new
   * direction, then the heap is rebuilt the other way round.
   */
  #turn(forward: boolean): void {
    const cur = this.#heap[0]!;
    const key = this.#keys[cur]!;
    const seq = this.#seqs[cur]!;
    const children = this.#children;
    const keys = this.#keys;
    const seqs = this.#seqs;
    for (let i = 0; i < children.length; i++) {
      if (i === cur) continue;
      const child = children[i]!;
      if (forward) {
        child.seek(key, seq);
        // An equal entry in a lower child sorts before the current one.
        if (child.valid() && i < cur) {
          keys[i] = child.key();
          seqs[i] = child.seq();
          if (compareChildWith(keys, seqs, i, key, seq) === 0) child.next();
        }
      } else {
        child.seekForPrev(key, seq);
        // An equal entry in a higher child sorts after the current one.
        if (child.valid() && i > cur) {
          keys[i] = child.key();
          seqs[i] = child.seq();
          if (compareChildWith(keys, seqs, i, key, seq) === 0) child.prev();
        }
      }
    }
    this.#rebuild(forward);
  }

  /** Collects the valid children and heapifies them for `forward`. */
  #rebuild(forward: boolean): void {
    this.#forward = forward;
    const children = this.#children;
    const heap = this.#heap;
    let size = 0;
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (child.valid()) {
        this.#keys[i] = child.key();
        this.#seqs[i] = child.seq();
        heap[size++] = i;
      }
    }
    this.#size = size;
    for (let p = (size >> 1) - 1; p >= 0; p--) this.#siftDown(p);
  }

  /** After the top child moved: refresh its cache, or drop it when done. */
  #replaceTop(top: number, child: InternalIterator): void {
    if (child.valid()) {
      this.#keys[top] = child.key();
      this.#seqs[top] = child.seq();
    } else {
      const last = --this.#size;
      if (last === 0) return;
      this.#heap[0] = this.#heap[last]!;
    }
    this.#siftDown(0);
  }

  #siftDown(p: number): void {
    const heap = this.#heap;
    const keys = this.#keys;
    const seqs = this.#seqs;
    const size = this.#size;
    // Walking backward the heap is a max-heap: flip every comparison.
    const sign = this.#forward ? 1 : -1;
    const item = heap[p]!;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= size) break;
      let child = heap[c]!;
      if (c + 1 < size) {
        const right = heap[c + 1]!;
        if (sign * compareChildren(keys, seqs, right, child) < 0) {
          c++;
          child = right;
        }
      }
      if (sign * compareChildren(keys, seqs, item, child) <= 0) break;
      heap[p] = child;
      p = c;
    }
    heap[p] = item;
  }
}
