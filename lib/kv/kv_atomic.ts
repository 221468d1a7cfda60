/**
 * Atomic operations of the Deno KV API: {@link AtomicOperation} collects
 * checks, mutations and enqueues as Deno KV's does, and
 * {@link prepareAtomic} validates them in the order Deno KV does (its op
 * `op_kv_atomic_write`, in denoland/deno `ext/kv/lib.rs`), so that a bad
 * input meets the same error, with the same message, at the same moment.
 *
 * @module
 */

import { assertKeyType, checkWriteKey, encodeKey } from "./key_codec.ts";
import type {
  KvCore,
  PreparedCheck,
  PreparedEnqueue,
  PreparedMutation,
} from "./kv_core.ts";
import type { KvLimits } from "./kv_limits.ts";
import { KvU64 } from "./kv_u64.ts";
import { versionstampHex } from "./kv_layout.ts";
import {
  checkEnqueuePayloadSize,
  checkValueSize,
  encodeValue,
  serializeV8,
} from "./value_codec.ts";

/** The symbol `commitVersionstamp()` returns: a key's last part, replaced. */
export const COMMIT_VERSIONSTAMP: unique symbol = Symbol(
  "KvCommitVersionstamp",
);

/** Deno KV's retry schedule when an enqueue names none, in milliseconds. */
export const DEFAULT_BACKOFF_SCHEDULE: readonly number[] = [
  100,
  1000,
  5000,
  30000,
  60000,
];

const MAX_QUEUE_DELAY = 30 * 24 * 60 * 60 * 1000;
const MAX_BACKOFF_INTERVALS = 5;
const MAX_BACKOFF_INTERVAL = 60 * 60 * 1000;

/** A mutation as collected: key, kind, stored value, expireIn. */
type RawMutation = [Deno.KvKey, string, Uint8Array | null, number | undefined];
/** An enqueue as collected: payload, delay, keys, schedule. */
type RawEnqueue = [Uint8Array, number, Deno.KvKey[], number[] | null];
/** A check as collected: key, versionstamp. */
type RawCheck = [Deno.KvKey, string | null];

/**
 * Deno KV's check of `expireIn`.
 *
 * @param expireIn What the caller passed.
 * @throws {TypeError} Unless undefined or a non-negative integer.
 */
export function validateExpireIn(expireIn: number | undefined): void {
  if (expireIn === undefined) return;
  if (!Number.isInteger(expireIn) || expireIn < 0) {
    throw new TypeError(
      `expireIn must be a non-negative integer: received ${expireIn}`,
    );
  }
}

/**
 * Deno KV's checks of an enqueue's options.
 *
 * @param opts What the caller passed.
 * @throws {TypeError} On a bad delay or backoff schedule.
 */
export function validateEnqueueOptions(
  opts: { delay?: number; backoffSchedule?: number[] } | undefined,
): void {
  const delay = opts?.delay;
  if (delay !== undefined) {
    if (delay < 0) {
      throw new TypeError(`Delay must be >= 0: received ${delay}`);
    }
    if (delay > MAX_QUEUE_DELAY) {
      throw new TypeError(
        `Delay cannot be greater than 30 days: received ${delay}`,
      );
    }
    if (Number.isNaN(delay)) throw new TypeError("Delay cannot be NaN");
  }
  const schedule = opts?.backoffSchedule;
  if (schedule !== undefined) {
    if (schedule.length > MAX_BACKOFF_INTERVALS) {
      throw new TypeError(
        `Invalid backoffSchedule, max ${MAX_BACKOFF_INTERVALS} intervals allowed`,
      );
    }
    for (let i = 0; i < schedule.length; i++) {
      const interval = schedule[i]!;
      if (
        interval < 0 || interval > MAX_BACKOFF_INTERVAL ||
        Number.isNaN(interval)
      ) {
        throw new TypeError(
          `Invalid backoffSchedule, interval at index ${i} is invalid`,
        );
      }
    }
  }
}

function checkVersionstampType(value: unknown): void {
  if (value === null || value === undefined || typeof value === "string") {
    return;
  }
  const got = typeof value === "number"
    ? "Number"
    : typeof value === "boolean"
    ? "Boolean"
    : typeof value;
  throw new TypeError(
    `serde_v8 error: invalid type; expected: string, got: ${got}`,
  );
}

function encodeOr(key: Deno.KvKey, wrap: (err: Error) => Error): Uint8Array {
  try {
    return encodeKey(key);
  } catch (err) {
    throw wrap(err as Error);
  }
}

/**
 * Validates and encodes an atomic write, in Deno KV's order: argument
 * types, counts, each check, mutation and enqueue, key and value sizes,
 * totals.
 *
 * @param checks As collected.
 * @param mutations As collected.
 * @param enqueues As collected.
 * @param limits The limits to enforce.
 * @returns The prepared write.
 */
export function prepareAtomic(
  checks: readonly RawCheck[],
  mutations: readonly RawMutation[],
  enqueues: readonly RawEnqueue[],
  limits: KvLimits,
): {
  checks: PreparedCheck[];
  mutations: PreparedMutation[];
  enqueues: PreparedEnqueue[];
} {
  // What Deno's JS does before its op: a trailing commitVersionstamp()
  // turns a set into a versionstamped-key set (and reads key.length).
  const suffixed: boolean[] = [];
  for (const m of mutations) {
    const key = m[0];
    suffixed.push(
      Boolean(
        key.length && m[1] === "set" &&
          key[key.length - 1] === (COMMIT_VERSIONSTAMP as unknown),
      ),
    );
  }
  // The op's argument conversion (serde_v8): types first, unwrapped.
  for (const [key, versionstamp] of checks) {
    assertKeyType(key);
    checkVersionstampType(versionstamp);
  }
  mutations.forEach((m, i) => {
    assertKeyType(suffixed[i] ? m[0].slice(0, -1) : m[0]);
  });
  for (const e of enqueues) {
    if (!Array.isArray(e[2])) assertKeyType(e[2]);
    for (const k of e[2]) assertKeyType(k);
  }
  if (checks.length > limits.maxChecks) {
    throw new TypeError(`Too many checks (max ${limits.maxChecks})`);
  }
  if (mutations.length + enqueues.length > limits.maxMutations) {
    throw new TypeError(`Too many mutations (max ${limits.maxMutations})`);
  }
  const now = Date.now();
  const preparedChecks: PreparedCheck[] = checks.map(([key, vs]) => {
    let versionstamp: string | null = null;
    if (vs !== null && vs !== undefined) {
      if (vs.length !== 20 || !/^[0-9a-fA-F]{20}$/.test(vs)) {
        throw new TypeError("Invalid check");
      }
      versionstamp = vs.toLowerCase();
    }
    return {
      key: encodeOr(key, () => new TypeError("Invalid check")),
      versionstamp,
    };
  });
  const preparedMutations: PreparedMutation[] = mutations.map((m, i) => {
    const [rawKey, type, stored, expireIn] = m;
    const keyParts = suffixed[i] ? rawKey.slice(0, -1) : rawKey;
    const key = encodeOr(
      keyParts,
      (err) => new TypeError(`Invalid mutation: ${err.message}`),
    );
    if (type === "delete") {
      if (stored !== null) {
        throw new TypeError(
          "Invalid mutation: Invalid mutation 'delete' with value",
        );
      }
      return { kind: "delete", key };
    }
    if (stored === null) {
      throw new TypeError(
        `Invalid mutation: Invalid mutation '${type}' without value`,
      );
    }
    if (type === "set") {
      let expireAt = 0;
      if (expireIn !== undefined) {
        expireAt = now + expireIn;
        if (!Number.isSafeInteger(expireAt) || expireAt > 8.64e15) {
          throw new TypeError(
            `Invalid mutation: expireIn is too large: ${expireIn}`,
          );
        }
      }
      return {
        kind: "set",
        key,
        stored,
        expireAt,
        versionstampSuffix: suffixed[i]!,
      };
    }
    return { kind: type as "sum" | "min" | "max", key, stored };
  });
  const preparedEnqueues: PreparedEnqueue[] = enqueues.map((e) => ({
    payload: e[0],
    delay: e[1],
    keysIfUndelivered: e[2].map((k) =>
      encodeOr(k, () => new TypeError("Invalid enqueue"))
    ),
    backoffSchedule: e[3] ?? [...DEFAULT_BACKOFF_SCHEDULE],
  }));
  let totalPayload = 0;
  let totalKeys = 0;
  const keyBytes = (m: PreparedMutation) =>
    m.kind === "set" && m.versionstampSuffix ? m.key.length + 22 : m.key.length;
  for (const c of preparedChecks) {
    checkWriteKey(c.key.length, limits.maxWriteKeyBytes);
    totalPayload += c.key.length;
  }
  for (const m of preparedMutations) {
    checkWriteKey(keyBytes(m), limits.maxWriteKeyBytes);
    totalPayload += keyBytes(m);
  }
  for (const m of preparedMutations) {
    if (m.kind === "delete") continue;
    const k = keyBytes(m);
    totalPayload += checkValueSize(m.stored, limits.maxValueBytes) + k;
    totalKeys += k;
  }
  for (const e of preparedEnqueues) {
    totalPayload += checkEnqueuePayloadSize(e.payload, limits.maxValueBytes);
    totalPayload += 4 * e.backoffSchedule.length;
  }
  if (totalPayload > limits.maxTotalMutationBytes) {
    throw new TypeError(
      `Total mutation size too large (max ${limits.maxTotalMutationBytes} bytes)`,
    );
  }
  if (totalKeys > limits.maxTotalKeyBytes) {
    throw new TypeError(
      `Total key size too large (max ${limits.maxTotalKeyBytes} bytes)`,
    );
  }
  return {
    checks: preparedChecks,
    mutations: preparedMutations,
    enqueues: preparedEnqueues,
  };
}

/**
 * Commits a prepared write on `core`.
 *
 * @returns The versionstamp, or null when a check failed.
 */
export async function commitAtomic(
  core: KvCore,
  checks: readonly RawCheck[],
  mutations: readonly RawMutation[],
  enqueues: readonly RawEnqueue[],
): Promise<string | null> {
  const prepared = prepareAtomic(
    checks,
    mutations,
    enqueues,
    core.options.limits,
  );
  const counter = await core.commit(
    prepared.checks,
    prepared.mutations,
    prepared.enqueues,
  );
  return counter === null ? null : versionstampHex(counter);
}

/**
 * A Deno KV atomic operation: checks that must hold and mutations and
 * enqueues applied all together, or not at all. It implements
 * `Deno.AtomicOperation`.
 *
 * @example A check-and-set
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "./open_kv.ts";
 * await using kv = await openKv(":memory:");
 * const e = await kv.get(["count"]);
 * const r = await kv.atomic().check(e).set(["count"], 1).commit();
 * assert(r.ok);
 * assert.equal((await kv.atomic().check(e).set(["count"], 2).commit()).ok, false);
 * ```
 */
export class AtomicOperation {
  readonly #commit: (
    checks: RawCheck[],
    mutations: RawMutation[],
    enqueues: RawEnqueue[],
  ) => Promise<string | null>;
  #checks: RawCheck[] = [];
  #mutations: RawMutation[] = [];
  #enqueues: RawEnqueue[] = [];

  /**
   * @internal Made by `Kv.atomic()`.
   * @param commit Commits what was collected.
   */
  constructor(
    commit: (
      checks: RawCheck[],
      mutations: RawMutation[],
      enqueues: RawEnqueue[],
    ) => Promise<string | null>,
  ) {
    this.#commit = commit;
  }

  /**
   * Adds checks: the commit fails (`{ ok: false }`) unless each key's
   * versionstamp is the one given (null: the key is absent).
   *
   * @param checks Keys and versionstamps, as `get` returns them.
   * @returns This operation.
   */
  check(...checks: Deno.AtomicCheck[]): this {
    for (const check of checks) {
      this.#checks.push([check.key, check.versionstamp]);
    }
    return this;
  }

  /**
   * Adds mutations given as objects (`set`, `delete`, `sum`, `min`, `max`).
   *
   * @param mutations The mutations.
   * @returns This operation.
   */
  mutate(...mutations: Deno.KvMutation[]): this {
    for (const mutation of mutations) {
      const key = mutation.key;
      let value: Uint8Array | null = null;
      let expireIn: number | undefined = undefined;
      const type = mutation.type;
      switch (type) {
        case "delete":
          if ((mutation as { value?: unknown }).value) {
            throw new TypeError("Invalid mutation 'delete' with value");
          }
          break;
        case "set":
          if (typeof mutation.expireIn === "number") {
            expireIn = mutation.expireIn;
          }
          validateExpireIn(expireIn);
          /* falls through */
        case "sum":
        case "min":
        case "max":
          if (!Object.hasOwn(mutation, "value")) {
            throw new TypeError(`Invalid mutation '${type}' without value`);
          }
          value = encodeValue((mutation as { value: unknown }).value);
          break;
        default:
          throw new TypeError("Invalid mutation type");
      }
      this.#mutations.push([key, type, value, expireIn]);
    }
    return this;
  }

  /**
   * Adds `n` to the `KvU64` at `key` (wrapping around at 2^64; an absent
   * key counts as 0).
   *
   * @param key The key.
   * @param n A bigint from 0 to 2^64 − 1.
   * @returns This operation.
   */
  sum(key: Deno.KvKey, n: bigint): this {
    this.#mutations.push([key, "sum", encodeValue(new KvU64(n)), undefined]);
    return this;
  }

  /**
   * Sets the `KvU64` at `key` to the smaller of it and `n`.
   *
   * @param key The key.
   * @param n A bigint from 0 to 2^64 − 1.
   * @returns This operation.
   */
  min(key: Deno.KvKey, n: bigint): this {
    this.#mutations.push([key, "min", encodeValue(new KvU64(n)), undefined]);
    return this;
  }

  /**
   * Sets the `KvU64` at `key` to the larger of it and `n`.
   *
   * @param key The key.
   * @param n A bigint from 0 to 2^64 − 1.
   * @returns This operation.
   */
  max(key: Deno.KvKey, n: bigint): this {
    this.#mutations.push([key, "max", encodeValue(new KvU64(n)), undefined]);
    return this;
  }

  /**
   * Sets `key` to `value`.
   *
   * @param key The key (its last part may be `kv.commitVersionstamp()`).
   * @param value Any structured-cloneable value.
   * @param options `expireIn`: milliseconds until the entry is gone.
   * @returns This operation.
   */
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    validateExpireIn(options?.expireIn);
    this.#mutations.push([key, "set", encodeValue(value), options?.expireIn]);
    return this;
  }

  /**
   * Deletes `key`.
   *
   * @param key The key.
   * @returns This operation.
   */
  delete(key: Deno.KvKey): this {
    this.#mutations.push([key, "delete", null, undefined]);
    return this;
  }

  /**
   * Adds a queue message, delivered to `listenQueue` once committed.
   *
   * @param value The message (structured-cloneable).
   * @param opts `delay` (ms), `keysIfUndelivered`, `backoffSchedule` (ms).
   * @returns This operation.
   */
  enqueue(
    value: unknown,
    opts?: {
      delay?: number;
      keysIfUndelivered?: Deno.KvKey[];
      backoffSchedule?: number[];
    },
  ): this {
    validateEnqueueOptions(opts);
    this.#enqueues.push([
      serializeV8(value),
      opts?.delay ?? 0,
      opts?.keysIfUndelivered ?? [],
      opts?.backoffSchedule ?? null,
    ]);
    return this;
  }

  /**
   * Commits: all checks hold and everything is written, durably, or
   * nothing is.
   *
   * @returns `{ ok: true, versionstamp }`, or `{ ok: false }` when a check
   * failed.
   */
  async commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const versionstamp = await this.#commit(
      this.#checks,
      this.#mutations,
      this.#enqueues,
    );
    if (versionstamp === null) return { ok: false };
    return { ok: true, versionstamp };
  }

  /** An atomic operation is not a promise: awaiting one is a mistake. */
  then(): never {
    throw new TypeError(
      "'Deno.AtomicOperation' is not a promise: did you forget to call 'commit()'",
    );
  }
}
