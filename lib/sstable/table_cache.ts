/**
 * The table cache: one open {@link SSTableReader} per live table file,
 * opened on first use and closed when the file becomes obsolete, so a point
 * lookup never pays for opening a file twice.
 *
 * @module
 */

import { diskFs } from "../fs/disk_fs.ts";
import { type Fs, isNotFound } from "../fs/fs.ts";
import type { BlockCache } from "./block_cache.ts";
import { CorruptionError } from "../util/errors.ts";
import { tableFileName } from "../util/filenames.ts";
import { SSTableReader } from "./sstable_reader.ts";

/**
 * Open readers of a database's tables, by file number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "./block_cache.ts";
 * import { TableCache } from "./table_cache.ts";
 * const tables = new TableCache(await Deno.makeTempDir(), new BlockCache(1 << 20));
 * assert(tables.openCount === 0);
 * tables.closeAll();
 * ```
 */
export class TableCache {
  readonly #dir: string;
  readonly #blocks: BlockCache;
  readonly #fs: Fs;
  readonly #readers = new Map<number, SSTableReader>();

  /**
   * @param dir Database directory.
   * @param blocks The block cache all readers share.
   * @param fs The filesystem (the real one by default).
   */
  constructor(dir: string, blocks: BlockCache, fs: Fs = diskFs) {
    this.#dir = dir;
    this.#blocks = blocks;
    this.#fs = fs;
  }

  /**
   * The reader of table `number`, opening it on first use.
   *
   * @param number Table file number.
   * @returns Its reader.
   * @throws {CorruptionError} When the file is missing or not a valid table.
   */
  get(number: number): SSTableReader {
    let reader = this.#readers.get(number);
    if (!reader) {
      const path = tableFileName(this.#dir, number);
      try {
        reader = SSTableReader.open(path, number, this.#blocks, this.#fs);
      } catch (err) {
        // A table the manifest lists must exist: its absence is corruption.
        if (isNotFound(err)) {
          throw new CorruptionError(
            path,
            0,
            "table listed in the manifest is missing",
          );
        }
        throw err;
      }
      this.#readers.set(number, reader);
    }
    return reader;
  }

  /**
   * Closes the reader of a table that is about to be deleted.
   *
   * @param number Table file number.
   */
  evict(number: number): void {
    this.#readers.get(number)?.close();
    this.#readers.delete(number);
  }

  /** The number of open readers. */
  get openCount(): number {
    return this.#readers.size;
  }

  /** Closes every reader. */
  closeAll(): void {
    for (const reader of this.#readers.values()) reader.close();
    this.#readers.clear();
  }
}
