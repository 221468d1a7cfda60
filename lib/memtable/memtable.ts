/**
 * The memtable: recent writes, in internal order (user key ascending, then
 * sequence number descending), until they are flushed to an SSTable.
 *
 * It is a skip list (Pugh 1990, branching factor 4 as in LevelDB) whose
 * nodes live in one growable `Int32Array` arena instead of one JS object
 * per node. A node is the offset of its record in the arena:
 *
 * ```
 * +----+----+----+----+------+--------+--------+-------+-----+------+------+------+--------------+
 * | w0 | w1 | w2 | w3 | klen | seq hi | seq lo | chunk | off | vlen | type | prev | next[0..h-1] |
 * +----+----+----+----+------+--------+--------+-------+-----+------+------+------+--------------+
 *   w0..w3  key bytes 0..15 as big-endian u32 words (zero padded), sign bit
 *           flipped so that a signed int32 comparison is a memcmp
 *   klen    key length in bytes
 *   seq     sequence number: floor(seq / 2^32) and seq mod 2^32
 *   chunk   index of the byte chunk holding the key and value
 *   off     where the key starts in that chunk; the value follows it
 *   vlen    value length in bytes
 *   type    TYPE_PUT or TYPE_DELETE
 *   prev    previous node on the bottom level (0: none)
 *   next[i] next node on level i (0: none); h is the node's height
 * ```
 *
 * Why this shape: most comparisons are decided by the key words, so a
 * search touches one cache line per node instead of chasing the node, its
 * `next` array, the key's `Uint8Array` and its bytes, and an insert
 * allocates nothing but amortised arena growth. Measured with 16-byte
 * keys: 1M random inserts run about 5x faster than in a skip list of
 * `{ key, next: [] }` objects. A B+tree holding the same words in sorted
 * leaf arrays inserted 1.5x faster at 1M entries but 1.4x slower at the
 * size of a real memtable (25k entries for 4 MiB), and its entries move,
 * so its iterators would have to re-seek after inserts: not worth it.
 *
 * The memtable owns its bytes: `add` copies each key and value, side by
 * side, into 256 KiB chunks it bump-allocates (an entry over 64 KiB gets
 * a chunk of its own). Keeping the caller's arrays instead cost two
 * typed-array objects per entry (about 100 bytes of V8 heap each) that all
 * lived until the flush, so they were promoted to old space and the
 * garbage collector took a fifth of the write path. Now the heap holds
 * one object per chunk, and callers may reuse their buffers.
 *
 * Offset 0 is the head node (of full height), so 0 doubles as "none".
 * Nodes never move or get unlinked and chunks never move, so iterators
 * stay valid while entries are added; they hold an offset and re-read the
 * arena (which may have been replaced by a bigger copy) on every step.
 * Once flushed, a memtable is retired, and when its last iterator closes,
 * its chunks and arena go to a {@link MemTablePool} for the next memtable
 * (lib/memtable_pool.ts).
 *
 * @module
 */

import type { EntryType, InternalIterator } from "../iterator/internal_key.ts";
import {
  type RangeTombstone,
  RangeTombstoneIndex,
} from "../iterator/range_tombstones.ts";
import type { MemTablePool } from "./memtable_pool.ts";

const W0 = 0;
const W1 = 1;
const W2 = 2;
const W3 = 3;
const KLEN = 4;
const SEQ_HI = 5;
const SEQ_LO = 6;
const CHUNK = 7;
const OFFSET = 8;
const VLEN = 9;
const TYPE = 10;
const PREV = 11;
const NEXT = 12;
/** Bytes of a key held inline in a node record (four u32 words). */
const INLINE_BYTES = 16;
/** 4^12 = 16M entries before the list degrades, far above any memtable. */
const MAX_HEIGHT = 12;
const HEAD = 0;
const TWO_POW_32 = 4294967296;
// Bytes a range tombstone is counted for besides its keys.
const RANGE_TOMBSTONE_OVERHEAD = 48;

/** What {@link MemTable.get} found: the newest visible version of a key. */
export interface MemTableHit {
  /** `TYPE_PUT` or `TYPE_DELETE`. */
  type: EntryType;
  /** The value, a view of the memtable's bytes (empty for a tombstone). */
  value: Uint8Array;
  /** The version's sequence number. */
  seq: number;
}
/**
 * Estimated bytes per entry besides key and value: the node record, 12
 * words plus 4/3 `next` words at the average height, about 53 bytes,
 * rounded up. Flushes trigger on key + value + this.
 */
const ENTRY_OVERHEAD = 56;
/** Room for about 900 nodes before the first arena growth. */
const INITIAL_ARENA = 12 * 1024;
/**
 * Size of a shared byte chunk: big enough that chunk objects are few (16
 * for a 4 MiB memtable), small enough that a tiny memtable wastes little.
 */
const CHUNK_BYTES = 256 * 1024;
/** Size of the chunks memtables fill, for sizing a `MemTablePool`. */
export const MEMTABLE_CHUNK_BYTES: number = CHUNK_BYTES;
/**
 * Entries (key + value) above this get a chunk of their own, so a shared
 * chunk never wastes more than this at its end and a huge value is never
 * copied twice into a half-used chunk.
 */
const LARGE_ENTRY = 64 * 1024;
/** What key() and value() return before the iterator is first positioned. */
const EMPTY = new Uint8Array(0);

/** Big-endian u32 of `key[i..i+3]`, zero padded, sign flipped (see above). */
function keyWord(key: Uint8Array, i: number, len: number): number {
  if (i + 4 <= len) {
    return ((key[i]! << 24) | (key[i + 1]! << 16) | (key[i + 2]! << 8) |
      key[i + 3]!) ^ 0x80000000;
  }
  let w = 0;
  for (let j = 0; j < 4; j++) w = (w << 8) | (i + j < len ? key[i + j]! : 0);
  return w ^ 0x80000000;
}

/**
 * memcmp of the bytes after the inline ones of a stored key (`alen` bytes
 * at `chunk[at..]`) and `key`, then of the lengths.
 */
function compareTail(
  chunk: Uint8Array,
  at: number,
  alen: number,
  key: Uint8Array,
  len: number,
): number {
  const n = alen < len ? alen : len;
  for (let i = INLINE_BYTES; i < n; i++) {
    const d = chunk[at + i]! - key[i]!;
    if (d !== 0) return d;
  }
  return alen - len;
}

/**
 * A memtable's contents packed into one `ArrayBuffer`, so that a flush can
 * transfer it to a Worker (and get it back for the next flush) instead of
 * having it cloned: the node records first, then each byte chunk.
 */
export interface MemTableImage {
  /** Node records, then the chunks, back to back. */
  buffer: ArrayBuffer;
  /** Number of node records' words (the arena's used length). */
  arenaLength: number;
  /** Byte length of each chunk, in chunk order. */
  chunkLengths: number[];
  /** Height of the skip list. */
  height: number;
  /** Entries. */
  count: number;
  /** Approximate bytes. */
  bytes: number;
}

/**
 * The skip list itself, kept apart from {@link MemTable} so that its
 * iterator can reach the arena, and with plain methods (private `#`
 * methods pay a brand check on every call in this hot path).
 */
class SkipList {
  /** Node records; see the module comment. Replaced when it grows. */
  arena: Int32Array;
  /** Where chunks and the arena come from, and go back to. */
  readonly pool: MemTablePool | undefined;
  /** Key and value bytes; a node's CHUNK indexes this. */
  readonly chunks: Uint8Array[] = [];
  /** The shared chunk being filled (none until the first add). */
  chunk: Uint8Array = EMPTY;
  chunkIndex = -1;
  /** Bytes of `chunk` in use. */
  used = 0;
  /** Last node of each level: the predecessors of an appended key. */
  readonly last: Int32Array = new Int32Array(MAX_HEIGHT);
  readonly prevs: Int32Array = new Int32Array(MAX_HEIGHT);
  /** xorshift32 state, in a typed array so it never becomes a heap number. */
  readonly rng: Uint32Array = new Uint32Array([0x2545f491]);
  top: number = NEXT + MAX_HEIGHT;
  height = 1;
  bytes = 0;
  count = 0;

  constructor(pool: MemTablePool | undefined) {
    this.pool = pool;
    this.arena = pool?.takeArena() ?? new Int32Array(INITIAL_ARENA);
  }

  add(seq: number, type: EntryType, key: Uint8Array, value: Uint8Array): void {
    const len = key.length;
    const w0 = keyWord(key, 0, len);
    const w1 = keyWord(key, 4, len);
    const w2 = keyWord(key, 8, len);
    const w3 = keyWord(key, 12, len);
    const last = this.last;
    const tail = last[0]!;
    let prevs: Int32Array;
    // Sequential fills append: after one comparison with the tail, the last
    // node of every level is the predecessor (HEAD above the list height).
    if (
      tail !== HEAD && this.compareNode(tail, key, w0, w1, w2, w3, len, seq) < 0
    ) {
      prevs = last;
    } else {
      prevs = this.prevs;
      this.search(key, w0, w1, w2, w3, len, seq, prevs);
    }

    const h = this.randomHeight();
    if (h > this.height) {
      for (let l = this.height; l < h; l++) prevs[l] = HEAD;
      this.height = h;
    }
    const node = this.top;
    const end = node + NEXT + h;
    if (end > this.arena.length) this.grow(end);
    this.top = end;
    this.store(node, key, value);
    const a = this.arena;
    a[node + W0] = w0;
    a[node + W1] = w1;
    a[node + W2] = w2;
    a[node + W3] = w3;
    a[node + KLEN] = len;
    a[node + SEQ_HI] = Math.floor(seq / TWO_POW_32);
    a[node + SEQ_LO] = seq >>> 0;
    a[node + TYPE] = type;
    const p0 = prevs[0]!;
    a[node + PREV] = p0;
    for (let l = 0; l < h; l++) {
      const p = prevs[l]!;
      const n = a[p + NEXT + l]!;
      a[node + NEXT + l] = n;
      a[p + NEXT + l] = node;
      if (n === HEAD) last[l] = node;
    }
    const n0 = a[node + NEXT]!;
    if (n0 !== HEAD) a[n0 + PREV] = node;
    this.bytes += len + value.length + ENTRY_OVERHEAD;
    this.count++;
  }

  /** Copies `key` then `value` into a chunk and records where in `node`. */
  store(node: number, key: Uint8Array, value: Uint8Array): void {
    const size = key.length + value.length;
    let chunk: Uint8Array;
    let index: number;
    let at: number;
    if (size > LARGE_ENTRY) {
      chunk = new Uint8Array(size);
      index = this.chunks.length;
      this.chunks.push(chunk);
      at = 0;
    } else {
      if (this.used + size > this.chunk.length) {
        this.chunk = this.pool?.takeChunk() ?? new Uint8Array(CHUNK_BYTES);
        this.chunkIndex = this.chunks.length;
        this.chunks.push(this.chunk);
        this.used = 0;
      }
      chunk = this.chunk;
      index = this.chunkIndex;
      at = this.used;
      this.used = at + size;
    }
    chunk.set(key, at);
    chunk.set(value, at + key.length);
    const a = this.arena;
    a[node + CHUNK] = index;
    a[node + OFFSET] = at;
    a[node + VLEN] = value.length;
  }

  /** The key of `node`, a view of its chunk. */
  keyOf(node: number): Uint8Array {
    const a = this.arena;
    const at = a[node + OFFSET]!;
    return this.chunks[a[node + CHUNK]!]!.subarray(at, at + a[node + KLEN]!);
  }

  /** The value of `node`, a view of its chunk. */
  valueOf(node: number): Uint8Array {
    const a = this.arena;
    const at = a[node + OFFSET]! + a[node + KLEN]!;
    return this.chunks[a[node + CHUNK]!]!.subarray(at, at + a[node + VLEN]!);
  }

  get(key: Uint8Array, seq: number): MemTableHit | undefined {
    const len = key.length;
    const w0 = keyWord(key, 0, len);
    const w1 = keyWord(key, 4, len);
    const w2 = keyWord(key, 8, len);
    const w3 = keyWord(key, 12, len);
    const node = this.search(key, w0, w1, w2, w3, len, seq, null);
    if (node === HEAD) return undefined;
    const a = this.arena;
    if (
      a[node + W0] !== w0 || a[node + W1] !== w1 || a[node + W2] !== w2 ||
      a[node + W3] !== w3 || a[node + KLEN] !== len
    ) return undefined;
    if (
      len > INLINE_BYTES &&
      compareTail(
          this.chunks[a[node + CHUNK]!]!,
          a[node + OFFSET]!,
          len,
          key,
          len,
        ) !== 0
    ) {
      return undefined;
    }
    return {
      type: a[node + TYPE] as EntryType,
      value: this.valueOf(node),
      seq: a[node + SEQ_HI]! * TWO_POW_32 + (a[node + SEQ_LO]! >>> 0),
    };
  }

  /** Compares node `n` with the search key: negative when `n` sorts first. */
  compareNode(
    n: number,
    key: Uint8Array,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    len: number,
    seq: number,
  ): number {
    const a = this.arena;
    let d = a[n + W0]! - w0;
    if (d !== 0) return d;
    d = a[n + W1]! - w1;
    if (d !== 0) return d;
    d = a[n + W2]! - w2;
    if (d !== 0) return d;
    d = a[n + W3]! - w3;
    if (d !== 0) return d;
    const nlen = a[n + KLEN]!;
    if (nlen > INLINE_BYTES || len > INLINE_BYTES) {
      d = compareTail(
        this.chunks[a[n + CHUNK]!]!,
        a[n + OFFSET]!,
        nlen,
        key,
        len,
      );
    } else {
      d = nlen - len;
    }
    if (d !== 0) return d;
    return seq - (a[n + SEQ_HI]! * TWO_POW_32 + (a[n + SEQ_LO]! >>> 0));
  }

  /**
   * Finds the first node >= (key, seq), or HEAD when there is none; fills
   * `prevs[l]` with the last node < (key, seq) on each level l.
   */
  search(
    key: Uint8Array,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    len: number,
    seq: number,
    prevs: Int32Array | null,
  ): number {
    const a = this.arena;
    let x = HEAD;
    let level = this.height - 1;
    // The node that stopped the previous level often stops this one too:
    // LevelDB's trick to skip a comparison already made.
    let notBefore = HEAD;
    for (;;) {
      const n = a[x + NEXT + level]!;
      if (
        n !== HEAD && n !== notBefore &&
        this.compareNode(n, key, w0, w1, w2, w3, len, seq) < 0
      ) {
        x = n;
      } else {
        if (prevs !== null) prevs[level] = x;
        if (level === 0) return n;
        notBefore = n;
        level--;
      }
    }
  }

  /** First node >= (key, seq), or HEAD when there is none. */
  seek(key: Uint8Array, seq: number): number {
    const len = key.length;
    return this.search(
      key,
      keyWord(key, 0, len),
      keyWord(key, 4, len),
      keyWord(key, 8, len),
      keyWord(key, 12, len),
      len,
      seq,
      null,
    );
  }

  /** Last node <= (key, seq), or HEAD when there is none. */
  seekForPrev(key: Uint8Array, seq: number): number {
    const len = key.length;
    const w0 = keyWord(key, 0, len);
    const w1 = keyWord(key, 4, len);
    const w2 = keyWord(key, 8, len);
    const w3 = keyWord(key, 12, len);
    const n = this.search(key, w0, w1, w2, w3, len, seq, null);
    if (n === HEAD) return this.last[0]!;
    if (this.compareNode(n, key, w0, w1, w2, w3, len, seq) === 0) return n;
    return this.arena[n + PREV]!;
  }

  randomHeight(): number {
    // xorshift32: cheap, and a skip list needs no better randomness.
    let r = this.rng[0]!;
    r ^= r << 13;
    r ^= r >>> 17;
    r ^= r << 5;
    this.rng[0] = r;
    // Two random bits per level: each level holds 1/4 of the one below.
    let h = 1;
    while (h < MAX_HEIGHT && (r & 3) === 0) {
      h++;
      r >>>= 2;
    }
    return h;
  }

  grow(need: number): void {
    let size = this.arena.length * 2;
    while (size < need) size *= 2;
    const bigger = new Int32Array(size);
    bigger.set(this.arena);
    this.arena = bigger;
  }
}

/**
 * An ordered in-memory table of internal entries (user key, sequence
 * number, type, value), sorted by user key ascending then sequence number
 * descending. Single writer; any number of iterators, which stay valid and
 * see new entries while entries are added.
 *
 * @example Newest visible version of a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemTable } from "./memtable.ts";
 * import { TYPE_DELETE, TYPE_PUT } from "../iterator/internal_key.ts";
 *
 * const enc = (s: string) => new TextEncoder().encode(s);
 * const mt = new MemTable();
 * mt.add(1, TYPE_PUT, enc("a"), enc("one"));
 * mt.add(2, TYPE_PUT, enc("a"), enc("two"));
 * mt.add(3, TYPE_DELETE, enc("a"), new Uint8Array(0));
 *
 * assert(new TextDecoder().decode(mt.get(enc("a"), 2)!.value) === "two");
 * assert(mt.get(enc("a"), 3)!.type === TYPE_DELETE);
 * assert(mt.get(enc("a"), 0) === undefined);
 * assert(mt.count === 3);
 * ```
 */
export class MemTable {
  readonly #list: SkipList;
  /** Open iterators: the memory is not recycled while one may read it. */
  #readers = 0;
  #retired = false;
  #recycled = false;
  readonly #rangeTombstones: RangeTombstone[] = [];
  #rangeIndex: RangeTombstoneIndex | undefined;
  #rangeBytes = 0;

  /**
   * @param pool Recycled memory to fill, and to give back to once the
   * memtable is {@link MemTable.retire}d (none: the garbage collector's).
   */
  constructor(pool?: MemTablePool) {
    this.#list = new SkipList(pool);
  }

  /**
   * Says the owner is done with the memtable (it was flushed). Its memory
   * goes back to the pool once the last open iterator is closed; nothing
   * may read the memtable afterwards but those iterators.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable, MEMTABLE_CHUNK_BYTES } from "./memtable.ts";
   * import { MemTablePool } from "./memtable_pool.ts";
   * const pool = new MemTablePool(1 << 20, MEMTABLE_CHUNK_BYTES);
   * const mem = new MemTable(pool);
   * mem.add(1, 1, new Uint8Array([7]), new Uint8Array([42]));
   * const it = mem.iterator();
   * mem.retire();
   * assert.equal(pool.takeChunk(), undefined, "an iterator still reads it");
   * it.close();
   * assert.notEqual(pool.takeChunk(), undefined);
   * ```
   */
  retire(): void {
    this.#retired = true;
    if (this.#readers === 0) this.#recycle();
  }

  #recycle(): void {
    if (this.#recycled) return;
    this.#recycled = true;
    const l = this.#list;
    l.pool?.give(l.chunks, l.arena, l.top);
    // Dead from here on: a stray reader finds nothing rather than the
    // entries of whichever memtable refills this memory.
    l.chunks.length = 0;
    l.arena = new Int32Array(NEXT + MAX_HEIGHT);
    l.top = NEXT + MAX_HEIGHT;
  }

  /** Bytes {@link MemTable.toImage} packs. */
  get imageByteLength(): number {
    const l = this.#list;
    let n = l.top * 4;
    for (let i = 0; i < l.chunks.length; i++) n += this.#chunkLength(i);
    return n;
  }

  /**
   * Packs the memtable's contents (node records and byte chunks) into one
   * buffer, for posting to a Worker that writes it to a table. The copy
   * is the image's own: the memtable may change afterwards.
   *
   * @param reuse A buffer to pack into when it is large enough (a previous
   * image's, handed back); otherwise a new one is allocated.
   * @returns The image.
   *
   * @example Rebuild a readable copy
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * const mem = new MemTable();
   * mem.add(1, 1, new Uint8Array([7]), new Uint8Array([42]));
   * const copy = MemTable.fromImage(mem.toImage());
   * assert.deepEqual(copy.get(new Uint8Array([7]), 1)?.value, new Uint8Array([42]));
   * ```
   */
  toImage(reuse?: ArrayBuffer): MemTableImage {
    const l = this.#list;
    const size = this.imageByteLength;
    const buffer = reuse !== undefined && reuse.byteLength >= size
      ? reuse
      : new ArrayBuffer(size);
    new Int32Array(buffer, 0, l.top).set(l.arena.subarray(0, l.top));
    let at = l.top * 4;
    const chunkLengths: number[] = [];
    for (let i = 0; i < l.chunks.length; i++) {
      const n = this.#chunkLength(i);
      new Uint8Array(buffer, at, n).set(l.chunks[i]!.subarray(0, n));
      chunkLengths.push(n);
      at += n;
    }
    return {
      buffer,
      arenaLength: l.top,
      chunkLengths,
      height: l.height,
      count: l.count,
      bytes: l.bytes,
    };
  }

  /**
   * A memtable for reading (get, iterate) over an image from
   * {@link MemTable.toImage}, sharing its buffer. Adding to it is not
   * supported.
   *
   * @param image The image.
   * @returns The memtable.
   */
  static fromImage(image: MemTableImage): MemTable {
    const mem = new MemTable();
    const l = mem.#list;
    l.arena = new Int32Array(image.buffer, 0, image.arenaLength);
    let at = image.arenaLength * 4;
    for (const n of image.chunkLengths) {
      l.chunks.push(new Uint8Array(image.buffer, at, n));
      at += n;
    }
    l.top = image.arenaLength;
    l.height = image.height;
    l.count = image.count;
    l.bytes = image.bytes;
    return mem;
  }

  /** Bytes of chunk `i` in use (the open chunk is partly filled). */
  #chunkLength(i: number): number {
    const l = this.#list;
    return i === l.chunkIndex ? l.used : l.chunks[i]!.length;
  }

  /**
   * Adds an entry. The memtable copies `key` and `value` into chunks of
   * its own, so the caller may change or reuse both arrays as soon as
   * this returns. The same (key, seq) pair must not be added twice.
   *
   * @param seq Sequence number, a safe integer >= 0.
   * @param type `TYPE_PUT` or `TYPE_DELETE`.
   * @param key User key.
   * @param value Value (empty for a tombstone).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const mt = new MemTable();
   * const key = new Uint8Array([1]);
   * mt.add(7, TYPE_PUT, key, new Uint8Array([2]));
   * key[0] = 5; // the memtable holds its own copy
   * assert(mt.get(new Uint8Array([1]), 7)!.value[0] === 2);
   * assert(mt.approximateBytes > 2);
   * ```
   */
  add(seq: number, type: EntryType, key: Uint8Array, value: Uint8Array): void {
    this.#list.add(seq, type, key, value);
  }

  /**
   * Looks up the newest entry of exactly `key` whose sequence number is at
   * most `seq`. A tombstone is returned (type `TYPE_DELETE`) so the
   * caller knows not to look in older tables.
   *
   * @param key User key.
   * @param seq Largest visible sequence number (a snapshot).
   * @returns The entry's type and value, or `undefined` when this memtable
   * holds no visible version of `key`. The value is a view of the
   * memtable's own bytes: copy it before handing it out or changing it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const mt = new MemTable();
   * mt.add(5, TYPE_PUT, new Uint8Array([9]), new Uint8Array([1]));
   * assert(mt.get(new Uint8Array([9]), 5)!.value[0] === 1);
   * assert(mt.get(new Uint8Array([9]), 4) === undefined);
   * ```
   */
  get(key: Uint8Array, seq: number): MemTableHit | undefined {
    return this.#list.get(key, seq);
  }

  /**
   * Adds a range tombstone (`DB.deleteRange`): it hides the versions of
   * keys in `[start, end)` older than `seq`. The memtable keeps copies.
   *
   * @param seq Sequence number of the deletion.
   * @param start First key deleted.
   * @param end First key not deleted (empty: no end).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * const mt = new MemTable();
   * mt.addRangeTombstone(3, new Uint8Array([1]), new Uint8Array([5]));
   * assert.equal(mt.rangeTombstoneIndex().newestCovering(new Uint8Array([2]), 9), 3);
   * assert(!mt.isEmpty && mt.count === 0);
   * ```
   */
  addRangeTombstone(seq: number, start: Uint8Array, end: Uint8Array): void {
    this.#rangeTombstones.push({ start: start.slice(), end: end.slice(), seq });
    this.#rangeBytes += start.length + end.length + RANGE_TOMBSTONE_OVERHEAD;
    this.#rangeIndex = undefined;
  }

  /** The range tombstones added, oldest first (do not mutate). */
  get rangeTombstones(): readonly RangeTombstone[] {
    return this.#rangeTombstones;
  }

  /**
   * The range tombstones as an index for lookups, built on first use after
   * a change.
   *
   * @returns The index ({@link RangeTombstoneIndex.EMPTY} when none).
   */
  rangeTombstoneIndex(): RangeTombstoneIndex {
    this.#rangeIndex ??= RangeTombstoneIndex.build([this.#rangeTombstones]);
    return this.#rangeIndex;
  }

  /** True when the memtable holds neither entries nor range tombstones. */
  get isEmpty(): boolean {
    return this.#list.count === 0 && this.#rangeTombstones.length === 0;
  }

  /**
   * Key and value bytes plus an estimate of the per-entry overhead (56
   * bytes, the size of a node record): about what a flush of this
   * memtable writes and what it holds in memory. The engine flushes when
   * this passes `memtableSize`.
   *
   * @returns The estimate in bytes.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * assert(new MemTable().approximateBytes === 0);
   * ```
   */
  get approximateBytes(): number {
    return this.#list.bytes + this.#rangeBytes;
  }

  /**
   * Number of entries (every version and tombstone counts).
   *
   * @returns The entry count.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * assert(new MemTable().count === 0);
   * ```
   */
  get count(): number {
    return this.#list.count;
  }

  /**
   * Returns a new iterator over every entry in internal order. It starts
   * unpositioned (not valid): call a seek method first. Entries added
   * later are seen when the iterator walks past their position. `key()`
   * and `value()` return views of the memtable's own bytes that stay
   * unchanged as long as the memtable lives; callers must not mutate them.
   *
   * @returns An {@link InternalIterator}.
   *
   * @example Walk newest versions first
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemTable } from "./memtable.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const mt = new MemTable();
   * const k = new Uint8Array([1]);
   * mt.add(1, TYPE_PUT, k, new Uint8Array(0));
   * mt.add(2, TYPE_PUT, k, new Uint8Array(0));
   * const seqs: number[] = [];
   * const it = mt.iterator();
   * for (it.seekToFirst(); it.valid(); it.next()) seqs.push(it.seq());
   * assert(seqs.join() === "2,1");
   * ```
   */
  iterator(): InternalIterator {
    this.#readers++;
    return new MemTableIterator(this.#list, () => {
      if (--this.#readers === 0 && this.#retired) this.#recycle();
    });
  }
}

/**
 * Cursor over a {@link SkipList}: a node offset (HEAD when not valid). The
 * engine asks for the key of an entry several times (merging, snapshot
 * checks, bounds), so the views of the current entry are cached.
 */
class MemTableIterator implements InternalIterator {
  readonly #list: SkipList;
  readonly #onClose: () => void;
  #closed = false;
  #node = HEAD;
  /** Node whose key `#key` is (HEAD: none). */
  #keyNode = HEAD;
  #key: Uint8Array = EMPTY;
  /** Node whose value `#value` is (HEAD: none). */
  #valueNode = HEAD;
  #value: Uint8Array = EMPTY;

  constructor(list: SkipList, onClose: () => void) {
    this.#list = list;
    this.#onClose = onClose;
  }

  valid(): boolean {
    return this.#node !== HEAD;
  }

  seekToFirst(): void {
    this.#node = this.#list.arena[HEAD + NEXT]!;
  }

  seekToLast(): void {
    this.#node = this.#list.last[0]!;
  }

  seek(key: Uint8Array, seq: number): void {
    this.#node = this.#list.seek(key, seq);
  }

  seekForPrev(key: Uint8Array, seq: number): void {
    this.#node = this.#list.seekForPrev(key, seq);
  }

  next(): void {
    this.#node = this.#list.arena[this.#node + NEXT]!;
  }

  prev(): void {
    this.#node = this.#list.arena[this.#node + PREV]!;
  }

  key(): Uint8Array {
    // Nodes and chunks never change, so a view stays right for its node.
    if (this.#keyNode !== this.#node) {
      this.#keyNode = this.#node;
      this.#key = this.#list.keyOf(this.#node);
    }
    return this.#key;
  }

  seq(): number {
    const a = this.#list.arena;
    return a[this.#node + SEQ_HI]! * TWO_POW_32 +
      (a[this.#node + SEQ_LO]! >>> 0);
  }

  type(): EntryType {
    return this.#list.arena[this.#node + TYPE] as EntryType;
  }

  value(): Uint8Array {
    if (this.#valueNode !== this.#node) {
      this.#valueNode = this.#node;
      this.#value = this.#list.valueOf(this.#node);
    }
    return this.#value;
  }

  close(): void {
    this.#node = HEAD;
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }
}
