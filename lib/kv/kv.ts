/**
 * {@link Kv}: the Deno KV API (`Deno.Kv` of Deno 2.9) on a Strata database,
 * and its list iterator. Every method behaves as Deno KV's does, down to
 * its errors; what lies beyond Deno KV (its limits lifted, expiry that is
 * exact, one-import switching) is documented at `openKv`.
 *
 * @module
 */

import {
  assertKeyType,
  checkReadKeySize,
  decodeKey,
  encodeCursor,
  encodeKey,
  encodeSelector,
  type KvSelector,
  normalizeSelector,
  type SelectorKeys,
  selectorRange,
} from "./key_codec.ts";
import {
  AtomicOperation,
  COMMIT_VERSIONSTAMP,
  commitAtomic,
  prepareAtomic,
  validateEnqueueOptions,
  validateExpireIn,
} from "./kv_atomic.ts";
import type {
  CheckpointOptions,
  CheckpointReport,
} from "../engine/checkpoint.ts";
import type { KvCore, PreparedMutation } from "./kv_core.ts";
import { DATA_SPACE, dataKey, versionstampHex } from "./kv_layout.ts";
import { decodeValue, encodeValue, serializeV8 } from "./value_codec.ts";

/** Deno's error for any use of a closed handle. */
function badResource(): Error {
  return new Deno.errors.BadResource("Bad resource ID");
}

function toEngineBound(bound: Uint8Array): Uint8Array {
  const out = new Uint8Array(bound.length + 1);
  out[0] = DATA_SPACE;
  out.set(bound, 1);
  return out;
}

/** Encodes the key of a point read, with Deno KV's checks. */
function readKey(key: Deno.KvKey, maxReadKeyBytes: number): Uint8Array {
  // Deno reads [key, key ‖ 00): a missing key is an invalid range.
  if (key === null || key === undefined) throw new TypeError("Invalid range");
  assertKeyType(key);
  const encoded = encodeKey(key);
  checkReadKeySize(encoded.length + 1, maxReadKeyBytes);
  return encoded;
}

/**
 * The iterator `Kv.list` returns: entries in key order (or reverse),
 * fetched in batches, with a `cursor` to resume from. It implements
 * `Deno.KvListIterator`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "./open_kv.ts";
 * await using kv = await openKv(":memory:");
 * for (const n of [1, 2, 3]) await kv.set(["n", n], n);
 * const it = kv.list<number>({ prefix: ["n"] }, { limit: 2 });
 * const seen = [];
 * for await (const e of it) seen.push(e.value);
 * assert.deepEqual(seen, [1, 2]);
 * const rest = [];
 * for await (const e of kv.list<number>({ prefix: ["n"] }, { cursor: it.cursor })) rest.push(e.value);
 * assert.deepEqual(rest, [3]);
 * ```
 */
export class KvListIterator<T>
  implements AsyncIterableIterator<Deno.KvEntry<T>> {
  readonly #core: KvCore;
  readonly #closed: () => boolean;
  readonly #keys: SelectorKeys;
  readonly #limit: number | undefined;
  readonly #reverse: boolean;
  readonly #batchSize: number;
  #selector: KvSelector | undefined;
  /** The batch being handed out, last first. */
  #entries: Deno.KvEntry<T>[] | null = null;
  #cursorGen: (() => string) | null;
  #done = false;
  #lastBatch = false;
  #count = 0;

  /**
   * @internal Made by `Kv.list`.
   */
  constructor(
    core: KvCore,
    closed: () => boolean,
    keys: SelectorKeys,
    options: {
      limit: number | undefined;
      cursor: string | undefined;
      reverse: boolean;
      batchSize: number;
    },
  ) {
    this.#core = core;
    this.#closed = closed;
    this.#keys = keys;
    this.#limit = options.limit;
    this.#reverse = options.reverse;
    this.#batchSize = options.batchSize;
    const cursor = options.cursor;
    this.#cursorGen = cursor ? () => cursor : null;
  }

  /**
   * Where to resume: pass it as `cursor` to a later `list` with the same
   * selector. Empty once the iterator is done.
   */
  get cursor(): string {
    if (this.#cursorGen === null) {
      throw new Error("Cannot get cursor before first iteration");
    }
    return this.#cursorGen();
  }

  /** The next entry. */
  next(): Promise<IteratorResult<Deno.KvEntry<T>, undefined>> {
    if (
      this.#done || (this.#limit !== undefined && this.#count >= this.#limit)
    ) {
      return Promise.resolve({ done: true, value: undefined });
    }
    // Not async: an entry of the batch at hand costs one resolved promise.
    if (!this.#entries?.length && !this.#lastBatch) {
      return this.#pullBatch(this.#cursorGen ? this.#cursorGen() : undefined)
        .then((batch) => {
          batch.reverse(); // popped from the end
          this.#entries = batch;
          if (batch.length < this.#batchSize) this.#lastBatch = true;
          return this.#take();
        });
    }
    return Promise.resolve(this.#take());
  }

  #take(): IteratorResult<Deno.KvEntry<T>, undefined> {
    const entry = this.#entries?.pop();
    if (!entry) {
      this.#done = true;
      this.#cursorGen = () => "";
      return { done: true, value: undefined };
    }
    const selector = this.#selector!;
    // From the entry's (decoded) key, as Deno KV does, and only if asked.
    this.#cursorGen = () => encodeCursor(selector, encodeKey(entry.key));
    this.#count++;
    return { done: false, value: entry };
  }

  /** Itself. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Deno.KvEntry<T>> {
    return this;
  }

  async #pullBatch(
    cursor: string | undefined,
  ): Promise<Deno.KvEntry<T>[]> {
    if (this.#closed()) throw badResource();
    const limits = this.#core.options.limits;
    this.#selector ??= encodeSelector(this.#keys);
    const { start, end } = selectorRange(
      this.#selector,
      this.#reverse,
      cursor,
      limits.maxReadKeyBytes,
    );
    if (this.#batchSize > limits.maxReadEntries) {
      throw new TypeError(`Too many entries (max ${limits.maxReadEntries})`);
    }
    const out: Deno.KvEntry<T>[] = [];
    const now = Date.now();
    // A batch is read synchronously, from one consistent state; the await
    // above (and the caller's between batches) leave the event loop its
    // turns.
    const scan = this.#core.db.scanViews({
      gte: toEngineBound(start),
      lt: toEngineBound(end),
      reverse: this.#reverse,
    });
    try {
      for (const { key, value } of scan) {
        // Views: decoded before the scan moves on.
        const entry = this.#core.entry(key.subarray(1), value, now);
        if (!entry) continue; // expired
        out.push(entry as Deno.KvEntry<T>);
        if (out.length >= this.#batchSize) break;
      }
    } finally {
      scan.return?.();
    }
    // Paced like the engine's own reads: a loop of lists leaves background
    // work and other code their turns.
    await this.#core.db.pace(out.length + 1);
    return out;
  }
}

const cores = new WeakMap<Kv, KvCore>();

/**
 * @internal The database behind a handle, for the server (lib/server/),
 * which speaks KV Connect with encoded keys and stored values.
 * @param kv An open handle.
 * @returns Its core.
 * @throws {Deno.errors.BadResource} When the handle is closed.
 */
export function coreOf(kv: Kv): KvCore {
  const core = cores.get(kv);
  if (!core || core.closed || kv.isClosed) throw badResource();
  return core;
}

/**
 * A Deno KV database on Strata: `Deno.Kv`'s interface and behaviour. Made
 * by `openKv`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "./open_kv.ts";
 * await using kv = await openKv(":memory:");
 * await kv.set(["users", 1n], { name: "Ada" });
 * const e = await kv.get<{ name: string }>(["users", 1n]);
 * assert.equal(e.value?.name, "Ada");
 * ```
 */
export class Kv implements Disposable, AsyncDisposable {
  readonly #core: KvCore;
  readonly #release: () => Promise<void>;
  readonly #watchEnds = new Set<() => void>();
  #closed = false;
  #released: Promise<void> | undefined;

  /**
   * @internal Made by `openKv`.
   * @param core The shared database.
   * @param release Lets go of it (the last handle closes it).
   */
  constructor(core: KvCore, release: () => Promise<void>) {
    this.#core = core;
    this.#release = release;
    cores.set(this, core);
  }

  #isClosed = (): boolean => this.#closed || this.#core.closed;

  /** True once this handle is closed. */
  get isClosed(): boolean {
    return this.#isClosed();
  }

  #check(): void {
    if (this.#isClosed()) throw badResource();
  }

  /**
   * A new atomic operation.
   *
   * @returns The operation.
   */
  atomic(): AtomicOperation {
    return new AtomicOperation((checks, mutations, enqueues) => {
      this.#check();
      return commitAtomic(this.#core, checks, mutations, enqueues);
    });
  }

  /**
   * A symbol that, as the last part of a key given to `set` in an atomic
   * operation, stands for the commit's versionstamp.
   *
   * @returns The symbol.
   */
  commitVersionstamp(): symbol {
    return COMMIT_VERSIONSTAMP;
  }

  /**
   * Reads one entry.
   *
   * @param key The key.
   * @param _options `consistency` (every read here is strong).
   * @returns The entry; `value` and `versionstamp` are null when absent.
   */
  async get<T = unknown>(
    key: Deno.KvKey,
    _options?: { consistency?: Deno.KvConsistencyLevel },
  ): Promise<Deno.KvEntryMaybe<T>> {
    this.#check();
    const core = this.#core;
    const encoded = readKey(key, core.options.limits.maxReadKeyBytes);
    // The engine's get, not a synchronous read: it paces a tight loop of
    // reads, so that it leaves background work and other code their turn.
    const raw = await core.db.get(dataKey(encoded));
    const entry = raw && core.entry(encoded, raw, Date.now());
    return (entry ??
      { key, value: null, versionstamp: null }) as Deno.KvEntryMaybe<T>;
  }

  /**
   * Reads several entries at once, from one consistent state.
   *
   * @param keys The keys (at most 10 with Deno KV's limits).
   * @param _options `consistency` (every read here is strong).
   * @returns The entries, in the order of `keys`.
   */
  async getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
    _options?: { consistency?: Deno.KvConsistencyLevel },
  ): Promise<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }> {
    this.#check();
    const limits = this.#core.options.limits;
    const list: Deno.KvKey[] = Array.prototype.map.call(
      keys,
      (k: Deno.KvKey) => k,
    ) as Deno.KvKey[];
    for (const k of list) if (k !== null && k !== undefined) assertKeyType(k);
    if (list.length > limits.maxReadRanges) {
      throw new TypeError(`Too many ranges (max ${limits.maxReadRanges})`);
    }
    const encoded = list.map((k) => readKey(k, limits.maxReadKeyBytes));
    // One synchronous pass: every key as of the same moment, each value
    // decoded before the next read (it is a view of engine memory).
    const core = this.#core;
    const now = Date.now();
    const entries = encoded.map((e, i) => {
      const raw = core.db.getView(dataKey(e));
      return (raw && core.entry(e, raw, now)) ??
        { key: list[i]!, value: null, versionstamp: null };
    });
    await core.db.pace(encoded.length);
    return entries as unknown as { [K in keyof T]: Deno.KvEntryMaybe<T[K]> };
  }

  /**
   * Sets `key` to `value`; resolves once it is durable.
   *
   * @param key The key.
   * @param value Any structured-cloneable value.
   * @param options `expireIn`: milliseconds until the entry is gone.
   * @returns `{ ok: true, versionstamp }`.
   */
  async set(
    key: Deno.KvKey,
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<Deno.KvCommitResult> {
    validateExpireIn(options?.expireIn);
    const stored = encodeValue(value);
    this.#check();
    const core = this.#core;
    const prepared = prepareAtomic(
      [],
      [[key, "set", stored, options?.expireIn]],
      [],
      core.options.limits,
    ).mutations[0] as PreparedMutation & { kind: "set" };
    const counter = prepared.versionstampSuffix
      ? await core.commit([], [prepared], [])
      : await core.commitOne(prepared.key, stored, prepared.expireAt);
    if (counter === null) throw new TypeError("Failed to set value");
    return { ok: true, versionstamp: versionstampHex(counter) };
  }

  /**
   * Deletes `key`; resolves once it is durable.
   *
   * @param key The key.
   */
  async delete(key: Deno.KvKey): Promise<void> {
    this.#check();
    const core = this.#core;
    const prepared = prepareAtomic(
      [],
      [[key, "delete", null, undefined]],
      [],
      core.options.limits,
    ).mutations[0]!;
    await core.commitOne(prepared.key, undefined, 0);
  }

  /**
   * Lists the entries a selector picks: a `prefix` (optionally with a
   * `start` or an `end`), or a `start` and an `end`.
   *
   * @param selector What to list.
   * @param options `limit`, `reverse`, `cursor`, `batchSize`, `consistency`.
   * @returns The iterator.
   */
  list<T = unknown>(
    selector: Deno.KvListSelector,
    options: Deno.KvListOptions = {},
  ): KvListIterator<T> {
    if (
      options.limit !== undefined &&
      (!Number.isInteger(options.limit) || options.limit <= 0)
    ) {
      throw new Error(
        `Limit must be a positive integer: received ${options.limit}`,
      );
    }
    let batchSize = options.batchSize ?? (options.limit ?? 100);
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new Error(
        `batchSize must be a positive integer: received ${batchSize}`,
      );
    }
    if (options.batchSize === undefined && batchSize > 500) batchSize = 500;
    return new KvListIterator<T>(
      this.#core,
      this.#isClosed,
      normalizeSelector(selector),
      {
        limit: options.limit,
        cursor: options.cursor,
        reverse: options.reverse ?? false,
        batchSize,
      },
    );
  }

  /**
   * Enqueues a message for `listenQueue`; resolves once it is durable.
   *
   * @param value The message (structured-cloneable).
   * @param options `delay` (ms), `keysIfUndelivered`, `backoffSchedule` (ms).
   * @returns `{ ok: true, versionstamp }`.
   */
  async enqueue(
    value: unknown,
    options?: {
      delay?: number;
      keysIfUndelivered?: Deno.KvKey[];
      backoffSchedule?: number[];
    },
  ): Promise<Deno.KvCommitResult> {
    validateEnqueueOptions(options);
    const payload = serializeV8(value);
    this.#check();
    const versionstamp = await commitAtomic(this.#core, [], [], [[
      payload,
      options?.delay ?? 0,
      options?.keysIfUndelivered ?? [],
      options?.backoffSchedule ?? null,
    ]]);
    if (versionstamp === null) throw new TypeError("Failed to enqueue value");
    return { ok: true, versionstamp };
  }

  /**
   * Delivers queue messages to `handler`, at least once each, in the order
   * they are due; a handler that throws is retried on the message's backoff
   * schedule. Resolves when this handle closes.
   *
   * @param handler Called with each message.
   */
  async listenQueue(
    // deno-lint-ignore no-explicit-any
    handler: (value: any) => Promise<void> | void,
  ): Promise<void> {
    if (this.#isClosed()) throw new Error("Queue already closed");
    await this.#core.queue.listen(handler, this.#isClosed);
  }

  /**
   * Watches keys: the stream yields their entries at once, then again
   * whenever one of them changes (a burst of changes yields once). It ends
   * when this handle closes.
   *
   * @param keys The keys (at most 10 with Deno KV's limits).
   * @param options `raw: true` yields on every change notification, even
   * when no versionstamp changed.
   * @returns The stream of entry arrays.
   */
  watch<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
    options: { raw?: boolean } = {},
  ): ReadableStream<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }> {
    this.#check();
    const limits = this.#core.options.limits;
    if (!Array.isArray(keys)) assertKeyType(keys);
    const list = keys as readonly Deno.KvKey[];
    for (const k of list) assertKeyType(k);
    if (list.length > limits.maxWatchedKeys) {
      throw new TypeError(`Too many keys (max ${limits.maxWatchedKeys})`);
    }
    const encoded = list.map((k) => {
      const e = encodeKey(k);
      checkReadKeySize(e.length, limits.maxReadKeyBytes);
      return e;
    });
    const keysCopy = list.map((k) => k.slice());
    const { stream, end } = this.#core.watches.watch(
      encoded,
      options.raw ?? false,
      (entries) =>
        entries.map((entry, i) =>
          entry
            ? {
              key: decodeKey(encoded[i]!),
              value: decodeValue(entry.stored),
              versionstamp: versionstampHex(entry.counter),
            }
            : { key: keysCopy[i]!.slice(), value: null, versionstamp: null }
        ),
    );
    this.#watchEnds.add(end);
    return stream as unknown as ReadableStream<
      { [K in keyof T]: Deno.KvEntryMaybe<T[K]> }
    >;
  }

  /**
   * Strata's own, beyond Deno KV: writes an online, consistent copy of the
   * database into `dir` (see `DB.checkpoint`), a backup that `openKv(dir)`
   * opens. Writers and readers go on meanwhile.
   *
   * @param dir Where to write it: absent, or an empty directory.
   * @param options `onProgress`, told after each file.
   * @returns What the checkpoint holds.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { openKv } from "./open_kv.ts";
   * const root = await Deno.makeTempDir();
   * const kv = await openKv(`${root}/live`);
   * await kv.set(["k"], 1);
   * await kv.checkpoint(`${root}/backup`);
   * await kv.closed();
   * const backup = await openKv(`${root}/backup`);
   * assert.equal((await backup.get(["k"])).value, 1);
   * await backup.closed();
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async checkpoint(
    dir: string,
    options?: CheckpointOptions,
  ): Promise<CheckpointReport> {
    this.#check();
    return await this.#core.db.checkpoint(dir, options);
  }

  /**
   * Closes this handle: its watches end and its `listenQueue` resolves.
   * The database closes (in the background) once every handle on it has.
   *
   * @throws {Deno.errors.BadResource} When it was closed already.
   */
  close(): void {
    if (this.#closed) throw badResource();
    this.#closed = true;
    for (const end of this.#watchEnds) end();
    this.#watchEnds.clear();
    this.#core.queue.wake();
    this.#released = this.#release();
    // close() cannot report a failure of the close behind it (Deno KV's is
    // synchronous): closed() does, and nobody else is told twice.
    this.#released.catch(() => {});
  }

  /**
   * Resolves once the database behind this handle is closed (when this
   * was its last handle) or released; closes the handle first if needed.
   */
  closed(): Promise<void> {
    if (!this.#closed) this.close();
    return this.#released!;
  }

  /** Same as {@link Kv.close}, without throwing when already closed. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /** Closes and waits until the database is closed. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.closed();
  }
}
