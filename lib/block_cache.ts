/**
 * The block cache: decoded SSTable blocks shared by every table reader of a
 * database, bounded by bytes and evicted least-recently-used first.
 *
 * A `Map` iterates in insertion order, so deleting and re-inserting an
 * entry on every hit keeps the least recently used entry first: eviction
 * pops from the front. A second map lists each file's entries so a table
 * can drop its blocks when it is closed or deleted.
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

interface Entry {
  block: Block;
  charge: number;
  file: number;
}

// (fileNumber, offset) packs into one exact double key while both fit:
// file numbers below 2^21 and offsets below 2^32 (every realistic table).
// Larger ones fall back to a string key.
const FILE_LIMIT = 2 ** 21;
const OFFSET_LIMIT = 2 ** 32;

function cacheKey(file: number, offset: number): number | string {
  return file < FILE_LIMIT && offset < OFFSET_LIMIT
    ? file * OFFSET_LIMIT + offset
    : `${file}:${offset}`;
}

/**
 * An LRU cache of decoded blocks keyed by (file number, block offset).
 *
 * @example
 * ```ts
 * import { BlockCache } from "./block_cache.ts";
 * import { Block, BlockBuilder } from "./block.ts";
 * const cache = new BlockCache(1 << 20);
 * const block = new Block(new BlockBuilder().finish().slice());
 * cache.insert(7, 0, block, 8);
 * console.assert(cache.get(7, 0) === block && cache.get(7, 4096) === undefined);
 * console.assert(cache.stats.hits === 1 && cache.stats.misses === 1);
 * ```
 */
export class BlockCache {
  private readonly map = new Map<number | string, Entry>();
  private readonly byFile = new Map<number, Set<number | string>>();
  private readonly cap: number;
  private used = 0;
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
    const key = cacheKey(fileNumber, offset);
    const map = this.map;
    const e = map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    map.delete(key);
    map.set(key, e);
    return e.block;
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
    const key = cacheKey(fileNumber, offset);
    const old = this.map.get(key);
    if (old !== undefined) this.remove(key, old);
    this.map.set(key, { block, charge, file: fileNumber });
    let keys = this.byFile.get(fileNumber);
    if (keys === undefined) {
      keys = new Set();
      this.byFile.set(fileNumber, keys);
    }
    keys.add(key);
    this.used += charge;
    if (this.used > this.cap) this.evict();
  }

  /**
   * Drops every cached block of a file.
   *
   * @param fileNumber Table file number.
   */
  evictFile(fileNumber: number): void {
    const keys = this.byFile.get(fileNumber);
    if (keys === undefined) return;
    for (const key of keys) {
      const e = this.map.get(key);
      if (e !== undefined) {
        this.map.delete(key);
        this.used -= e.charge;
      }
    }
    this.byFile.delete(fileNumber);
  }

  /** Drops every cached block (counters are kept). */
  clear(): void {
    this.map.clear();
    this.byFile.clear();
    this.used = 0;
  }

  /** Hit and miss counts and current occupancy. */
  get stats(): BlockCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.used,
      entries: this.map.size,
      capacity: this.cap,
    };
  }

  private evict(): void {
    for (const [key, e] of this.map) {
      if (this.used <= this.cap) break;
      this.remove(key, e);
    }
  }

  private remove(key: number | string, e: Entry): void {
    this.map.delete(key);
    this.used -= e.charge;
    const keys = this.byFile.get(e.file);
    if (keys !== undefined) {
      keys.delete(key);
      if (keys.size === 0) this.byFile.delete(e.file);
    }
  }
}
