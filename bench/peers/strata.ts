/**
 * Strata in the peer benchmark, through its public API (`mod.ts`) with
 * default options: `put` is `sync: false`, `putDurable` is `sync: true`
 * (group commit makes concurrent durable writers share one `syncData()`).
 *
 * @module
 */

import { DB } from "../../mod.ts";
import type { PeerEngine, PeerOpenOptions } from "./engine.ts";

/**
 * The Strata adapter of the peer benchmark.
 *
 * @example Put, get, scan
 * ```ts
 * import { StrataEngine } from "./strata.ts";
 * const dir = await Deno.makeTempDir();
 * const db = new StrataEngine();
 * await db.open(dir, { durable: false });
 * await db.batch([new Uint8Array([1]), new Uint8Array([3])], [new Uint8Array([10]), new Uint8Array([30])]);
 * await db.putDurable(new Uint8Array([2]), new Uint8Array([20]));
 * const seen: number[] = [];
 * await db.scan(new Uint8Array([2]), true, 10, (k) => seen.push(k[0]!));
 * if (seen.join() !== "2,1") throw new Error(`bad scan ${seen}`);
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StrataEngine implements PeerEngine {
  readonly name = "strata" as const;
  readonly describe: string = "Strata (this repository), default options";
  #db: DB | undefined;

  /**
   * Opens a database in `dir/strata`.
   *
   * @param dir Database directory.
   */
  async open(dir: string, _options?: PeerOpenOptions): Promise<void> {
    // STRATA_BENCH_COMPRESSION=none measures the engine without block
    // compression, for comparisons within one machine's run.
    const compression = Deno.env.get("STRATA_BENCH_COMPRESSION");
    this.#db = await DB.open(
      `${dir}/strata`,
      compression === "none" || compression === "lz4" ? { compression } : {},
    );
  }

  /** `put` with `sync: false`. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#db!.put(key, value);
  }

  /** `put` with `sync: true`. */
  putDurable(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#db!.put(key, value, { sync: true });
  }

  /** One `WriteBatch`, written with `sync: false`. */
  batch(keys: Uint8Array[], values: Uint8Array[]): Promise<void> {
    const db = this.#db!;
    const b = db.batch();
    for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
    return db.write(b);
  }

  /** Point lookup. */
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#db!.get(key);
  }

  /** Point lookup, synchronous (`DB.getSync`). */
  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.#db!.getSync(key);
  }

  /** `delete` with `sync: false`. */
  delete(key: Uint8Array): Promise<void> {
    return this.#db!.delete(key);
  }

  /** Walks a range with one `scan`. */
  async scan(
    from: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
    visit: (key: Uint8Array, value: Uint8Array) => void,
  ): Promise<number> {
    const bounds = from === undefined
      ? {}
      : reverse
      ? { lte: from }
      : { gte: from };
    let n = 0;
    for await (
      const { key, value } of this.#db!.scan({ ...bounds, reverse, limit })
    ) {
      visit(key, value);
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
