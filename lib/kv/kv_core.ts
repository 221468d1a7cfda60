/**
 * One database behind the Deno KV API: the engine, the versionstamp
 * counter, and the commit pipeline every write goes through. Every `Kv`
 * handle that `openKv` hands out for a directory shares one core.
 *
 * A commit runs in two steps. Its checks, mutations and enqueues are
 * applied in a critical section, one commit at a time (so each sees every
 * commit before it, and the checks are serializable): read what the
 * checks and sums need, give the commit the next versionstamp, and write
 * it all as one engine batch, which is atomic. Then, outside the critical
 * section, it waits until the batch is durable, with `DB.sync()`: commits
 * waiting together share one `fdatasync` (group commit).
 *
 * @module
 */

import { DB } from "../engine/db.ts";
import type { Fs } from "../fs/fs.ts";
import { toHex } from "../util/bytes.ts";
import type { KvLimits } from "./kv_limits.ts";
import {
  dataKey,
  decodeEntryHeader,
  encodeEntry,
  encodeMessage,
  ENTRY_EXPIRY,
  ENTRY_HEADER_BYTES,
  entryCounter,
  entryExpireAt,
  queueKey,
  readVersionstamp,
  VERSIONSTAMP_KEY,
  versionstampHex,
  writeVersionstamp,
} from "./kv_layout.ts";
import { QueueDispatcher } from "./kv_queue.ts";
import { WatchHub } from "./kv_watch.ts";
import { decodeKey } from "./key_codec.ts";
import {
  decodeValueAt,
  deserializeV8,
  encodeU64,
  encodeValue,
  storedU64,
  TAG_LE64,
  TAG_V8,
} from "./value_codec.ts";

/** A check of an atomic operation, validated and encoded. */
export interface PreparedCheck {
  /** The encoded Deno KV key. */
  key: Uint8Array;
  /** The versionstamp it must have (lower case), or null for "absent". */
  versionstamp: string | null;
}

/** A mutation of an atomic operation, validated and encoded. */
export type PreparedMutation =
  | {
    kind: "set";
    key: Uint8Array;
    stored: Uint8Array;
    expireAt: number;
    /** The key ends in the commit's versionstamp (`commitVersionstamp()`). */
    versionstampSuffix: boolean;
  }
  | { kind: "delete"; key: Uint8Array }
  | { kind: "sum" | "min" | "max"; key: Uint8Array; stored: Uint8Array };

/** An enqueue of an atomic operation, validated and encoded. */
export interface PreparedEnqueue {
  /** The message, V8-serialized. */
  payload: Uint8Array;
  /** Milliseconds from the commit until it is due. */
  delay: number;
  /** Encoded keys to write the message to when delivery gives up. */
  keysIfUndelivered: Uint8Array[];
  /** Retry delays in milliseconds. */
  backoffSchedule: number[];
}

/** A live entry, as read. */
export interface StoredEntry {
  /** Its versionstamp counter. */
  counter: number;
  /** When it expires (0: never). */
  expireAt: number;
  /** The stored value (tag and payload), a view into `raw`. */
  stored: Uint8Array;
}

/** Open options a core keeps. */
export interface CoreOptions {
  /** Wait for `fdatasync` before a write resolves. */
  sync: boolean;
  /** The limits to check. */
  limits: KvLimits;
}

/** Appends a versionstamp as a string key part: 02 ‖ 20 hex digits ‖ 00. */
function withVersionstampSuffix(key: Uint8Array, counter: number): Uint8Array {
  const hex = new TextEncoder().encode(versionstampHex(counter));
  const out = new Uint8Array(key.length + 2 + hex.length);
  out.set(key);
  out[key.length] = 0x02;
  out.set(hex, key.length + 1);
  out[out.length - 1] = 0x00;
  return out;
}

/** What a V8-stored number or bigint operand of `sum` is, for messages. */
type SumKind = "KvU64" | "Number" | "BigInt" | "other";

function sumKind(stored: Uint8Array): { kind: SumKind; value: unknown } {
  if (stored[0] === TAG_LE64) {
    return { kind: "KvU64", value: storedU64(stored) };
  }
  if (stored[0] === TAG_V8) {
    const value = deserializeV8(stored);
    if (typeof value === "number") return { kind: "Number", value };
    if (typeof value === "bigint") return { kind: "BigInt", value };
    return { kind: "other", value };
  }
  return { kind: "other", value: undefined };
}

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
/** Versionstamp counters reserved at a time (see `KvCore.#reserved`). */
const RESERVATION = 1000;

/**
 * Applies `sum`, `min` or `max` to the current stored value (or none), as
 * Deno KV does: on u64 operands, `sum` wraps around; `sum` also adds
 * numbers to numbers and bigints to bigints.
 */
function mutateValue(
  op: "sum" | "min" | "max",
  current: Uint8Array | undefined,
  operand: Uint8Array,
): Uint8Array {
  const operandU64 = storedU64(operand);
  if (op !== "sum" || operandU64 !== undefined) {
    if (operandU64 === undefined) {
      throw new TypeError(
        `Failed to perform '${op}' mutation on a non-U64 operand`,
      );
    }
    if (current === undefined) return operand;
    const old = storedU64(current);
    if (old === undefined) {
      throw new TypeError(
        `Failed to perform '${op}' mutation on a non-U64 value in the database`,
      );
    }
    const result = op === "sum"
      ? (old + operandU64) & MAX_U64
      : op === "min"
      ? (old < operandU64 ? old : operandU64)
      : (old > operandU64 ? old : operandU64);
    return encodeU64(result);
  }
  // `sum` of a V8 number or bigint (Deno KV's newer sum).
  const b = sumKind(operand);
  if (b.kind === "other") {
    throw new TypeError("Some of the parameters are not valid V8 values");
  }
  if (current === undefined) return operand;
  const a = sumKind(current);
  if (a.kind === "other") throw new TypeError("Invalid sum operand");
  if (a.kind === "KvU64" && b.kind === "BigInt") {
    const n = b.value as bigint;
    if (n >= 0n && n <= MAX_U64) {
      return encodeU64(((a.value as bigint) + n) & MAX_U64);
    }
  }
  if (a.kind !== b.kind) {
    throw new TypeError(`Cannot sum ${a.kind} with ${b.kind}`);
  }
  if (a.kind === "Number") {
    return encodeValue((a.value as number) + (b.value as number));
  }
  return encodeValue((a.value as bigint) + (b.value as bigint));
}

/**
 * The shared database of every `Kv` handle on one directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvCore } from "./kv_core.ts";
 * import { DENO_KV_LIMITS } from "./kv_limits.ts";
 * const core = await KvCore.open(":memory:", undefined, { sync: true, limits: DENO_KV_LIMITS });
 * const counter = await core.commit([], [], []);
 * assert.equal(counter, 1);
 * await core.close();
 * ```
 */
export class KvCore {
  /** The engine. */
  readonly db: DB;
  /** Durability and limits. */
  readonly options: CoreOptions;
  /** Watchers of keys, woken by commits. */
  readonly watches: WatchHub;
  /** The queue's message dispatch. */
  readonly queue: QueueDispatcher;
  /** Handles sharing this core (see `openKv`). */
  refs = 0;

  /** The last versionstamp counter handed out. */
  #counter: number;
  /**
   * Counters up to this one are reserved in the database: a commit that
   * goes past it writes a new reservation with its entries, so that a
   * reopen, which starts after the reservation, never hands out one again
   * (versionstamps jump after a reopen, as Deno KV's do by design, and a
   * commit does not pay a second entry for its counter).
   */
  #reserved: number;
  /** A commit holds the critical section. */
  #busy = false;
  /** Commits waiting for it, first come first served. */
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  private constructor(db: DB, options: CoreOptions, counter: number) {
    this.db = db;
    this.options = options;
    this.#counter = counter;
    this.#reserved = counter;
    this.watches = new WatchHub(this);
    this.queue = new QueueDispatcher(this);
  }

  /**
   * Opens the engine on `path` and recovers the versionstamp counter.
   *
   * @param path A directory, or `":memory:"`.
   * @param fs The filesystem, or the real one.
   * @param options Durability and limits.
   * @returns The core.
   */
  static async open(
    path: string,
    fs: Fs | undefined,
    options: CoreOptions,
  ): Promise<KvCore> {
    const db = await DB.open(path, {
      valueExpiry: ENTRY_EXPIRY,
      // Deno KV's close() returns at once, and ours closes in the
      // background: keep that short (programs remove the file next).
      flushOnClose: false,
      ...(fs ? { fs } : {}),
    });
    const last = db.getSync(VERSIONSTAMP_KEY);
    const counter = last && last.length >= 8 ? readVersionstamp(last, 0) : 0;
    return new KvCore(db, options, counter);
  }

  /** True once {@link KvCore.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads a live entry.
   *
   * @param key The encoded Deno KV key.
   * @param now The time that decides what has expired.
   * @returns The entry, or undefined when absent or expired.
   */
  read(key: Uint8Array, now: number): StoredEntry | undefined {
    return this.decode(this.db.getSync(dataKey(key)), now);
  }

  /**
   * Decodes an entry as read from the engine.
   *
   * @param raw The engine's value, or undefined.
   * @param now The time that decides what has expired.
   * @returns The entry, or undefined when absent or expired.
   */
  decode(raw: Uint8Array | undefined, now: number): StoredEntry | undefined {
    if (raw === undefined) return undefined;
    const { counter, expireAt } = decodeEntryHeader(raw);
    if (expireAt !== 0 && expireAt <= now) return undefined;
    return { counter, expireAt, stored: raw.subarray(ENTRY_HEADER_BYTES) };
  }

  /**
   * Enters the critical section: undefined when it was free (the common
   * case costs no promise), else a promise that resolves when it is ours.
   */
  #acquire(): Promise<void> | undefined {
    if (!this.#busy) {
      this.#busy = true;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Leaves it, handing it to the next commit waiting. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#busy = false;
  }

  /**
   * The Deno KV entry an engine value holds.
   *
   * @param encodedKey The entry's encoded Deno KV key.
   * @param raw The engine's value (a view is fine: it is decoded at once).
   * @param now The time that decides what has expired.
   * @returns The entry, or undefined when expired.
   */
  entry(
    encodedKey: Uint8Array,
    raw: Uint8Array,
    now: number,
  ): Deno.KvEntry<unknown> | undefined {
    const expireAt = entryExpireAt(raw);
    if (expireAt !== 0 && expireAt <= now) return undefined;
    return {
      key: decodeKey(encodedKey),
      value: decodeValueAt(raw, ENTRY_HEADER_BYTES),
      versionstamp: versionstampHex(entryCounter(raw)),
    };
  }

  /** Runs `work` alone: no other commit runs until it settles. */
  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const wait = this.#acquire();
    if (wait) await wait;
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  /** The next counter; adds a new reservation to `batch` when needed. */
  #nextCounter(batch: ReturnType<DB["batch"]> | undefined): number {
    const counter = this.#counter + 1;
    if (counter > this.#reserved) {
      const reserved = counter + RESERVATION;
      const stamp = new Uint8Array(10);
      writeVersionstamp(stamp, 0, reserved);
      batch!.put(VERSIONSTAMP_KEY, stamp);
      this.#reserved = reserved;
    }
    return counter;
  }

  /**
   * The fast path of `set` and `delete`: one mutation and no check, so no
   * batch and no read; the engine's single put or delete.
   *
   * @param key The encoded Deno KV key.
   * @param stored The value (undefined: delete).
   * @param expireAt When it expires (0: never).
   * @returns The commit's versionstamp counter.
   */
  commitOne(
    key: Uint8Array,
    stored: Uint8Array | undefined,
    expireAt: number,
  ): Promise<number> {
    if (this.#busy || this.#counter + 1 > this.#reserved) {
      const mutation: PreparedMutation = stored === undefined
        ? { kind: "delete", key }
        : { kind: "set", key, stored, expireAt, versionstampSuffix: false };
      return this.commit([], [mutation], []) as Promise<number>;
    }
    this.#busy = true;
    const counter = this.#nextCounter(undefined);
    let applied: Promise<void>;
    try {
      applied = stored === undefined
        ? this.db.delete(dataKey(key), { sync: false })
        : this.db.put(dataKey(key), encodeEntry(counter, expireAt, stored), {
          sync: false,
        });
    } catch (err) {
      this.#release();
      return Promise.reject(err);
    }
    this.#counter = counter;
    const done = applied.then(() => {
      this.#release();
      this.watches.changed([key]);
      return counter;
    }, (err) => {
      this.#release();
      throw err;
    });
    return this.options.sync
      ? done.then((c) => this.db.sync().then(() => c))
      : done;
  }

  /**
   * Commits an atomic operation (already validated).
   *
   * @param checks Versionstamps that must hold.
   * @param mutations What to write, in order.
   * @param enqueues Messages to enqueue.
   * @returns The commit's versionstamp counter, or null when a check failed.
   * @throws {TypeError} When a `sum`, `min` or `max` meets a value it cannot
   * combine with (nothing is written then).
   */
  async commit(
    checks: readonly PreparedCheck[],
    mutations: readonly PreparedMutation[],
    enqueues: readonly PreparedEnqueue[],
  ): Promise<number | null> {
    const counter = await this.#exclusive(async () => {
      const now = Date.now();
      for (const check of checks) {
        const entry = this.read(check.key, now);
        const current = entry ? versionstampHex(entry.counter) : null;
        if (current !== check.versionstamp) return null;
      }
      const batch = this.db.batch();
      const counter = this.#nextCounter(batch);
      const touched: Uint8Array[] = [];
      // What this commit wrote so far, for a later sum on the same key.
      const written = new Map<string, Uint8Array | undefined>();
      const current = (key: Uint8Array): Uint8Array | undefined => {
        const hex = toHex(key);
        return written.has(hex)
          ? written.get(hex)
          : this.read(key, now)?.stored;
      };
      for (const m of mutations) {
        switch (m.kind) {
          case "set": {
            const key = m.versionstampSuffix
              ? withVersionstampSuffix(m.key, counter)
              : m.key;
            batch.put(dataKey(key), encodeEntry(counter, m.expireAt, m.stored));
            written.set(toHex(key), m.stored);
            touched.push(key);
            break;
          }
          case "delete":
            batch.delete(dataKey(m.key));
            written.set(toHex(m.key), undefined);
            touched.push(m.key);
            break;
          default: {
            const result = mutateValue(m.kind, current(m.key), m.stored);
            batch.put(dataKey(m.key), encodeEntry(counter, 0, result));
            written.set(toHex(m.key), result);
            touched.push(m.key);
          }
        }
      }
      enqueues.forEach((e, i) => {
        batch.put(
          queueKey(now + e.delay, counter, i),
          encodeMessage({
            payload: e.payload,
            keysIfUndelivered: e.keysIfUndelivered,
            backoffSchedule: e.backoffSchedule,
          }),
        );
      });
      await this.db.write(batch, { sync: false });
      this.#counter = counter;
      this.watches.changed(touched);
      if (enqueues.length > 0) this.queue.wake();
      return counter;
    });
    if (counter !== null && this.options.sync) await this.db.sync();
    return counter;
  }

  /**
   * Commits a write the engine itself builds (the queue's deliveries and
   * retries), with the next versionstamp.
   *
   * @param build Adds to the batch, given the commit's counter; returns
   * the data keys it wrote, for watchers.
   */
  async commitInternal(
    build: (batch: ReturnType<DB["batch"]>, counter: number) => Uint8Array[],
  ): Promise<void> {
    await this.#exclusive(async () => {
      const batch = this.db.batch();
      const counter = this.#nextCounter(batch);
      const touched = build(batch, counter);
      await this.db.write(batch, { sync: false });
      this.#counter = counter;
      this.watches.changed(touched);
    });
    if (this.options.sync) await this.db.sync();
  }

  /**
   * Closes the engine, once every handle let go: watchers end, the queue
   * stops, commits in flight finish first.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.watches.closeAll();
    this.queue.close();
    // Commits in flight finish: wait for the critical section to be free.
    const wait = this.#acquire();
    if (wait) await wait;
    this.#release();
    await this.queue.idle();
    await this.db.close();
  }
}
