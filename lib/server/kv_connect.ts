/**
 * KV Connect, the protocol `Deno.openKv("http://…")` and `npm:@deno/kv`
 * speak (denoland/denokv `proto/kv-connect.md`), served from a Strata
 * database. Two steps: the metadata exchange (`POST /`, JSON) tells the
 * client which protocol version to use, where the data path is and which
 * token to send; then the data path (`POST /v2/snapshot_read`,
 * `/v2/atomic_write`, `/v2/watch`) carries protobuf messages
 * (lib/server/datapath_codec.ts).
 *
 * Keys on the wire are Deno KV's encoded keys; values are `(encoding,
 * bytes)` pairs: exactly what `openKv` stores, so a request maps onto the
 * engine without decoding a single value. Versionstamps are 10 bytes: the
 * commit's counter, 8 bytes big-endian, then two zero bytes, as denokv's.
 *
 * @module
 */

import { decodeKey } from "../kv/key_codec.ts";
import type {
  KvCore,
  PreparedCheck,
  PreparedEnqueue,
  PreparedMutation,
  StoredEntry,
} from "../kv/kv_core.ts";
import { DEFAULT_BACKOFF_SCHEDULE } from "../kv/kv_atomic.ts";
import {
  DATA_SPACE,
  ENTRY_HEADER_BYTES,
  entryCounter,
  entryExpireAt,
  VERSIONSTAMP_BYTES,
  writeVersionstamp,
} from "../kv/kv_layout.ts";
import {
  checkEnqueuePayloadSize,
  checkValueSize,
  kvValueToStored,
  storedToKvValue,
} from "../kv/value_codec.ts";
import {
  AtomicWriteStatus,
  decodeAtomicWrite,
  decodeSnapshotRead,
  decodeWatch,
  encodeAtomicWriteOutput,
  encodeSnapshotReadOutput,
  encodeWatchOutputFrame,
  type KvEntry,
  MutationType,
  SnapshotReadStatus,
  type WatchKeyOutput,
} from "./datapath_codec.ts";

/** A client's mistake: answered with this status and a one-line reason. */
export class ClientError extends Error {
  /**
   * @param status The HTTP status.
   * @param message The reason, one line.
   */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ClientError";
  }
}

/** The protocol versions this server speaks. */
const VERSIONS = [2, 3];
/** How long a metadata token is good for (clients refresh before). */
const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** A watch sends an empty frame this often, so proxies keep it open. */
const KEEPALIVE_MS = 5000;

function engineKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out[0] = DATA_SPACE;
  out.set(key, 1);
  return out;
}

function versionstampBytes(counter: number): Uint8Array {
  const out = new Uint8Array(VERSIONSTAMP_BYTES);
  writeVersionstamp(out, 0, counter);
  return out;
}

function toEntry(key: Uint8Array, entry: StoredEntry): KvEntry {
  const value = storedToKvValue(entry.stored);
  return {
    key,
    value: value.data,
    encoding: value.encoding,
    versionstamp: versionstampBytes(entry.counter),
  };
}

/** A key a client sent must be a Deno KV key: writes and checks only. */
function checkKey(key: Uint8Array, what: string, maxBytes: number): void {
  if (key.length === 0) throw new ClientError(400, `${what}: empty key`);
  if (key.length > maxBytes) {
    throw new ClientError(
      400,
      `${what}: key of ${key.length} bytes (max ${maxBytes})`,
    );
  }
  try {
    decodeKey(key);
  } catch {
    throw new ClientError(400, `${what}: not a Deno KV key`);
  }
}

/**
 * Serves one database over KV Connect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvConnect } from "./kv_connect.ts";
 * import { coreOf } from "../kv/kv.ts";
 * import { openKv } from "../kv/open_kv.ts";
 * await using kv = await openKv(":memory:");
 * const connect = new KvConnect(coreOf(kv), "secret");
 * const meta = connect.metadata({ supportedVersions: [1, 2, 3] });
 * assert.equal(meta.version, 3);
 * assert.equal(meta.endpoints[0]?.url, "/v2");
 * ```
 */
export class KvConnect {
  readonly #core: KvCore;
  readonly #token: string;
  /** The database's id, as the metadata exchange reports it. */
  readonly databaseId: string = crypto.randomUUID();

  /**
   * @param core The database.
   * @param token The token clients send on the data path.
   */
  constructor(core: KvCore, token: string) {
    this.#core = core;
    this.#token = token;
  }

  /**
   * The metadata exchange: the protocol version, the data path and the
   * token to send there.
   *
   * @param request The client's JSON (`{ supportedVersions }`).
   * @returns The JSON to answer with.
   * @throws {ClientError} 400 when the client speaks none of our versions.
   */
  metadata(request: unknown): {
    version: number;
    databaseId: string;
    endpoints: { url: string; consistency: string }[];
    token: string;
    expiresAt: string;
  } {
    const versions = (request as { supportedVersions?: unknown })
      ?.supportedVersions;
    if (!Array.isArray(versions)) {
      throw new ClientError(400, "metadata request without supportedVersions");
    }
    const version = Math.max(
      ...VERSIONS.filter((v) => versions.includes(v)),
    );
    if (!Number.isFinite(version)) {
      throw new ClientError(
        400,
        `no supported protocol version (server speaks ${VERSIONS.join(", ")})`,
      );
    }
    return {
      version,
      databaseId: this.databaseId,
      endpoints: [{ url: "/v2", consistency: "strong" }],
      token: this.#token,
      expiresAt: new Date(Date.now() + TOKEN_LIFETIME_MS).toISOString(),
    };
  }

  /**
   * `snapshot_read`: every range, from one consistent state.
   *
   * @param body A `SnapshotRead`.
   * @returns A `SnapshotReadOutput`.
   */
  snapshotRead(body: Uint8Array): Uint8Array {
    const request = decodeSnapshotRead(body);
    const limits = this.#core.options.limits;
    if (request.ranges.length > limits.maxReadRanges) {
      throw new ClientError(
        400,
        `too many ranges (max ${limits.maxReadRanges})`,
      );
    }
    let total = 0;
    for (const r of request.ranges) {
      if (r.limit <= 0) {
        throw new ClientError(400, "range limit must be at least 1");
      }
      total += r.limit;
      for (const k of [r.start, r.end]) {
        if (k.length > limits.maxReadKeyBytes) {
          throw new ClientError(
            400,
            `range bound of ${k.length} bytes (max ${limits.maxReadKeyBytes})`,
          );
        }
      }
    }
    if (total > limits.maxReadEntries) {
      throw new ClientError(
        400,
        `too many entries (max ${limits.maxReadEntries})`,
      );
    }
    const db = this.#core.db;
    const now = Date.now();
    using snapshot = db.snapshot();
    const ranges = request.ranges.map((r) => {
      const values: KvEntry[] = [];
      if (compare(r.start, r.end) >= 0) return { values };
      for (
        const { key, value } of db.scanViews({
          gte: engineKey(r.start),
          lt: engineKey(r.end),
          reverse: r.reverse,
          snapshot,
        })
      ) {
        const expireAt = entryExpireAt(value);
        if (expireAt !== 0 && expireAt <= now) continue;
        // Views: copied before the scan moves on.
        const stored = value.slice(ENTRY_HEADER_BYTES);
        values.push(toEntry(key.slice(1), {
          counter: entryCounter(value),
          expireAt,
          stored,
        }));
        if (values.length >= r.limit) break;
      }
      return { values };
    });
    return encodeSnapshotReadOutput({
      ranges,
      readDisabled: false,
      readIsStronglyConsistent: true,
      status: SnapshotReadStatus.SR_SUCCESS,
    });
  }

  /**
   * `atomic_write`: checks, mutations and enqueues, all or nothing.
   *
   * @param body An `AtomicWrite`.
   * @returns An `AtomicWriteOutput`.
   */
  async atomicWrite(body: Uint8Array): Promise<Uint8Array> {
    const request = decodeAtomicWrite(body);
    const limits = this.#core.options.limits;
    if (request.checks.length > limits.maxChecks) {
      throw new ClientError(400, `too many checks (max ${limits.maxChecks})`);
    }
    if (
      request.mutations.length + request.enqueues.length > limits.maxMutations
    ) {
      throw new ClientError(
        400,
        `too many mutations (max ${limits.maxMutations})`,
      );
    }
    const now = Date.now();
    let totalBytes = 0;
    const checks: PreparedCheck[] = request.checks.map((c, i) => {
      checkKey(c.key, `check ${i}`, limits.maxWriteKeyBytes);
      totalBytes += c.key.length;
      if (
        c.versionstamp.length !== 0 &&
        c.versionstamp.length !== VERSIONSTAMP_BYTES
      ) {
        throw new ClientError(
          400,
          `check ${i}: versionstamp of ${c.versionstamp.length} bytes`,
        );
      }
      return {
        key: c.key,
        versionstamp: c.versionstamp.length === 0 ? null : hex(c.versionstamp),
      };
    });
    const mutations: PreparedMutation[] = request.mutations.map((m, i) => {
      const what = `mutation ${i}`;
      checkKey(m.key, what, limits.maxWriteKeyBytes);
      totalBytes += m.key.length;
      if (m.mutationType === MutationType.M_DELETE) {
        return { kind: "delete", key: m.key };
      }
      if (!m.value) throw new ClientError(400, `${what}: no value`);
      let stored: Uint8Array;
      try {
        stored = kvValueToStored(m.value.encoding, m.value.data);
      } catch (err) {
        throw new ClientError(400, `${what}: ${(err as Error).message}`);
      }
      try {
        totalBytes += checkValueSize(stored, limits.maxValueBytes);
      } catch (err) {
        throw new ClientError(400, `${what}: ${(err as Error).message}`);
      }
      switch (m.mutationType) {
        case MutationType.M_SET:
        case MutationType.M_SET_SUFFIX_VERSIONSTAMPED_KEY:
          return {
            kind: "set",
            key: m.key,
            stored,
            expireAt: m.expireAtMs > 0 ? m.expireAtMs : 0,
            versionstampSuffix:
              m.mutationType === MutationType.M_SET_SUFFIX_VERSIONSTAMPED_KEY,
          };
        case MutationType.M_SUM:
          return { kind: "sum", key: m.key, stored };
        case MutationType.M_MIN:
          return { kind: "min", key: m.key, stored };
        case MutationType.M_MAX:
          return { kind: "max", key: m.key, stored };
      }
      throw new ClientError(
        400,
        `${what}: unknown mutation type ${m.mutationType}`,
      );
    });
    const enqueues: PreparedEnqueue[] = request.enqueues.map((e, i) => {
      try {
        totalBytes += checkEnqueuePayloadSize(e.payload, limits.maxValueBytes);
      } catch (err) {
        throw new ClientError(400, `enqueue ${i}: ${(err as Error).message}`);
      }
      e.keysIfUndelivered.forEach((k) =>
        checkKey(k, `enqueue ${i}`, limits.maxWriteKeyBytes)
      );
      return {
        payload: e.payload,
        delay: Math.max(0, e.deadlineMs - now),
        keysIfUndelivered: e.keysIfUndelivered,
        backoffSchedule: e.backoffSchedule.length > 0
          ? e.backoffSchedule
          : [...DEFAULT_BACKOFF_SCHEDULE],
      };
    });
    if (totalBytes > limits.maxTotalMutationBytes) {
      throw new ClientError(
        400,
        `total mutation size too large (max ${limits.maxTotalMutationBytes} bytes)`,
      );
    }
    let counter: number | null;
    try {
      counter = await this.#core.commit(checks, mutations, enqueues);
    } catch (err) {
      // A sum on a value of the wrong type, and the like: the client's.
      if (err instanceof TypeError) throw new ClientError(400, err.message);
      throw err;
    }
    return encodeAtomicWriteOutput(
      counter === null
        ? {
          status: AtomicWriteStatus.AW_CHECK_FAILURE,
          versionstamp: new Uint8Array(0),
          failedChecks: [],
        }
        : {
          status: AtomicWriteStatus.AW_SUCCESS,
          versionstamp: versionstampBytes(counter),
          failedChecks: [],
        },
    );
  }

  /**
   * `watch`: a stream of length-prefixed `WatchOutput` frames, the first
   * with every key, then one whenever a watched key changes, and an empty
   * frame every few seconds to keep the connection alive.
   *
   * @param body A `Watch`.
   * @param onEnd Called once when the watch ends, whichever way: the
   * client went away, the database closed, or `end()`.
   * @returns The response body and a function that ends it.
   */
  watch(
    body: Uint8Array,
    onEnd: () => void = () => {},
  ): { stream: ReadableStream<Uint8Array>; end: () => void } {
    const request = decodeWatch(body);
    const limits = this.#core.options.limits;
    if (request.keys.length > limits.maxWatchedKeys) {
      throw new ClientError(
        400,
        `too many keys (max ${limits.maxWatchedKeys})`,
      );
    }
    const keys = request.keys.map((k, i) => {
      if (k.key.length > limits.maxReadKeyBytes) {
        throw new ClientError(400, `watch key ${i}: too large`);
      }
      return k.key;
    });
    const { stream: updates, end } = this.#core.watches.watch(
      keys,
      false,
      // Every key as changed, with its entry, in every frame, as denokv's
      // own server does: Deno's remote client shows a key sent as
      // unchanged as absent (null) instead of keeping its last entry.
      (entries): Uint8Array =>
        encodeWatchOutputFrame({
          status: SnapshotReadStatus.SR_SUCCESS,
          keys: entries.map((entry, i): WatchKeyOutput => ({
            changed: true,
            entryIfChanged: entry ? toEntry(keys[i]!, entry) : undefined,
          })),
        }),
    );
    const reader = updates.getReader();
    let timer: ReturnType<typeof setInterval> | undefined;
    let ended = false;
    const finish = () => {
      clearInterval(timer);
      if (ended) return;
      ended = true;
      onEnd();
    };
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        timer = setInterval(() => {
          try {
            controller.enqueue(new Uint8Array(4)); // a zero-length frame
          } catch {
            clearInterval(timer);
          }
        }, KEEPALIVE_MS);
      },
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      },
      cancel() {
        finish();
        end();
        reader.cancel().catch(() => {});
      },
    });
    return {
      stream,
      end: () => {
        finish();
        end();
      },
    };
  }
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
