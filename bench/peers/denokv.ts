/**
 * Deno KV peer (`Deno.openKv(path)`, the SQLite-backed local store; needs
 * `--unstable-kv`). Each key is the one-part tuple `[keyBytes]`, whose order
 * is the byte order of `keyBytes`. Deno KV has no non-durable write: every
 * `set` and `atomic().commit()` is a committed SQLite transaction, so `put`
 * and `putDurable` are the same call.
 *
 * The types below are the slice of the unstable KV API this adapter uses,
 * declared here so that `deno check` passes without `--unstable-kv`.
 *
 * @module
 */

import type { PeerEngine, PeerOpenOptions } from "./engine.ts";

type KvKey = readonly Uint8Array[];
interface KvEntry {
  key: KvKey;
  value: unknown;
}
interface KvAtomic {
  set(key: KvKey, value: unknown): KvAtomic;
  commit(): Promise<{ ok: boolean }>;
}
type KvSelector = { prefix: KvKey; start?: KvKey; end?: KvKey };
interface Kv {
  set(key: KvKey, value: unknown): Promise<unknown>;
  get(key: KvKey): Promise<KvEntry>;
  delete(key: KvKey): Promise<void>;
  atomic(): KvAtomic;
  list(
    selector: KvSelector,
    options: { reverse: boolean; limit: number; batchSize: number },
  ): AsyncIterable<KvEntry>;
  close(): void;
}

// Deno KV refuses a list batch larger than 1000 entries; big batches make
// long scans cheaper, small ones keep a 100-entry seek from over-fetching.
const MAX_LIST_BATCH = 1000;

/**
 * The Deno KV adapter of the peer benchmark.
 *
 * @example Needs `--unstable-kv`
 * ```ts ignore
 * import { DenoKvEngine } from "./denokv.ts";
 * const dir = await Deno.makeTempDir();
 * const db = new DenoKvEngine();
 * await db.open(dir, { durable: false });
 * await db.put(new Uint8Array([1]), new Uint8Array([2]));
 * console.log(await db.get(new Uint8Array([1])));
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DenoKvEngine implements PeerEngine {
  readonly name = "denokv" as const;
  readonly describe: string =
    "Deno.openKv (SQLite backend), one-part Uint8Array keys";
  #kv: Kv | undefined;

  /**
   * Opens `dir/bench.kv`.
   *
   * @param dir Database directory.
   */
  async open(dir: string, _options?: PeerOpenOptions): Promise<void> {
    const openKv =
      (Deno as unknown as { openKv?: (path: string) => Promise<Kv> }).openKv;
    if (openKv === undefined) {
      throw new Error("Deno KV is unavailable: run with --unstable-kv");
    }
    this.#kv = await openKv(`${dir}/bench.kv`);
  }

  /** Sets one key (a committed transaction). */
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.#kv!.set([key], value);
  }

  /** Same as `put`: every Deno KV commit is durable. */
  async putDurable(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.#kv!.set([key], value);
  }

  /** One atomic operation of all sets (Deno KV allows up to 1000). */
  async batch(keys: Uint8Array[], values: Uint8Array[]): Promise<void> {
    const op = this.#kv!.atomic();
    for (let i = 0; i < keys.length; i++) op.set([keys[i]!], values[i]!);
    const res = await op.commit();
    if (!res.ok) throw new Error("Deno KV atomic commit failed");
  }

  /** Reads one value. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const e = await this.#kv!.get([key]);
    return (e.value ?? undefined) as Uint8Array | undefined;
  }

  /** Deletes one key. */
  async delete(key: Uint8Array): Promise<void> {
    await this.#kv!.delete([key]);
  }

  /** Walks a range with `list`. */
  async scan(
    from: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
    visit: (key: Uint8Array, value: Uint8Array) => void,
  ): Promise<number> {
    let selector: KvSelector = { prefix: [] };
    if (from !== undefined) {
      if (reverse) {
        // `end` is exclusive; [from ++ 0x00] is the next tuple after [from].
        const end = new Uint8Array(from.length + 1);
        end.set(from);
        selector = { prefix: [], end: [end] };
      } else {
        selector = { prefix: [], start: [from] };
      }
    }
    const batchSize = Math.min(limit, MAX_LIST_BATCH);
    let n = 0;
    for await (
      const e of this.#kv!.list(selector, { reverse, limit, batchSize })
    ) {
      visit(e.key[0]!, e.value as Uint8Array);
      n++;
    }
    return n;
  }

  /** Closes the store. */
  close(): Promise<void> {
    this.#kv?.close();
    this.#kv = undefined;
    return Promise.resolve();
  }
}
