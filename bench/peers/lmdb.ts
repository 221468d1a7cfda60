/**
 * LMDB peer through `npm:lmdb` (lmdb-js: LMDB compiled into a prebuilt
 * Node-API addon that ships inside the npm package), binary keys and values.
 * Plain databases open with `noSync` and write with `putSync` (each call is
 * one committed transaction in the memory map, which survives a process
 * crash); durable databases keep LMDB's default sync-on-commit and write
 * with the async `put`, which lmdb-js batches into shared transactions (its
 * group commit).
 *
 * The package is imported lazily with a computed specifier, so `deno check`
 * of the project never downloads it; the types below are the slice of its
 * API this adapter uses.
 *
 * @module
 */

import type { PeerEngine, PeerOpenOptions } from "./engine.ts";

/** The exact package the benchmark was written against. */
export const LMDB = "npm:lmdb@3.5.6";

interface LmdbRangeOptions {
  start?: Uint8Array;
  reverse: boolean;
  limit: number;
}
interface Lmdb {
  putSync(key: Uint8Array, value: Uint8Array): void;
  put(key: Uint8Array, value: Uint8Array): Promise<boolean>;
  get(key: Uint8Array): Uint8Array | undefined;
  removeSync(key: Uint8Array): boolean;
  transactionSync<T>(fn: () => T): T;
  getRange(
    options: LmdbRangeOptions,
  ): Iterable<{ key: Uint8Array; value: Uint8Array }>;
  close(): Promise<void>;
}
type LmdbOpen = (options: {
  path: string;
  keyEncoding: "binary";
  encoding: "binary";
  noSync: boolean;
}) => Lmdb;

/**
 * The LMDB adapter of the peer benchmark.
 *
 * @example Downloads npm:lmdb on first use
 * ```ts ignore
 * import { LmdbEngine } from "./lmdb.ts";
 * const dir = await Deno.makeTempDir();
 * const db = new LmdbEngine();
 * await db.open(dir, { durable: false });
 * db.put(new Uint8Array([1]), new Uint8Array([2]));
 * console.log(db.get(new Uint8Array([1])));
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LmdbEngine implements PeerEngine {
  readonly name = "lmdb" as const;
  readonly describe: string =
    `${LMDB}, binary encoding, noSync except for fillsync`;
  #db: Lmdb | undefined;

  /**
   * Opens an LMDB environment in `dir/lmdb`.
   *
   * @param dir Database directory.
   * @param options `durable` keeps sync-on-commit.
   */
  async open(dir: string, options: PeerOpenOptions): Promise<void> {
    const mod = await import(LMDB) as { open: LmdbOpen };
    this.#db = mod.open({
      path: `${dir}/lmdb`,
      keyEncoding: "binary",
      encoding: "binary",
      noSync: !options.durable,
    });
  }

  /** One write transaction. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.#db!.putSync(key, value);
  }

  /** Async put: resolves once its (shared) transaction is synced. */
  async putDurable(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.#db!.put(key, value);
  }

  /** One write transaction of all entries. */
  batch(keys: Uint8Array[], values: Uint8Array[]): void {
    const db = this.#db!;
    db.transactionSync(() => {
      for (let i = 0; i < keys.length; i++) db.putSync(keys[i]!, values[i]!);
    });
  }

  /** Reads one value (a copy). */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.#db!.get(key);
  }

  /** The same read: LMDB's `get` is synchronous. */
  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.#db!.get(key);
  }

  /** Deletes one key. */
  delete(key: Uint8Array): void {
    this.#db!.removeSync(key);
  }

  /** Walks a range with `getRange` (a read transaction cursor). */
  scan(
    from: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
    visit: (key: Uint8Array, value: Uint8Array) => void,
  ): number {
    const options: LmdbRangeOptions = { reverse, limit };
    if (from !== undefined) options.start = from;
    let n = 0;
    for (const { key, value } of this.#db!.getRange(options)) {
      visit(key, value);
      n++;
    }
    return n;
  }

  /** Closes the environment. */
  async close(): Promise<void> {
    await this.#db?.close();
    this.#db = undefined;
  }
}
