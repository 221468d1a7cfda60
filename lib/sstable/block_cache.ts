/**
 * The block cache: decoded SSTable blocks shared by every table reader of a
 * database, bounded by bytes and evicted least-recently-used first. It also
 * owns the memory blocks are read into, and recycles it.
 *
 * Entries sit in one map per file (keyed by block offset, a small integer
 * V8 hashes fast) and on one doubly linked list in recency order: a hit
 * relinks its node at the most-recent end, eviction unlinks from the least
 * recent end, and dropping a file walks only that file's map. (A single
 * `Map` in insertion order would be simpler, but its composite key is a
 * heap number or a string allocated on every lookup.)
 *
 * Why the cache owns block memory. Every miss needs a buffer of about 4 KiB.
 * Fresh buffers were the largest source of garbage in the engine (a
 * readrandom run after a compaction read 120 MB of them, most of it dead
 * once the compaction replaced its tables), V8 frees them only when it gets
 * round to a full collection, and a `pread` into never-touched memory costs
 * 3.5–5 µs instead of 1–2 µs because each page faults in. So a reader asks
 * {@link BlockCache.allocate} for a block whose frame it reads into, and a
 * block that leaves the cache goes back, frame and object, to the next
 * miss, unless an iterator still stands on it (LevelDB's cache handles):
 * {@link BlockCache.pin} and {@link BlockCache.release} count those, and
 * the last release of a block that is no longer cached recycles it. The
 * list nodes are reused too, so that once the cache is full a miss leaves
 * nothing behind for the garbage collector (each surviving object made V8
 * grow its young generation, 20–30 MB of peak RSS in bench:peers).
 *
 * Frames come in 64-byte size classes, carved side by side out of slabs of
 * about 64 KiB (random reads over blocks that each had an `ArrayBuffer` of
 * their own ran about 10% slower, measured in bench:peers' readrandom and
 * in isolation). Free blocks are all kept: a slab lives as long as any of
 * its frames does, so dropping a frame would only lose it (bench:peers'
 * readrandom once made 55 MB of slabs for a 32 MiB cache that way). What is
 * kept never exceeds what was once in use at the same time, which the
 * capacity bounds.
 *
 * @module
 */

import { Block } from "./block.ts";
import { InvalidArgumentError } from "../util/errors.ts";

/** Counters reported by {@link BlockCache.stats}. */
export interface BlockCacheStats {
  /** Lookups that found their block. */
  hits: number;
  /** Lookups that did not. */
  misses: number;
  /** Sum of the charges of the cached blocks. */
  bytes: number;
  /** Number of cached blocks. */
  entries: number;
  /** The byte budget. */
  capacity: number;
  /** Bytes of recycled blocks' frames waiting for the next miss. */
  freeBytes: number;
}

/** Frame sizes are multiples of this. */
const GRAIN = 64;
/**
 * A request may take a free frame up to this many classes larger: blocks of
 * one table vary by tens of bytes, and an exact class alone would strand
 * free frames one class away.
 */
const SPILL_CLASSES = 4;
/** New frames are carved out of slabs of about this size. */
const SLAB_BYTES = 64 * 1024;
/** Larger blocks get a buffer of their own, left to the garbage collector. */
const MAX_FRAME = 256 * 1024;

/** A cache entry on the recency list; reused once unlinked. */
class Node {
  prev: Node = this;
  next: Node = this;
  constructor(
    public file: number,
    public offset: number,
    public block: Block | undefined,
    public charge: number,
  ) {}
}

/**
 * An LRU cache of decoded blocks keyed by (file number, block offset), and
 * the pool of the blocks and memory they live in.
 *
 * @example Cache a block read into a pooled frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "./block_cache.ts";
 * import { BlockBuilder } from "./block.ts";
 * const cache = new BlockCache(1 << 20);
 * const bytes = new BlockBuilder().finish();
 * const block = cache.allocate(bytes.length);
 * block.data.set(bytes); // what a table reader reads from disk
 * block.load(bytes.length, "000007.sst", 0);
 * cache.insert(7, 0, block, block.data.length);
 * assert(cache.get(7, 0) === block && cache.get(7, 4096) === undefined);
 * assert(cache.stats.hits === 1 && cache.stats.misses === 1);
 * cache.evictFile(7); // nobody stands on the block: it is free again
 * assert.equal(cache.allocate(bytes.length), block);
 * ```
 */
export class BlockCache {
  private readonly files = new Map<number, Map<number, Node>>();
  // Sentinel of the circular recency list: head.next is the least recently
  // used node, head.prev the most recent.
  private readonly head = new Node(-1, -1, undefined, 0);
  private readonly cap: number;
  /** Free pooled blocks by size class (frame length / GRAIN). */
  private readonly free: Block[][] = [];
  /** Unlinked list nodes, for the next insert. */
  private readonly spareNodes: Node[] = [];
  /** By size class: the slab new frames are carved from, and how far. */
  private readonly slabs: { bytes: Uint8Array; used: number }[] = [];
  private freeBytes = 0;
  private used = 0;
  private count = 0;
  private hits = 0;
  private misses = 0;

  /**
   * @param capacityBytes Byte budget (0 disables caching).
   * @throws {InvalidArgumentError} When the capacity is not a non-negative
   * safe integer.
   */
  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
      throw new InvalidArgumentError(
        `Invalid block cache capacity "${capacityBytes}": expected a non-negative integer`,
      );
    }
    this.cap = capacityBytes;
  }

  /** The byte budget. */
  get capacity(): number {
    return this.cap;
  }

  /**
   * A block to read `length` bytes into (its `data`, zero-filled), then to
   * {@link Block.load}: a recycled one when one of the right size class is
   * free. Frames are rounded up, so `data` may be longer than asked for.
   *
   * @param length Bytes needed.
   * @returns An empty pooled block with at least `length` bytes of `data`.
   */
  allocate(length: number): Block {
    const size = Math.ceil(length / GRAIN) * GRAIN;
    if (size > MAX_FRAME) {
      return new Block(new Uint8Array(length), "", 0, 0, true);
    }
    const c = size / GRAIN;
    for (let k = c; k <= c + SPILL_CLASSES; k++) {
      const block = this.free[k]?.pop();
      if (block !== undefined) {
        this.freeBytes -= block.data.length;
        return block;
      }
    }
    let slab = this.slabs[c];
    if (slab === undefined || slab.used + size > slab.bytes.length) {
      const frames = Math.max(1, Math.floor(SLAB_BYTES / size));
      slab = this.slabs[c] = { bytes: new Uint8Array(size * frames), used: 0 };
    }
    const at = slab.used;
    slab.used = at + size;
    return new Block(slab.bytes.subarray(at, at + size), "", 0, 0, true);
  }

  /**
   * Takes back a block from {@link BlockCache.allocate} that was never
   * cached nor pinned (its read failed).
   *
   * @param block The block.
   */
  discard(block: Block): void {
    this.recycle(block);
  }

  /**
   * Marks `block` as in use by an iterator: its frame is not recycled,
   * even if the cache evicts it, until the matching
   * {@link BlockCache.release}.
   *
   * @param block A block.
   */
  pin(block: Block): void {
    block.pins++;
  }

  /**
   * Undoes one {@link BlockCache.pin}. The block's bytes must not be read
   * afterwards: once no iterator stands on a block the cache no longer
   * holds, its frame goes to the next miss.
   *
   * @param block A pinned block.
   */
  release(block: Block): void {
    if (--block.pins === 0 && !block.cached) this.recycle(block);
  }

  /**
   * Looks a block up and marks it most recently used.
   *
   * @param fileNumber Table file number.
   * @param offset Block offset in the file.
   * @returns The cached block, or `undefined`.
   */
  get(fileNumber: number, offset: number): Block | undefined {
    const node = this.files.get(fileNumber)?.get(offset);
    if (node === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const head = this.head;
    if (head.prev !== node) {
      node.prev.next = node.next;
      node.next.prev = node.prev;
      node.prev = head.prev;
      node.next = head;
      head.prev.next = node;
      head.prev = node;
    }
    return node.block;
  }

  /**
   * Caches a block, evicting least recently used blocks until the total
   * charge fits. A block larger than the whole budget is not cached.
   *
   * @param fileNumber Table file number.
   * @param offset Block offset in the file.
   * @param block The decoded block.
   * @param charge Bytes the block holds on to.
   */
  insert(
    fileNumber: number,
    offset: number,
    block: Block,
    charge: number,
  ): void {
    if (charge > this.cap) return;
    let map = this.files.get(fileNumber);
    const old = map?.get(offset);
    if (old !== undefined) {
      if (old.block === block) return;
      this.unlink(old, map!);
    }
    map = this.files.get(fileNumber);
    if (map === undefined) {
      map = new Map();
      this.files.set(fileNumber, map);
    }
    let node = this.spareNodes.pop();
    if (node === undefined) node = new Node(fileNumber, offset, block, charge);
    else {
      node.file = fileNumber;
      node.offset = offset;
      node.block = block;
      node.charge = charge;
    }
    map.set(offset, node);
    block.cached = true;
    const head = this.head;
    node.prev = head.prev;
    node.next = head;
    head.prev.next = node;
    head.prev = node;
    this.used += charge;
    this.count++;
    while (this.used > this.cap) {
      const lru = head.next;
      this.unlink(lru, this.files.get(lru.file)!);
    }
  }

  /**
   * Drops every cached block of a file.
   *
   * @param fileNumber Table file number.
   */
  evictFile(fileNumber: number): void {
    const map = this.files.get(fileNumber);
    if (map === undefined) return;
    this.files.delete(fileNumber);
    for (const node of map.values()) {
      node.prev.next = node.next;
      node.next.prev = node.prev;
      this.used -= node.charge;
      this.count--;
      this.uncache(node.block!);
      this.spare(node);
    }
  }

  /** Drops every cached block and every free frame (counters are kept). */
  clear(): void {
    // Everything is dropped, so nothing is zeroed and pooled here; a block
    // still pinned comes back to the (new) free lists on its release.
    for (let n = this.head.next; n !== this.head; n = n.next) {
      n.block!.cached = false;
    }
    this.files.clear();
    this.head.prev = this.head.next = this.head;
    this.used = 0;
    this.count = 0;
    this.free.length = 0;
    this.slabs.length = 0;
    this.spareNodes.length = 0;
    this.freeBytes = 0;
  }

  /** Hit and miss counts and current occupancy. */
  get stats(): BlockCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.used,
      entries: this.count,
      capacity: this.cap,
      freeBytes: this.freeBytes,
    };
  }

  private unlink(node: Node, map: Map<number, Node>): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
    map.delete(node.offset);
    if (map.size === 0) this.files.delete(node.file);
    this.used -= node.charge;
    this.count--;
    this.uncache(node.block!);
    this.spare(node);
  }

  private spare(node: Node): void {
    node.block = undefined;
    node.prev = node.next = node;
    this.spareNodes.push(node);
  }

  private uncache(block: Block): void {
    block.cached = false;
    if (block.pins === 0) this.recycle(block);
  }

  private recycle(block: Block): void {
    const size = block.data.length;
    // Not one of ours (a huge block's own buffer): the collector's.
    if (!block.pooled || size % GRAIN !== 0 || size > MAX_FRAME) return;
    block.clear();
    (this.free[size / GRAIN] ??= []).push(block);
    this.freeBytes += size;
  }
}
