/**
 * Blocks: the unit an SSTable reads, checksums and caches. A block holds
 * internal keys in increasing internal order, prefix-compressed against the
 * previous key, with a restart point every `restartInterval` entries where
 * the key is stored whole, so a seek can binary-search the restarts.
 *
 * ```
 * +---------+---------+-----+-----------+-----------------------+----------+
 * | entry 0 | entry 1 | ... | entry n-1 | restart[0..r) u32 LE… | r u32 LE |
 * +---------+---------+-----+-----------+-----------------------+----------+
 *
 * entry: varint shared | varint unshared | varint valueLen |
 *        key delta (unshared bytes) | value (valueLen bytes)
 * ```
 *
 * The key is the internal key: user key ‖ 8-byte trailer (type, seq; see
 * lib/sstable_format.ts). `shared` is the length of the prefix it shares
 * with the previous entry's key, 0 at every restart point. restart[0] is 0.
 * An empty block is the restart array `[0]` and count 1 (8 bytes).
 *
 * @module
 */

import { CorruptionError } from "../util/errors.ts";
import {
  type EntryType,
  type InternalIterator,
  MAX_SEQUENCE,
} from "../iterator/internal_key.ts";
import {
  type Cursor,
  getVarint,
  INTERNAL_TRAILER_SIZE,
  readTrailerSeq,
  writeTrailer,
} from "./sstable_format.ts";

/** Restart interval of data blocks (LevelDB's default). */
export const DEFAULT_RESTART_INTERVAL = 16;

const T = INTERNAL_TRAILER_SIZE;
// Buffers above this size are dropped on reset, so one huge entry does not
// pin megabytes for the rest of a writer's life.
const SHRINK_ABOVE = 1 << 20;
// Materialized keys are carved out of slabs shared by every iterator: a
// fresh small ArrayBuffer costs about 240 ns in Deno 2.9.6, a view of a
// slab about 20. Shared, because a 16 KiB arena per iterator made each
// short scan (a seek and 100 entries over a dozen sources) allocate about
// 18 KB it hardly used: 358 MB in bench:peers' seekrandom. Plain module
// variables rather than a ByteArena: compactions materialize every key.
const KEY_SLAB = 32 * 1024;
let keySlab = new Uint8Array(KEY_SLAB);
let keySlabUsed = 0;

/**
 * Builds one block. Entries must be added in strictly increasing internal
 * order; the caller (the table writer) checks that.
 *
 * @example Build a block and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { Block, BlockBuilder } from "./block.ts";
 * const b = new BlockBuilder();
 * b.add(new Uint8Array([1]), 5, 1, new Uint8Array([42]));
 * const it = new Block(b.finish().slice()).iterator();
 * it.seekToFirst();
 * assert(it.seq() === 5 && it.value()[0] === 42);
 * ```
 */
export class BlockBuilder {
  private buf: Uint8Array;
  private pos = 0;
  private restarts: number[] = [0];
  private counter = 0;
  private count = 0;
  private last = new Uint8Array(64);
  private lastLen = 0;
  private readonly trailer = new Uint8Array(T);
  private readonly interval: number;
  private readonly initialCapacity: number;

  /**
   * @param restartInterval Entries between restart points (1 stores every
   * key whole, as index blocks do).
   * @param initialCapacity Initial buffer size; it grows as needed.
   */
  constructor(
    restartInterval: number = DEFAULT_RESTART_INTERVAL,
    initialCapacity = 8192,
  ) {
    this.interval = restartInterval;
    this.initialCapacity = initialCapacity;
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Number of entries added since the last reset. */
  get entries(): number {
    return this.count;
  }

  /** True when no entry was added since the last reset. */
  get empty(): boolean {
    return this.count === 0;
  }

  /** Size the block will have once finished (without the block trailer). */
  get estimatedSize(): number {
    return this.pos + this.restarts.length * 4 + 4;
  }

  /**
   * Appends an entry.
   *
   * @param userKey The user key.
   * @param seq Sequence number (below 2^53).
   * @param type Entry type.
   * @param value The value (may be empty).
   */
  add(
    userKey: Uint8Array,
    seq: number,
    type: EntryType,
    value: Uint8Array,
  ): void {
    const t = this.trailer;
    writeTrailer(t, 0, seq, type);
    const ul = userKey.length;
    const keyLen = ul + T;
    let shared = 0;
    if (this.counter < this.interval) {
      const last = this.last;
      const lastLen = this.lastLen;
      const maxUser = ul < lastLen ? ul : lastLen;
      while (shared < maxUser && last[shared] === userKey[shared]) shared++;
      if (shared === ul && lastLen === keyLen) {
        while (shared < keyLen && last[shared] === t[shared - ul]) shared++;
      }
    } else {
      this.restarts.push(this.pos);
      this.counter = 0;
    }
    const unshared = keyLen - shared;
    const vl = value.length;
    this.ensure(15 + unshared + vl);
    const buf = this.buf;
    let p = this.pos;
    if ((shared | unshared | vl) < 0x80) {
      buf[p] = shared;
      buf[p + 1] = unshared;
      buf[p + 2] = vl;
      p += 3;
    } else {
      p = putVarint32(buf, p, shared);
      p = putVarint32(buf, p, unshared);
      p = putVarint32(buf, p, vl);
    }
    // Key delta: the tail of the user key, then the trailer.
    const last = this.ensureLast(keyLen);
    if (shared < ul) {
      const n = ul - shared;
      if (n < 32) {
        for (let i = shared; i < ul; i++) {
          const b = userKey[i]!;
          buf[p++] = b;
          last[i] = b;
        }
      } else {
        const tail = userKey.subarray(shared);
        buf.set(tail, p);
        last.set(tail, shared);
        p += n;
      }
    }
    for (let i = shared > ul ? shared - ul : 0; i < T; i++) {
      const b = t[i]!;
      buf[p++] = b;
      last[ul + i] = b;
    }
    if (vl < 32) {
      for (let i = 0; i < vl; i++) buf[p++] = value[i]!;
    } else {
      buf.set(value, p);
      p += vl;
    }
    this.pos = p;
    this.lastLen = keyLen;
    this.counter++;
    this.count++;
  }

  /**
   * Appends the restart array and returns the finished block contents.
   *
   * @returns A view of the builder's buffer, valid until the next
   * {@link BlockBuilder.reset} or {@link BlockBuilder.add}.
   */
  finish(): Uint8Array {
    const r = this.restarts;
    this.ensure(r.length * 4 + 4);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < r.length; i++) p = putU32(buf, p, r[i]!);
    p = putU32(buf, p, r.length);
    return buf.subarray(0, p);
  }

  /** Empties the builder for the next block. */
  reset(): void {
    this.pos = 0;
    this.restarts = [0];
    this.counter = 0;
    this.count = 0;
    this.lastLen = 0;
    if (this.buf.length > SHRINK_ABOVE) {
      this.buf = new Uint8Array(this.initialCapacity);
    }
    if (this.last.length > SHRINK_ABOVE) this.last = new Uint8Array(64);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private ensureLast(len: number): Uint8Array {
    if (len > this.last.length) {
      let cap = this.last.length * 2;
      while (cap < len) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.last.subarray(0, this.lastLen));
      this.last = next;
    }
    return this.last;
  }
}

function putVarint32(buf: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

function putU32(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v;
  buf[p + 1] = v >>> 8;
  buf[p + 2] = v >>> 16;
  buf[p + 3] = v >>> 24;
  return p + 4;
}

/**
 * A decoded block: its contents and parsed restart array. Its bytes never
 * change while anyone may read them, so a cached block serves many
 * iterators at once.
 *
 * A block of the block cache lives in one of the cache's frames and is
 * recycled with it: once no one holds it, the same object and frame are
 * loaded with another block ({@link Block.load}), so that a cache miss
 * allocates nothing that outlives it. `pins` and `cached` are the cache's
 * bookkeeping (lib/block_cache.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Block, BlockBuilder } from "./block.ts";
 * const b = new BlockBuilder();
 * const block = new Block(b.finish().slice(), "empty.sst", 0);
 * assert(block.restartsOffset === 0 && block.size === 8);
 * ```
 */
export class Block {
  /**
   * The block contents (without the on-disk trailer) in its first `size`
   * bytes; a pooled block's frame may be longer.
   */
  readonly data: Uint8Array;
  /** Bytes of contents at the start of `data`. */
  size = 0;
  /** File the block came from, for error messages. */
  file = "";
  /** File offset of the block, for error messages. */
  offset = 0;
  /** Number of restart points. */
  numRestarts = 0;
  /** Offset where the entries end and the restart array begins. */
  restartsOffset = 0;
  /** Whether `data` is a block cache frame, to be recycled. */
  readonly pooled: boolean;
  /** Iterators standing on the block (see `BlockCache.pin`). */
  pins = 0;
  /** Whether a block cache lists the block. */
  cached = false;

  /**
   * Parses and checks the restart array of `data[0, size)`.
   *
   * @param data Block contents; kept by reference and never modified.
   * @param file File name for error messages.
   * @param offset File offset of the block, for error messages.
   * @param size Bytes of contents (a frame's length when `pooled`).
   * @param pooled Whether `data` is a frame that a cache recycles.
   * @throws {CorruptionError} When the restart array is malformed.
   */
  constructor(
    data: Uint8Array,
    file = "",
    offset = 0,
    size = data.length,
    pooled = false,
  ) {
    this.data = data;
    this.pooled = pooled;
    if (!pooled) this.load(size, file, offset);
  }

  /**
   * (Re)loads the block from the first `size` bytes of `data`, which the
   * caller has just filled: parses and checks the restart array.
   *
   * @param size Bytes of contents, at most `data.length`.
   * @param file File name for error messages.
   * @param offset File offset of the block, for error messages.
   * @throws {CorruptionError} When the restart array is malformed.
   */
  load(size: number, file: string, offset: number): void {
    const data = this.data;
    this.size = size;
    this.file = file;
    this.offset = offset;
    this.numRestarts = 0;
    this.restartsOffset = 0;
    const n = size;
    if (n < 4) this.corrupt(0, `block of ${n} bytes has no restart count`);
    const count = readU32(data, n - 4);
    if (count > (n - 4) / 4) {
      this.corrupt(
        n - 4,
        `restart count "${count}" exceeds the block size ${n}`,
      );
    }
    const start = n - 4 - count * 4;
    // Iterators read restart points straight from `data` (one memory region
    // per block, no second array to miss in the CPU cache), so check them
    // all once here.
    let prev = -1;
    for (let i = 0; start > 0 && i < count; i++) {
      const r = readU32(data, start + i * 4);
      if (r <= prev || r >= start || (i === 0 && r !== 0)) {
        this.corrupt(start + i * 4, `bad restart point "${r}"`);
      }
      prev = r;
    }
    if (start > 0 && count === 0) this.corrupt(n - 4, "no restart points");
    this.numRestarts = count;
    this.restartsOffset = start;
  }

  /** Empties a pooled block before its frame is reused: zeroed, so a reader
   * that wrongly still holds it decodes a corrupt block, never stale
   * entries. */
  clear(): void {
    this.data.fill(0, 0, this.size);
    this.size = 0;
    this.numRestarts = 0;
    this.restartsOffset = 0;
  }

  /**
   * Reads restart point `i`.
   *
   * @param i Index, 0 … numRestarts - 1.
   * @returns Offset of the restart entry.
   */
  restartPoint(i: number): number {
    return readU32(this.data, this.restartsOffset + i * 4);
  }

  /**
   * Creates an iterator over this block.
   *
   * @returns A fresh iterator, not yet positioned.
   */
  iterator(): BlockIterator {
    const it = new BlockIterator();
    it.reset(this);
    return it;
  }

  /**
   * Throws a CorruptionError about this block.
   *
   * @param at Offset inside the block.
   * @param reason What is wrong.
   */
  corrupt(at: number, reason: string): never {
    throw new CorruptionError(this.file, this.offset + at, reason);
  }
}

function readU32(d: Uint8Array, p: number): number {
  return (d[p]! | d[p + 1]! << 8 | d[p + 2]! << 16 | d[p + 3]! << 24) >>> 0;
}

/**
 * Compares `a[aOff, aOff + aLen)` with `b[skip, b.length)` in memcmp order,
 * in place. With `skip > 0` the caller knows both keys begin with the same
 * `skip` bytes, and `a[aOff, …)` holds what follows them.
 *
 * @param a Buffer holding the first key.
 * @param aOff Offset of the first key (past the skipped bytes) in `a`.
 * @param aLen Length of the first key (without the skipped bytes).
 * @param b Second key, whole.
 * @param skip Leading bytes of `b` known to equal the first key's.
 * @returns Negative, zero or positive, like `compareBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareRange } from "./block.ts";
 * assert(compareRange(new Uint8Array([9, 1, 2]), 1, 2, new Uint8Array([1, 3])) < 0);
 * assert(compareRange(new Uint8Array([2]), 0, 1, new Uint8Array([1, 2]), 1) === 0);
 * ```
 */
export function compareRange(
  a: Uint8Array,
  aOff: number,
  aLen: number,
  b: Uint8Array,
  skip = 0,
): number {
  const bLen = b.length - skip;
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[aOff + i]! - b[skip + i]!;
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/**
 * A block with no entries, for iterators that stand on nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EMPTY_BLOCK } from "./block.ts";
 * const it = EMPTY_BLOCK.iterator();
 * it.seekToFirst();
 * assert(!it.valid());
 * ```
 */
export const EMPTY_BLOCK: Block = new Block(
  new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]),
);

/**
 * Iterates one block. Keys are decoded into a reusable buffer; `key()`
 * materializes the user key only when asked (a view of the block when the
 * entry stores its key whole, else a copy in an append-only arena), so the
 * arrays it returns stay valid after the iterator moves, for as long as
 * the block's memory is (a cached block's frame is recycled once nobody
 * holds it). `value()` is a view of the block's memory, which may be
 * shared with the block cache: never mutate it.
 *
 * One iterator can be re-pointed at another block with
 * {@link BlockIterator.reset}, which the table reader does to avoid an
 * allocation per block.
 *
 * @example Seek to the newest version visible at a snapshot
 * ```ts
 * import assert from "node:assert/strict";
 * import { Block, BlockBuilder } from "./block.ts";
 * const b = new BlockBuilder();
 * const k = new TextEncoder().encode("k");
 * b.add(k, 9, 1, new Uint8Array([9]));
 * b.add(k, 4, 1, new Uint8Array([4]));
 * const it = new Block(b.finish().slice()).iterator();
 * it.seek(k, 5);
 * assert(it.valid() && it.seq() === 4);
 * ```
 */
export class BlockIterator implements InternalIterator {
  private block: Block = EMPTY_BLOCK;
  private d: Uint8Array = EMPTY_BLOCK.data;
  private nRestarts = 0;
  private limit = 0;
  private cur = 0;
  private nxt = 0;
  private ri = 0;
  /** Offset of restart point `ri + 1`, or `limit` past the last one. */
  private nextRestart = 0;
  private kb: Uint8Array = new Uint8Array(64);
  private kl = 0;
  private keyOff = -1;
  private vo = 0;
  private vl = 0;
  private keyCache: Uint8Array | undefined = undefined;
  private readonly cursor: Cursor = { pos: 0 };
  // The restart interval a backward step decoded, entry by entry, so the
  // next steps back pop one instead of decoding the interval again (as
  // RocksDB's block iterator does): revAt[5i..5i+4] are entry i's offset,
  // its value's offset and length, its internal key's end in revKeys, and
  // its keyOff.
  private revAt: Int32Array = new Int32Array(0);
  private revKeys: Uint8Array = new Uint8Array(0);
  private revCount = 0;
  private revIndex = -1;
  private revRi = 0;

  /**
   * Points the iterator at `block`, unpositioned (not valid).
   *
   * @param block The block to iterate.
   */
  reset(block: Block): void {
    this.block = block;
    this.d = block.data;
    this.nRestarts = block.numRestarts;
    this.limit = block.restartsOffset;
    this.cur = this.nxt = this.limit;
    this.ri = this.nRestarts;
    this.nextRestart = this.limit;
    this.kl = 0;
    this.keyCache = undefined;
    this.revCount = 0;
    this.revIndex = -1;
    // Huge keys stepped over backwards are not kept for the next block.
    if (this.revKeys.length > 1 << 16) this.revKeys = new Uint8Array(0);
  }

  /** The block being iterated. */
  get currentBlock(): Block {
    return this.block;
  }

  /** Offset of the current entry inside the block. */
  get entryOffset(): number {
    return this.cur;
  }

  /** @returns True while positioned on an entry. */
  valid(): boolean {
    return this.cur < this.limit;
  }

  /** Lets go of the block (a block iterator pins nothing: it just forgets it). */
  close(): void {
    this.reset(EMPTY_BLOCK);
  }

  /** Moves to the first entry. */
  seekToFirst(): void {
    if (this.limit === 0) return;
    this.toRestart(0);
    this.parseNext();
  }

  /** Moves to the last entry. */
  seekToLast(): void {
    if (this.limit === 0) return;
    this.toRestart(this.nRestarts - 1);
    while (this.parseNext() && this.nxt < this.limit) { /* advance */ }
  }

  /**
   * Moves to the first entry at or after `(key, seq)` in internal order.
   *
   * @param key User key.
   * @param seq Sequence number.
   * @param skip Leading bytes that `key` and every key of the block are
   *   known to share (a table's common prefix), left uncompared.
   */
  seek(key: Uint8Array, seq: number, skip = 0): void {
    if (this.limit === 0) return;
    // Last restart point whose key is before the target: the answer is in
    // its interval or at the start of the next one.
    let lo = 0;
    let hi = this.nRestarts - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.compareRestart(mid, key, seq, skip) < 0) lo = mid;
      else hi = mid - 1;
    }
    this.toRestart(lo);
    while (this.parseNext()) {
      if (this.compareCurrent(key, seq, skip) >= 0) return;
    }
  }

  /**
   * Moves to the last entry at or before `(key, seq)` in internal order.
   *
   * @param key User key.
   * @param seq Sequence number.
   */
  seekForPrev(key: Uint8Array, seq: number): void {
    this.seek(key, seq);
    if (!this.valid()) this.seekToLast();
    else if (this.compareCurrent(key, seq) > 0) this.prev();
  }

  /** Moves to the next entry. */
  next(): void {
    this.parseNext();
  }

  /** Moves to the previous entry (invalid before the first). */
  prev(): void {
    const orig = this.cur;
    if (orig >= this.limit) return;
    const at = this.revIndex;
    if (at > 0 && this.revAt[at * 5] === orig) {
      this.popBack(at - 1);
      return;
    }
    let ri = this.ri;
    while (readU32(this.d, this.limit + ri * 4) >= orig) {
      if (ri === 0) {
        this.cur = this.nxt = this.limit;
        this.ri = this.nRestarts;
        this.nextRestart = this.limit;
        return;
      }
      ri--;
    }
    this.toRestart(ri);
    this.revCount = 0;
    while (this.parseNext() && this.nxt < orig) this.pushBack();
    this.pushBack();
    this.revRi = ri;
    this.revIndex = this.revCount - 1;
  }

  /** Records the current entry as the next of the decoded interval. */
  private pushBack(): void {
    const n = this.revCount;
    if ((n + 1) * 5 > this.revAt.length) {
      const grown = new Int32Array(Math.max(80, this.revAt.length * 2));
      grown.set(this.revAt);
      this.revAt = grown;
    }
    const from = n === 0 ? 0 : this.revAt[n * 5 - 2]!;
    const to = from + this.kl;
    if (to > this.revKeys.length) {
      const grown = new Uint8Array(Math.max(512, to * 2));
      grown.set(this.revKeys.subarray(0, from));
      this.revKeys = grown;
    }
    const keys = this.revKeys;
    const kb = this.kb;
    for (let i = 0; i < this.kl; i++) keys[from + i] = kb[i]!;
    const a = this.revAt;
    a[n * 5] = this.cur;
    a[n * 5 + 1] = this.vo;
    a[n * 5 + 2] = this.vl;
    a[n * 5 + 3] = to;
    a[n * 5 + 4] = this.keyOff;
    this.revCount = n + 1;
  }

  /** Moves to entry `i` of the interval {@link prev} decoded. */
  private popBack(i: number): void {
    const a = this.revAt;
    const from = i === 0 ? 0 : a[i * 5 - 2]!;
    const to = a[i * 5 + 3]!;
    const kl = to - from;
    let kb = this.kb;
    if (kl > kb.length) kb = this.growKey(kl);
    const keys = this.revKeys;
    for (let j = 0; j < kl; j++) kb[j] = keys[from + j]!;
    this.kl = kl;
    this.cur = a[i * 5]!;
    this.vo = a[i * 5 + 1]!;
    this.vl = a[i * 5 + 2]!;
    this.keyOff = a[i * 5 + 4]!;
    this.nxt = this.vo + this.vl;
    this.keyCache = undefined;
    this.ri = this.revRi;
    this.nextRestart = this.revRi + 1 < this.nRestarts
      ? readU32(this.d, this.limit + (this.revRi + 1) * 4)
      : this.limit;
    this.revIndex = i;
  }

  /** @returns The current user key (stable; do not mutate). */
  key(): Uint8Array {
    let k = this.keyCache;
    if (k === undefined) {
      const n = this.kl - T;
      if (this.keyOff >= 0) {
        k = this.d.subarray(this.keyOff, this.keyOff + n);
      } else {
        // Copied into a shared append-only arena: never overwritten, so the
        // view stays valid after the iterator moves.
        let p = keySlabUsed;
        if (p + n > keySlab.length) {
          keySlab = new Uint8Array(n > KEY_SLAB ? n : KEY_SLAB);
          p = 0;
        }
        const a = keySlab;
        const kb = this.kb;
        for (let i = 0; i < n; i++) a[p + i] = kb[i]!;
        k = a.subarray(p, p + n);
        keySlabUsed = p + n;
      }
      this.keyCache = k;
    }
    return k;
  }

  /** @returns The current sequence number. */
  seq(): number {
    const s = readTrailerSeq(this.kb, this.kl - T);
    if (s > MAX_SEQUENCE) {
      this.block.corrupt(this.cur, `sequence number ${s} exceeds 2^53 - 1`);
    }
    return s;
  }

  /** @returns The current entry type. */
  type(): EntryType {
    const t = this.kb[this.kl - T]!;
    if (t !== 1 && t !== 2) {
      this.block.corrupt(this.cur, `unknown entry type "${t}"`);
    }
    return t as EntryType;
  }

  /** @returns The current value: a view of the block, do not mutate. */
  value(): Uint8Array {
    return this.d.subarray(this.vo, this.vo + this.vl);
  }

  /** @returns Length of the current value, without creating a view. */
  valueLength(): number {
    return this.vl;
  }

  /**
   * The current internal key (user key ‖ trailer) in the reusable buffer.
   *
   * @returns A view overwritten when the iterator moves.
   */
  internalKey(): Uint8Array {
    return this.kb.subarray(0, this.kl);
  }

  /**
   * Tells whether the current user key equals `key`, without allocating.
   *
   * @param key User key.
   * @returns True on equality.
   */
  userKeyEquals(key: Uint8Array): boolean {
    const n = this.kl - T;
    if (n !== key.length) return false;
    const kb = this.kb;
    for (let i = 0; i < n; i++) if (kb[i] !== key[i]) return false;
    return true;
  }

  /**
   * Compares the current entry with `(key, seq)` in internal order.
   *
   * @param key User key.
   * @param seq Sequence number.
   * @param skip Leading bytes both keys are known to share.
   * @returns Negative when the current entry sorts first.
   */
  compareCurrent(key: Uint8Array, seq: number, skip = 0): number {
    const c = compareRange(this.kb, skip, this.kl - T - skip, key, skip);
    if (c !== 0) return c;
    return seq - readTrailerSeq(this.kb, this.kl - T);
  }

  private toRestart(i: number): void {
    this.ri = i;
    this.kl = 0;
    this.nxt = readU32(this.d, this.limit + i * 4);
    this.nextRestart = i + 1 < this.nRestarts
      ? readU32(this.d, this.limit + (i + 1) * 4)
      : this.limit;
  }

  private compareRestart(
    i: number,
    key: Uint8Array,
    seq: number,
    skip: number,
  ): number {
    const d = this.d;
    const at = readU32(d, this.limit + i * 4);
    let p = at;
    let shared: number;
    let unshared: number;
    if (
      p + 3 <= this.limit &&
      ((shared = d[p]!) | (unshared = d[p + 1]!) | d[p + 2]!) < 0x80
    ) {
      p += 3;
    } else {
      const c = this.cursor;
      shared = getVarint(d, p, this.limit, c);
      unshared = shared < 0 ? -1 : getVarint(d, c.pos, this.limit, c);
      const vl = unshared < 0 ? -1 : getVarint(d, c.pos, this.limit, c);
      if (vl < 0) this.block.corrupt(at, "undecodable entry header");
      p = c.pos;
    }
    if (shared !== 0 || unshared < T || p + unshared > this.limit) {
      this.block.corrupt(at, "bad entry at restart point");
    }
    const c = compareRange(d, p + skip, unshared - T - skip, key, skip);
    if (c !== 0) return c;
    return seq - readTrailerSeq(d, p + unshared - T);
  }

  private parseNext(): boolean {
    const d = this.d;
    const limit = this.limit;
    let p = this.nxt;
    if (p >= limit) {
      this.cur = this.nxt = limit;
      this.ri = this.nRestarts;
      this.nextRestart = limit;
      return false;
    }
    this.cur = p;
    let shared: number;
    let unshared: number;
    let vl: number;
    if (
      p + 3 <= limit &&
      ((shared = d[p]!) | (unshared = d[p + 1]!) | (vl = d[p + 2]!)) < 0x80
    ) {
      p += 3;
    } else {
      const c = this.cursor;
      shared = getVarint(d, p, limit, c);
      unshared = shared < 0 ? -1 : getVarint(d, c.pos, limit, c);
      vl = unshared < 0 ? -1 : getVarint(d, c.pos, limit, c);
      if (vl < 0) this.block.corrupt(this.cur, "undecodable entry header");
      p = c.pos;
    }
    const kl = shared + unshared;
    if (shared > this.kl || kl < T || p + unshared + vl > limit) {
      this.block.corrupt(
        this.cur,
        `bad entry: shared ${shared}, unshared ${unshared}, value ${vl}`,
      );
    }
    let kb: Uint8Array = this.kb;
    if (kl > kb.length) kb = this.growKey(kl);
    if (unshared < 32) {
      for (let i = 0; i < unshared; i++) kb[shared + i] = d[p + i]!;
    } else {
      kb.set(d.subarray(p, p + unshared), shared);
    }
    this.keyOff = shared === 0 ? p : -1;
    this.kl = kl;
    this.vo = p + unshared;
    this.vl = vl;
    this.nxt = p + unshared + vl;
    this.keyCache = undefined;
    while (this.cur >= this.nextRestart) {
      const ri = ++this.ri;
      this.nextRestart = ri + 1 < this.nRestarts
        ? readU32(d, limit + (ri + 1) * 4)
        : limit;
    }
    return true;
  }

  private growKey(len: number): Uint8Array {
    let cap = this.kb.length * 2;
    while (cap < len) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.kb.subarray(0, this.kl));
    this.kb = next;
    return next;
  }
}
