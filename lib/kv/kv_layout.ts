/**
 * How `openKv` lays Deno KV's data out in the LSM: three key spaces, told
 * apart by the first byte of the engine's key, and the bytes of an entry
 * and of a queue message.
 *
 * ```
 * engine key                                          engine value
 * ------------------------------------------------    -----------------------
 * 00 "versionstamp"                                   last versionstamp, u64 BE
 * 01 │ Deno KV key (key_codec.ts)                     entry
 * 02 │ ready at, u64 BE ms │ versionstamp (10 B) │    message
 *      index in its commit, u16 BE
 *
 * entry   := +-------------------+------------------+----------------------+
 *            | versionstamp 10 B | expire at u64 LE | value (value_codec)  |
 *            +-------------------+------------------+----------------------+
 *            versionstamp: the commit's counter, u64 BE, then 00 00;
 *            expire at: milliseconds since the epoch, 0 = never
 *
 * message := +---------+---------------+-----------+---------------------+
 *            | ver u8  | reserved u8 0 | n keys u16| key: len u32 | bytes |× n
 *            +---------+---------------+-----------+---------------------+
 *            | n backoff u8 | delay ms u32 × n | payload (V8, to the end) |
 *            +--------------+------------------+--------------------------+
 *            every integer little-endian unless marked BE
 * ```
 *
 * Data keys sort as Deno KV's keys do (the namespace byte is common to all
 * of them), so a list is one engine scan. Queue keys sort by the time a
 * message is due, then by commit and position: delivery order. The
 * expiry time sits at a fixed offset so that compaction can drop expired
 * entries without understanding the rest (the engine's `valueExpiry`).
 *
 * @module
 */

import type { ValueExpiry } from "../compaction/compaction.ts";

/** First byte of the metadata keys. */
export const META_SPACE = 0x00;
/** First byte of the data keys. */
export const DATA_SPACE = 0x01;
/** First byte of the queue keys. */
export const QUEUE_SPACE = 0x02;

/** Bytes of a versionstamp. */
export const VERSIONSTAMP_BYTES = 10;
/** Bytes of an entry before its value. */
export const ENTRY_HEADER_BYTES = VERSIONSTAMP_BYTES + 8;

/** The key holding the last versionstamp handed out. */
export const VERSIONSTAMP_KEY: Uint8Array = new Uint8Array([
  META_SPACE,
  ...new TextEncoder().encode("versionstamp"),
]);

/** Where the engine finds an entry's expiry time (for compaction). */
export const ENTRY_EXPIRY: ValueExpiry = {
  keyPrefix: new Uint8Array([DATA_SPACE]),
  offset: VERSIONSTAMP_BYTES,
};

/**
 * The engine key of a Deno KV key.
 *
 * @param encoded The key, encoded by `encodeKey`.
 * @returns `01 ‖ encoded`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataKey } from "./kv_layout.ts";
 * assert.deepEqual(dataKey(new Uint8Array([2, 97, 0])), new Uint8Array([1, 2, 97, 0]));
 * ```
 */
export function dataKey(encoded: Uint8Array): Uint8Array {
  const out = new Uint8Array(encoded.length + 1);
  out[0] = DATA_SPACE;
  out.set(encoded, 1);
  return out;
}

/**
 * A versionstamp as Deno KV prints it: 20 hex digits, the counter's 16
 * then `0000`.
 *
 * @param counter The commit's counter.
 * @returns The versionstamp string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versionstampHex } from "./kv_layout.ts";
 * assert.equal(versionstampHex(255), "00000000000000ff0000");
 * ```
 */
export function versionstampHex(counter: number): string {
  // The entries of one commit, listed together, share their versionstamp.
  if (counter === lastCounter) return lastHex;
  lastCounter = counter;
  lastHex = counter.toString(16).padStart(16, "0") + "0000";
  return lastHex;
}

let lastCounter = -1;
let lastHex = "";

/**
 * Writes a versionstamp's 10 bytes at `off`.
 *
 * @param out Destination.
 * @param off Where.
 * @param counter The commit's counter (below 2^53).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeVersionstamp } from "./kv_layout.ts";
 * const out = new Uint8Array(10);
 * writeVersionstamp(out, 0, 258);
 * assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 1, 2, 0, 0]);
 * ```
 */
export function writeVersionstamp(
  out: Uint8Array,
  off: number,
  counter: number,
): void {
  const hi = Math.floor(counter / 0x1_0000_0000);
  const lo = counter >>> 0;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(off, hi);
  view.setUint32(off + 4, lo);
  out[off + 8] = 0;
  out[off + 9] = 0;
}

/**
 * The counter of a stored versionstamp.
 *
 * @param bytes Holds it.
 * @param off Where it starts.
 * @returns The counter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVersionstamp, writeVersionstamp } from "./kv_layout.ts";
 * const out = new Uint8Array(10);
 * writeVersionstamp(out, 0, 2 ** 40 + 5);
 * assert.equal(readVersionstamp(out, 0), 2 ** 40 + 5);
 * ```
 */
export function readVersionstamp(bytes: Uint8Array, off: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(off) * 0x1_0000_0000 + view.getUint32(off + 4);
}

/**
 * Parses a versionstamp string (20 hex digits, as Deno KV prints them).
 *
 * @param hex The string.
 * @returns Its counter, or undefined when it is not one of ours (a
 * versionstamp this store never handed out matches no entry).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVersionstamp } from "./kv_layout.ts";
 * assert.equal(parseVersionstamp("00000000000000ff0000"), 255);
 * assert.equal(parseVersionstamp("00000000000000ff0001"), undefined);
 * ```
 */
export function parseVersionstamp(hex: string): number | undefined {
  if (!/^[0-9a-f]{16}0000$/i.test(hex)) return undefined;
  const n = parseInt(hex.slice(0, 16), 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * An entry's bytes.
 *
 * @param counter The commit's versionstamp counter.
 * @param expireAt Milliseconds since the epoch, or 0 for never.
 * @param stored The value, encoded by `encodeValue`.
 * @returns The entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntryHeader, encodeEntry } from "./kv_layout.ts";
 * const e = encodeEntry(7, 1234, new Uint8Array([3, 9]));
 * assert.deepEqual(decodeEntryHeader(e), { counter: 7, expireAt: 1234 });
 * ```
 */
export function encodeEntry(
  counter: number,
  expireAt: number,
  stored: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(ENTRY_HEADER_BYTES + stored.length);
  writeVersionstamp(out, 0, counter);
  const view = new DataView(out.buffer);
  view.setUint32(VERSIONSTAMP_BYTES, expireAt >>> 0, true);
  view.setUint32(
    VERSIONSTAMP_BYTES + 4,
    Math.floor(expireAt / 0x1_0000_0000),
    true,
  );
  out.set(stored, ENTRY_HEADER_BYTES);
  return out;
}

/**
 * An entry's versionstamp counter and expiry time.
 *
 * @param entry The entry.
 * @returns Both.
 * @throws {TypeError} When the bytes are too short to be an entry.
 */
export function decodeEntryHeader(
  entry: Uint8Array,
): { counter: number; expireAt: number } {
  if (entry.length < ENTRY_HEADER_BYTES) {
    throw new TypeError("Invalid value type");
  }
  return { counter: entryCounter(entry), expireAt: entryExpireAt(entry) };
}

/**
 * An entry's versionstamp counter.
 *
 * @param entry The entry (at least {@link ENTRY_HEADER_BYTES} long).
 * @returns The counter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEntry, entryCounter, entryExpireAt } from "./kv_layout.ts";
 * const e = encodeEntry(9, 77, new Uint8Array([3]));
 * assert.equal(entryCounter(e), 9);
 * assert.equal(entryExpireAt(e), 77);
 * ```
 */
export function entryCounter(entry: Uint8Array): number {
  return u32be(entry, 0) * 0x1_0000_0000 + u32be(entry, 4);
}

/**
 * An entry's expiry time (0: never).
 *
 * @param entry The entry.
 * @returns Milliseconds since the epoch.
 */
export function entryExpireAt(entry: Uint8Array): number {
  return u32le(entry, VERSIONSTAMP_BYTES + 4) * 0x1_0000_0000 +
    u32le(entry, VERSIONSTAMP_BYTES);
}

// Bytes by hand: a DataView per entry was a tenth of a list's time.
function u32be(b: Uint8Array, o: number): number {
  return (b[o]! << 24 | b[o + 1]! << 16 | b[o + 2]! << 8 | b[o + 3]!) >>> 0;
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | b[o + 1]! << 8 | b[o + 2]! << 16 | b[o + 3]! << 24) >>> 0;
}

/** A queue message, decoded. */
export interface QueueMessage {
  /** The payload, V8-serialized. */
  payload: Uint8Array;
  /** Encoded keys to write the payload to when delivery gives up. */
  keysIfUndelivered: Uint8Array[];
  /** Delays of the retries left, in milliseconds. */
  backoffSchedule: number[];
}

const MESSAGE_VERSION = 1;

/**
 * The engine key of a queue message.
 *
 * @param readyAt When it is due, in milliseconds since the epoch.
 * @param counter Its commit's versionstamp counter.
 * @param index Its place among that commit's messages.
 * @returns The key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueKey } from "./kv_layout.ts";
 * assert.equal(queueKey(1000, 1, 0).length, 1 + 8 + 10 + 2);
 * ```
 */
export function queueKey(
  readyAt: number,
  counter: number,
  index: number,
): Uint8Array {
  const out = new Uint8Array(1 + 8 + VERSIONSTAMP_BYTES + 2);
  out[0] = QUEUE_SPACE;
  const view = new DataView(out.buffer);
  view.setUint32(1, Math.floor(readyAt / 0x1_0000_0000));
  view.setUint32(5, readyAt >>> 0);
  writeVersionstamp(out, 9, counter);
  view.setUint16(19, index);
  return out;
}

/**
 * When a queue message is due, from its key.
 *
 * @param key The message's engine key.
 * @returns Milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueKey, queueKeyReadyAt } from "./kv_layout.ts";
 * assert.equal(queueKeyReadyAt(queueKey(2 ** 41, 3, 1)), 2 ** 41);
 * ```
 */
export function queueKeyReadyAt(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(1) * 0x1_0000_0000 + view.getUint32(5);
}

/**
 * A queue message's bytes.
 *
 * @param message The message.
 * @returns Its stored form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage, encodeMessage } from "./kv_layout.ts";
 * const m = { payload: new Uint8Array([255, 16, 73]), keysIfUndelivered: [new Uint8Array([2, 0])], backoffSchedule: [100] };
 * assert.deepEqual(decodeMessage(encodeMessage(m)), m);
 * ```
 */
export function encodeMessage(message: QueueMessage): Uint8Array {
  let size = 2 + 2 + 1 + 4 * message.backoffSchedule.length +
    message.payload.length;
  for (const k of message.keysIfUndelivered) size += 4 + k.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = MESSAGE_VERSION;
  out[1] = 0;
  view.setUint16(2, message.keysIfUndelivered.length, true);
  let off = 4;
  for (const k of message.keysIfUndelivered) {
    view.setUint32(off, k.length, true);
    out.set(k, off + 4);
    off += 4 + k.length;
  }
  out[off++] = message.backoffSchedule.length;
  for (const ms of message.backoffSchedule) {
    view.setUint32(off, ms, true);
    off += 4;
  }
  out.set(message.payload, off);
  return out;
}

/**
 * Decodes {@link encodeMessage}'s bytes.
 *
 * @param bytes The stored message.
 * @returns The message (its parts copied).
 * @throws {TypeError} When the bytes are not a message.
 */
export function decodeMessage(bytes: Uint8Array): QueueMessage {
  const bad = () => new TypeError("Invalid queue message");
  if (bytes.length < 5 || bytes[0] !== MESSAGE_VERSION) throw bad();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nKeys = view.getUint16(2, true);
  let off = 4;
  const keysIfUndelivered: Uint8Array[] = [];
  for (let i = 0; i < nKeys; i++) {
    if (off + 4 > bytes.length) throw bad();
    const len = view.getUint32(off, true);
    if (off + 4 + len > bytes.length) throw bad();
    keysIfUndelivered.push(bytes.slice(off + 4, off + 4 + len));
    off += 4 + len;
  }
  if (off >= bytes.length) throw bad();
  const nBackoff = bytes[off++]!;
  if (off + 4 * nBackoff > bytes.length) throw bad();
  const backoffSchedule: number[] = [];
  for (let i = 0; i < nBackoff; i++) {
    backoffSchedule.push(view.getUint32(off, true));
    off += 4;
  }
  return { payload: bytes.slice(off), keysIfUndelivered, backoffSchedule };
}
