/**
 * LevelDB peer through `npm:classic-level` (Google LevelDB compiled into a
 * prebuilt Node-API addon that ships inside the npm package). Default
 * LevelDB options (4 MiB write buffer, 8 MiB block cache, Snappy);
 * `put` is LevelDB's `sync: false`, `putDurable` its `sync: true`.
 *
 * The package is imported lazily with a computed specifier, so `deno check`
 * of the project never downloads it; the types below are the slice of its
 * API this adapter uses.
 *
 * @module
 */

import type { PeerEngine, PeerOpenOptions } from "./engine.ts";

/** The exact package the benchmark was written against. */
export const CLASSIC_LEVEL = "npm:classic-level@3.0.0";

interface LevelIteratorOptions {
  gte?: Uint8Array;
  lte?: Uint8Array;
  reverse: boolean;
  limit: number;
}
interface Level {
  open(): Promise<void>;
  put(
    key: Uint8Array,
    value: Uint8Array,
    options?: { sync: boolean },
  ): Promise<void>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getSync?(key: Uint8Array): Uint8Array | undefined;
  del(key: Uint8Array, options?: { sync: boolean }): Promise<void>;
  batch(
    ops: { type: "put"; key: Uint8Array; value: Uint8Array }[],
    options?: { sync: boolean },
  ): Promise<void>;
  iterator(
    options: LevelIteratorOptions,
  ): AsyncIterable<[Uint8Array, Uint8Array]>;
  close(): Promise<void>;
}
type LevelCtor = new (
  location: string,
  options: { keyEncoding: "view"; valueEncoding: "view" },
) => Level;

/**
 * The LevelDB adapter of the peer benchmark.
 *
 * @example Downloads npm:classic-level on first use
 * ```ts ignore
 * import { LevelDbEngine } from "./leveldb.ts";
 * const dir = await Deno.makeTempDir();
 * const db = new LevelDbEngine();
 * await db.open(dir, { durable: false });
 * await db.put(new Uint8Array([1]), new Uint8Array([2]));
 * console.log(await db.get(new Uint8Array([1])));
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LevelDbEngine implements PeerEngine {
  readonly name = "leveldb" as const;
  readonly describe: string =
    `${CLASSIC_LEVEL}, default options (Snappy on), getSync for reads`;
  #db: Level | undefined;

  /**
   * Opens a LevelDB database in `dir/leveldb`.
   *
   * @param dir Database directory.
   */
  async open(dir: string, _options?: PeerOpenOptions): Promise<void> {
    const mod = await import(CLASSIC_LEVEL) as { ClassicLevel: LevelCtor };
    const db = new mod.ClassicLevel(`${dir}/leveldb`, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    await db.open();
    this.#db = db;
  }

  /** LevelDB `Put` with `sync: false`. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#db!.put(key, value);
  }

  /** LevelDB `Put` with `sync: true`. */
  putDurable(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#db!.put(key, value, { sync: true });
  }

  /** One `WriteBatch`. */
  batch(keys: Uint8Array[], values: Uint8Array[]): Promise<void> {
    const ops = keys.map((key, i) => ({
      type: "put" as const,
      key,
      value: values[i]!,
    }));
    return this.#db!.batch(ops);
  }

  /** Synchronous `Get` when the package offers it. */
  get(
    key: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    const db = this.#db!;
    return db.getSync !== undefined ? db.getSync(key) : db.get(key);
  }

  /** Synchronous `Get` (classic-level 3 has it). */
  getSync(key: Uint8Array): Uint8Array | undefined {
    const db = this.#db!;
    if (db.getSync === undefined) {
      throw new Error(`${CLASSIC_LEVEL} has no getSync`);
    }
    return db.getSync(key);
  }

  /** LevelDB `Delete` with `sync: false`. */
  delete(key: Uint8Array): Promise<void> {
    return this.#db!.del(key);
  }

  /** Walks a range with one iterator. */
  async scan(
    from: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
    visit: (key: Uint8Array, value: Uint8Array) => void,
  ): Promise<number> {
    const options: LevelIteratorOptions = { reverse, limit };
    if (from !== undefined) {
      if (reverse) options.lte = from;
      else options.gte = from;
    }
    let n = 0;
    for await (const [k, v] of this.#db!.iterator(options)) {
      visit(k, v);
      n++;
    }
    return n;
  }

  /** Closes the database. */
  async close(): Promise<void> {
    await this.#db?.close();
    this.#db = undefined;
  }
}
