/**
 * Recycled memory for memtables. A memtable's bytes live in 256 KiB chunks
 * and its skip list in one `Int32Array` arena that doubles as it fills.
 * Once a memtable is flushed and no iterator reads it any more, it hands
 * both back here, and the next memtable fills them again instead of
 * allocating its own.
 *
 * Why: at 600,000 puts a second a 4 MiB memtable fills every 50 ms, and
 * each one used to leave about 7 MB for the garbage collector (its chunks,
 * its arena and the arenas it outgrew). V8 frees such long-lived buffers
 * only at a full collection, so they piled up: bench:peers measured about
 * 50 MB of peak RSS in them during its fills.
 *
 * @module
 */

/**
 * Free memtable chunks and arenas of one database, bounded so that it never
 * holds more than one memtable's worth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemTablePool } from "./memtable_pool.ts";
 * const pool = new MemTablePool(4 << 20, 256 << 10);
 * const chunk = new Uint8Array(256 << 10);
 * pool.give([chunk], new Int32Array(1024), 1024);
 * assert.equal(pool.takeChunk(), chunk);
 * assert.equal(pool.takeChunk(), undefined);
 * assert.equal(pool.takeArena()?.length, 1024);
 * ```
 */
export class MemTablePool {
  readonly #chunkBytes: number;
  readonly #maxChunks: number;
  readonly #maxArenaBytes: number;
  readonly #chunks: Uint8Array[] = [];
  #arena: Int32Array | undefined;

  /**
   * @param memtableSize The database's memtable size: the pool keeps about
   * that many bytes of chunks.
   * @param chunkBytes The size of a shared chunk; other chunks (a large
   * entry's own) are not kept.
   */
  constructor(memtableSize: number, chunkBytes: number) {
    this.#chunkBytes = chunkBytes;
    this.#maxChunks = Math.ceil(memtableSize / chunkBytes) + 1;
    // The arena of a full memtable of the smallest entries is about this
    // big; a recovered memtable's (several WALs' worth) is not kept.
    this.#maxArenaBytes = memtableSize;
  }

  /**
   * A recycled chunk, if one is free. Its bytes are stale: a memtable
   * writes every byte it later reads.
   *
   * @returns A chunk of the pool's chunk size, or `undefined`.
   */
  takeChunk(): Uint8Array | undefined {
    return this.#chunks.pop();
  }

  /**
   * The recycled arena, if any: zero-filled.
   *
   * @returns An arena, or `undefined`.
   */
  takeArena(): Int32Array | undefined {
    const arena = this.#arena;
    this.#arena = undefined;
    return arena;
  }

  /**
   * Takes back a retired memtable's memory.
   *
   * @param chunks Its chunks (those of another size are dropped).
   * @param arena Its arena; kept if it is the largest offered and no
   * larger than a memtable of the pool's size needs.
   * @param used Words of the arena in use, zeroed here.
   */
  give(chunks: readonly Uint8Array[], arena: Int32Array, used: number): void {
    for (const chunk of chunks) {
      if (this.#chunks.length >= this.#maxChunks) break;
      if (chunk.length === this.#chunkBytes) this.#chunks.push(chunk);
    }
    if (
      arena.length > (this.#arena?.length ?? 0) &&
      arena.byteLength <= this.#maxArenaBytes
    ) {
      arena.fill(0, 0, used);
      this.#arena = arena;
    }
  }
}
