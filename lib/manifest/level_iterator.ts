/**
 * A cursor over one level of disjoint, sorted tables (level 1 and deeper),
 * walking them as if they were one table. It opens a table's iterator only
 * when the cursor reaches it, so a scan of a deep level touches just the
 * files in its range.
 *
 * @module
 */

import { compareBytes } from "../util/bytes.ts";
import type { EntryType, InternalIterator } from "../iterator/internal_key.ts";
import type { TableIteratorOptions } from "../sstable/sstable_reader.ts";
import type { TableCache } from "../sstable/table_cache.ts";
import { type FileMeta, findFile } from "./version.ts";

/**
 * Concatenation of the tables of one level. Relies on the level invariant
 * that a user key lives in at most one file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "../sstable/block_cache.ts";
 * import { LevelIterator } from "./level_iterator.ts";
 * import { TableCache } from "../sstable/table_cache.ts";
 * const tables = new TableCache(".", new BlockCache(0));
 * const it = new LevelIterator([], tables);
 * it.seekToFirst();
 * assert(!it.valid());
 * ```
 */
export class LevelIterator implements InternalIterator {
  readonly #files: readonly FileMeta[];
  readonly #tables: TableCache;
  readonly #options: TableIteratorOptions;
  #index = -1;
  #current: InternalIterator | undefined;

  /**
   * @param files The level's files, sorted by key and disjoint.
   * @param tables Where to open them.
   * @param options Passed to each table's iterator (`fillCache`).
   */
  constructor(
    files: readonly FileMeta[],
    tables: TableCache,
    options: TableIteratorOptions = {},
  ) {
    this.#files = files;
    this.#tables = tables;
    this.#options = options;
  }

  #open(index: number): InternalIterator | undefined {
    this.#current?.close();
    this.#index = index;
    const file = this.#files[index];
    this.#current = file
      ? this.#tables.get(file.number).iterator(this.#options)
      : undefined;
    return this.#current;
  }

  #skipForward(): void {
    while (this.#current && !this.#current.valid()) {
      this.#open(this.#index + 1)?.seekToFirst();
    }
  }

  #skipBackward(): void {
    while (this.#current && !this.#current.valid()) {
      if (this.#index <= 0) {
        this.#current.close();
        this.#current = undefined;
        return;
      }
      this.#open(this.#index - 1)?.seekToLast();
    }
  }

  valid(): boolean {
    return this.#current !== undefined && this.#current.valid();
  }

  seekToFirst(): void {
    this.#open(0)?.seekToFirst();
    this.#skipForward();
  }

  seekToLast(): void {
    this.#open(this.#files.length - 1)?.seekToLast();
    this.#skipBackward();
  }

  seek(key: Uint8Array, seq: number): void {
    this.#open(findFile(this.#files, key))?.seek(key, seq);
    this.#skipForward();
  }

  seekForPrev(key: Uint8Array, seq: number): void {
    // The last file whose smallest key is at or before `key`.
    let lo = 0;
    let hi = this.#files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.#files[mid]!.smallestKey, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) {
      this.#current?.close();
      this.#current = undefined;
      return;
    }
    this.#open(lo - 1)?.seekForPrev(key, seq);
    this.#skipBackward();
  }

  next(): void {
    this.#current!.next();
    this.#skipForward();
  }

  prev(): void {
    this.#current!.prev();
    this.#skipBackward();
  }

  key(): Uint8Array {
    return this.#current!.key();
  }

  seq(): number {
    return this.#current!.seq();
  }

  type(): EntryType {
    return this.#current!.type();
  }

  value(): Uint8Array {
    return this.#current!.value();
  }

  close(): void {
    this.#current?.close();
    this.#current = undefined;
  }
}
