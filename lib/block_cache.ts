/**
 * The block cache: decoded SSTable blocks shared by every table reader of a
 * database, bounded by bytes and evicted least-recently-used first.
 *
 * Entries sit in one map per file (keyed by block offset, a small integer
 * V8 hashes fast) and on one doubly linked list in recency order: a hit
 * relinks its node at the most-recent end, eviction unlinks from the least
 * recent end, and dropping a file walks only that file's map. (A single
 * `Map` in insertion order would be simpler, but its composite key is a
 * heap number or a string allocated on every lookup.)
 *
 * @module
 */

import type { Block } from "./block.ts";
import { InvalidArgumentError } from "./errors.ts";

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
}

class Node {
  prev: Node = this;
  next: Node = this;
  constructor(
    readonly file: number,
    readonly offset: number,
    readonly block: Block | undefined,
    readonly charge: number,
  ) {}
}

/**
 * An LRU cache of decoded blocks keyed by (file number, block offset).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "./block_cache.ts";
 * import { Block, BlockBuilder } from "./block.ts";
 * const cache = new BlockCache(1 << 20);
 * const block = new Block(new BlockBuilder().finish().slice());
 * cache.insert(7, 0, block, 8);
 * assert(cache.get(7, 0) === block && cache.get(7, 4096) === undefined);
 * assert(cache.stats.hits === 1 && cache.stats.misses === 1);
 * ```
 */
export class BlockCache {
  private readonly files = new Map<number, Map<number, Node>>();
  // Sentinel of the circular recency list: head.next is the least recently
  // used node, head.prev the most recent.
  private readonly head = new Node(-1, -1, undefined, 0);
  private readonly cap: number;
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
    const old = this.files.get(fileNumber)?.get(offset);
    if (old !== undefined) this.unlink(old, this.files.get(fileNumber)!);
    let map = this.files.get(fileNumber);
    if (map === undefined) {
      map = new Map();
      this.files.set(fileNumber, map);
    }
    const node = new Node(fileNumber, offset, block, charge);
    map.set(offset, node);
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
    for (const node of map.values()) {
      node.prev.next = node.next;
      node.next.prev = node.prev;
      this.used -= node.charge;
      this.count--;
    }
    this.files.delete(fileNumber);
  }

  /** Drops every cached block (counters are kept). */
  clear(): void {
    this.files.clear();
    this.head.prev = this.head.next = this.head;
    this.used = 0;
    this.count = 0;
  }

  /** Hit and miss counts and current occupancy. */
  get stats(): BlockCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.used,
      entries: this.count,
      capacity: this.cap,
    };
  }

  private unlink(node: Node, map: Map<number, Node>): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
    map.delete(node.offset);
    if (map.size === 0) this.files.delete(node.file);
    this.used -= node.charge;
    this.count--;
  }
}
