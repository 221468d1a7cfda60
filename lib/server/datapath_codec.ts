/**
 * Protobuf codec for the KV Connect data path: the bodies of
 * `POST <endpoint>/snapshot_read`, `/atomic_write` and `/watch` and of their
 * answers, as `com.deno.kv.datapath` in denoland/denokv
 * `proto/schema/datapath.proto` defines them. The metadata exchange
 * (`POST /`) is JSON and is not here.
 *
 * Written by hand rather than with a protobuf library because it was
 * measured faster on every message the server decodes or encodes
 * (`bench/datapath_codec_bench.ts`) and keeps `lib/` free of dependencies.
 *
 * ## Wire format
 *
 * ```text
 * message := field*                      fields in any order, may repeat
 * field   := tag payload
 * tag     := varint(field_number << 3 | wire_type)
 *
 * wire_type 0 VARINT payload = varint        int32 int64 uint32 bool enum
 * wire_type 1 I64    payload = 8 bytes LE    (unused here: skipped if unknown)
 * wire_type 2 LEN    payload = varint(n) n×byte
 *                                            bytes, sub-message, packed list
 * wire_type 5 I32    payload = 4 bytes LE    (unused here: skipped if unknown)
 * wire_type 3/4      group start/end         (deprecated: skipped if unknown)
 *
 * varint: 7 bits a byte, low group first, top bit set on all but the last
 *   1   → 01
 *   300 → ac 02        (300 = 0b10_0101100: 1|0101100, 0|0000010)
 *   -1  → ff ff ff ff ff ff ff ff ff 01    (negatives: 64-bit two's
 *                                           complement, always 10 bytes)
 *
 * ReadRange { start: "a", end: "b", limit: 3 } →
 *   0a 01 61     field 1 LEN, 1 byte, "a"
 *   12 01 62     field 2 LEN, 1 byte, "b"
 *   18 03        field 3 VARINT, 3
 * ```
 *
 * proto3 rules: a scalar equal to its default (0, false, empty bytes) is not
 * written and reads back as the default; a sub-message field is written
 * whenever it is set, even empty; `repeated uint32` is written packed and
 * read packed or not; a singular field seen twice keeps the last value (a
 * sub-message merges); unknown fields are skipped. Enums are open: an
 * unknown number decodes as that number, for the server to refuse by name.
 *
 * ## Messages (field number, name, type)
 *
 * ```text
 * SnapshotRead        1 ranges: repeated ReadRange
 * ReadRange           1 start: bytes  2 end: bytes  3 limit: int32
 *                     4 reverse: bool
 * SnapshotReadOutput  1 ranges: repeated ReadRangeOutput
 *                     2 read_disabled: bool  4 read_is_strongly_consistent:
 *                     bool  8 status: SnapshotReadStatus  (3,5,6,7 reserved)
 * ReadRangeOutput     1 values: repeated KvEntry
 * KvEntry             1 key: bytes  2 value: bytes  3 encoding: ValueEncoding
 *                     4 versionstamp: bytes
 * AtomicWrite         1 checks: repeated Check  2 mutations: repeated
 *                     Mutation  3 enqueues: repeated Enqueue
 * AtomicWriteOutput   1 status: AtomicWriteStatus  2 versionstamp: bytes
 *                     4 failed_checks: repeated uint32  (3 reserved)
 * Check               1 key: bytes  2 versionstamp: bytes
 * Mutation            1 key: bytes  2 value: KvValue  3 mutation_type:
 *                     MutationType  4 expire_at_ms: int64  5 sum_min: bytes
 *                     6 sum_max: bytes  7 sum_clamp: bool
 * KvValue             1 data: bytes  2 encoding: ValueEncoding
 * Enqueue             1 payload: bytes  2 deadline_ms: int64
 *                     3 keys_if_undelivered: repeated bytes
 *                     4 backoff_schedule: repeated uint32
 * Watch               1 keys: repeated WatchKey
 * WatchKey            1 key: bytes
 * WatchOutput         1 status: SnapshotReadStatus  2 keys: repeated
 *                     WatchKeyOutput
 * WatchKeyOutput      1 changed: bool  2 entry_if_changed: KvEntry
 *
 * SnapshotReadStatus  0 SR_UNSPECIFIED 1 SR_SUCCESS 2 SR_READ_DISABLED
 * MutationType        0 M_UNSPECIFIED 1 M_SET 2 M_DELETE 3 M_SUM 4 M_MAX
 *                     5 M_MIN 9 M_SET_SUFFIX_VERSIONSTAMPED_KEY
 * ValueEncoding       0 VE_UNSPECIFIED 1 VE_V8 2 VE_LE64 3 VE_BYTES
 * AtomicWriteStatus   0 AW_UNSPECIFIED 1 AW_SUCCESS 2 AW_CHECK_FAILURE
 *                     5 AW_WRITE_DISABLED  (3,4,6 reserved)
 * ```
 *
 * Decoded `bytes` fields are views into the input (`subarray`), not copies:
 * the input must not be reused while the result is in use. Malformed input
 * throws {@link ProtobufDecodeError} and nothing else.
 *
 * Encoded outputs up to 1 KiB are carved from shared 8 KiB slabs, like the
 * engine's read results: their bytes are private, but their `.buffer` is
 * larger than they are. `new Response(bytes)` is fine; transferring the
 * buffer (`postMessage` transfer lists, a `type: "bytes"` stream's
 * `enqueue`) would detach the neighbours, so watch frames, which go into a
 * stream, always get a buffer of their own.
 *
 * @module
 */

import { resultArena } from "../memtable/arena.ts";
import { InvalidArgumentError } from "../util/errors.ts";

// ---------------------------------------------------------------------------
// Errors and enums

/**
 * A data path body is not a valid protobuf encoding of the expected message:
 * truncated, a varint longer than 10 bytes, a length past the end, a known
 * field with the wrong wire type, a field number 0, an unmatched group. The
 * server answers 400 with the message, which is one line naming the field
 * and the byte offset.
 *
 * @example Catching a truncated body
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSnapshotRead, ProtobufDecodeError } from "./datapath_codec.ts";
 * try {
 *   decodeSnapshotRead(new Uint8Array([0x0a, 0x05, 0x0a]));
 *   assert.fail("no error");
 * } catch (err) {
 *   assert(err instanceof ProtobufDecodeError);
 *   assert.equal(err.offset, 1);
 *   assert.equal(err.code, "INVALID_ARGUMENT");
 * }
 * ```
 */
export class ProtobufDecodeError extends InvalidArgumentError {
  /** Byte offset in the input where the bad item starts. */
  readonly offset: number;
  /** What is wrong, naming the message and field, without the offset. */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param reason What is wrong, naming the message and field.
   * @param offset Byte offset in the input of the bad item.
   */
  constructor(reason: string, offset: number) {
    super(`Malformed protobuf at byte ${offset}: ${reason}`);
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * `com.deno.kv.datapath.SnapshotReadStatus`: the `status` of a
 * {@link SnapshotReadOutput} or a {@link WatchOutput}. Clients of protocol
 * version 3 refuse `SR_UNSPECIFIED`, so the server always sets it.
 *
 * @example A successful read
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotReadStatus } from "./datapath_codec.ts";
 * assert.equal(SnapshotReadStatus.SR_SUCCESS, 1);
 * ```
 */
export const SnapshotReadStatus = Object.freeze(
  {
    SR_UNSPECIFIED: 0,
    SR_SUCCESS: 1,
    SR_READ_DISABLED: 2,
  } as const,
);

/**
 * `com.deno.kv.datapath.MutationType`: the `mutationType` of a
 * {@link Mutation}. `M_SUM`, `M_MIN` and `M_MAX` take an `VE_LE64` value
 * (`M_SUM` also a V8 bigint with `sumMin`/`sumMax`).
 *
 * @example Setting a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { MutationType } from "./datapath_codec.ts";
 * assert.equal(MutationType.M_SET, 1);
 * assert.equal(MutationType.M_SET_SUFFIX_VERSIONSTAMPED_KEY, 9);
 * ```
 */
export const MutationType = Object.freeze(
  {
    M_UNSPECIFIED: 0,
    M_SET: 1,
    M_DELETE: 2,
    M_SUM: 3,
    M_MAX: 4,
    M_MIN: 5,
    M_SET_SUFFIX_VERSIONSTAMPED_KEY: 9,
  } as const,
);

/**
 * `com.deno.kv.datapath.ValueEncoding`: how the bytes of a {@link KvValue}
 * or a {@link KvEntry} are to be read: V8 serialization (`VE_V8`), an 8-byte
 * little-endian `Deno.KvU64` (`VE_LE64`) or a plain `Uint8Array`
 * (`VE_BYTES`).
 *
 * @example A Deno.KvU64 value
 * ```ts
 * import assert from "node:assert/strict";
 * import { ValueEncoding } from "./datapath_codec.ts";
 * assert.equal(ValueEncoding.VE_LE64, 2);
 * ```
 */
export const ValueEncoding = Object.freeze(
  {
    VE_UNSPECIFIED: 0,
    VE_V8: 1,
    VE_LE64: 2,
    VE_BYTES: 3,
  } as const,
);

/**
 * `com.deno.kv.datapath.AtomicWriteStatus`: the `status` of an
 * {@link AtomicWriteOutput}. A failed check is `AW_CHECK_FAILURE` (the
 * client then returns `{ ok: false }`), not an HTTP error.
 *
 * @example A commit whose check failed
 * ```ts
 * import assert from "node:assert/strict";
 * import { AtomicWriteStatus } from "./datapath_codec.ts";
 * assert.equal(AtomicWriteStatus.AW_CHECK_FAILURE, 2);
 * ```
 */
export const AtomicWriteStatus = Object.freeze(
  {
    AW_UNSPECIFIED: 0,
    AW_SUCCESS: 1,
    AW_CHECK_FAILURE: 2,
    AW_WRITE_DISABLED: 5,
  } as const,
);

// ---------------------------------------------------------------------------
// Message types

/**
 * `SnapshotRead`, the body of `POST …/snapshot_read`: ranges read at one
 * snapshot, answered in the same order by a {@link SnapshotReadOutput}.
 *
 * @example A point read of one key
 * ```ts
 * import type { SnapshotRead } from "./datapath_codec.ts";
 * const key = new Uint8Array([0x02, 0x61, 0x00]);
 * const read: SnapshotRead = {
 *   ranges: [{
 *     start: key,
 *     end: new Uint8Array([...key, 0]),
 *     limit: 1,
 *     reverse: false,
 *   }],
 * };
 * console.log(read.ranges.length);
 * ```
 */
export interface SnapshotRead {
  /** Field 1 `ranges`. */
  ranges: ReadRange[];
}

/**
 * `ReadRange`: keys `start <= key < end`, at most `limit` of them, from the
 * end when `reverse`.
 *
 * @example The first ten keys from "a" on
 * ```ts
 * import type { ReadRange } from "./datapath_codec.ts";
 * const range: ReadRange = {
 *   start: new Uint8Array([0x61]),
 *   end: new Uint8Array([0xff]),
 *   limit: 10,
 *   reverse: false,
 * };
 * console.log(range.limit);
 * ```
 */
export interface ReadRange {
  /** Field 1 `start`: the first key, inclusive. */
  start: Uint8Array;
  /** Field 2 `end`: the key after the last, exclusive. */
  end: Uint8Array;
  /** Field 3 `limit` (int32): the most entries to return. */
  limit: number;
  /** Field 4 `reverse`: return the entries from `end` backwards. */
  reverse: boolean;
}

/**
 * `SnapshotReadOutput`, the answer to a {@link SnapshotRead}.
 *
 * @example A strongly consistent success with one empty range
 * ```ts
 * import { type SnapshotReadOutput, SnapshotReadStatus } from "./datapath_codec.ts";
 * const out: SnapshotReadOutput = {
 *   ranges: [{ values: [] }],
 *   readDisabled: false,
 *   readIsStronglyConsistent: true,
 *   status: SnapshotReadStatus.SR_SUCCESS,
 * };
 * console.log(out.status);
 * ```
 */
export interface SnapshotReadOutput {
  /** Field 1 `ranges`: one per requested range, in request order. */
  ranges: ReadRangeOutput[];
  /** Field 2 `read_disabled`: protocol 1–2's way to say reads are off. */
  readDisabled: boolean;
  /** Field 4 `read_is_strongly_consistent`. */
  readIsStronglyConsistent: boolean;
  /** Field 8 `status`: a {@link SnapshotReadStatus} (int32, open enum). */
  status: number;
}

/**
 * `ReadRangeOutput`: the entries of one {@link ReadRange}, in the order read.
 *
 * @example No entries
 * ```ts
 * import type { ReadRangeOutput } from "./datapath_codec.ts";
 * const out: ReadRangeOutput = { values: [] };
 * console.log(out.values.length);
 * ```
 */
export interface ReadRangeOutput {
  /** Field 1 `values`. */
  values: KvEntry[];
}

/**
 * `KvEntry`: a stored key, its value and the versionstamp of the commit that
 * last wrote it (10 bytes).
 *
 * @example A byte value
 * ```ts
 * import { type KvEntry, ValueEncoding } from "./datapath_codec.ts";
 * const entry: KvEntry = {
 *   key: new Uint8Array([0x02, 0x61, 0x00]),
 *   value: new Uint8Array([1, 2, 3]),
 *   encoding: ValueEncoding.VE_BYTES,
 *   versionstamp: new Uint8Array(10),
 * };
 * console.log(entry.encoding);
 * ```
 */
export interface KvEntry {
  /** Field 1 `key`. */
  key: Uint8Array;
  /** Field 2 `value`: bytes to read as `encoding` says. */
  value: Uint8Array;
  /** Field 3 `encoding`: a {@link ValueEncoding} (int32, open enum). */
  encoding: number;
  /** Field 4 `versionstamp`. */
  versionstamp: Uint8Array;
}

/**
 * `AtomicWrite`, the body of `POST …/atomic_write`: checks, then mutations
 * and enqueues, all or nothing.
 *
 * @example Delete a key if it does not exist yet (a no-op, but valid)
 * ```ts
 * import { type AtomicWrite, MutationType } from "./datapath_codec.ts";
 * const key = new Uint8Array([0x02, 0x61, 0x00]);
 * const write: AtomicWrite = {
 *   checks: [{ key, versionstamp: new Uint8Array(0) }],
 *   mutations: [{
 *     key,
 *     mutationType: MutationType.M_DELETE,
 *     expireAtMs: 0,
 *     sumMin: new Uint8Array(0),
 *     sumMax: new Uint8Array(0),
 *     sumClamp: false,
 *   }],
 *   enqueues: [],
 * };
 * console.log(write.checks.length);
 * ```
 */
export interface AtomicWrite {
  /** Field 1 `checks`. */
  checks: Check[];
  /** Field 2 `mutations`. */
  mutations: Mutation[];
  /** Field 3 `enqueues`. */
  enqueues: Enqueue[];
}

/**
 * `AtomicWriteOutput`, the answer to an {@link AtomicWrite}.
 *
 * @example A successful commit
 * ```ts
 * import { type AtomicWriteOutput, AtomicWriteStatus } from "./datapath_codec.ts";
 * const out: AtomicWriteOutput = {
 *   status: AtomicWriteStatus.AW_SUCCESS,
 *   versionstamp: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 7, 0, 0]),
 *   failedChecks: [],
 * };
 * console.log(out.status);
 * ```
 */
export interface AtomicWriteOutput {
  /** Field 1 `status`: an {@link AtomicWriteStatus} (int32, open enum). */
  status: number;
  /** Field 2 `versionstamp`: the commit's, 10 bytes, on success. */
  versionstamp: Uint8Array;
  /** Field 4 `failed_checks` (uint32): indexes of the checks that failed. */
  failedChecks: number[];
}

/**
 * `Check`: the write goes ahead only if `key`'s current versionstamp is
 * `versionstamp`; an empty versionstamp means "the key does not exist".
 *
 * @example The key must be absent
 * ```ts
 * import type { Check } from "./datapath_codec.ts";
 * const check: Check = {
 *   key: new Uint8Array([0x02, 0x61, 0x00]),
 *   versionstamp: new Uint8Array(0),
 * };
 * console.log(check.versionstamp.length);
 * ```
 */
export interface Check {
  /** Field 1 `key`. */
  key: Uint8Array;
  /** Field 2 `versionstamp`: 10 bytes, or empty for "absent". */
  versionstamp: Uint8Array;
}

/**
 * `Mutation`: one change to one key.
 *
 * @example Set a V8-serialized value that expires
 * ```ts
 * import { type Mutation, MutationType, ValueEncoding } from "./datapath_codec.ts";
 * const mutation: Mutation = {
 *   key: new Uint8Array([0x02, 0x61, 0x00]),
 *   value: {
 *     data: new Uint8Array([0xff, 0x0f, 0x49, 0x02]),
 *     encoding: ValueEncoding.VE_V8,
 *   },
 *   mutationType: MutationType.M_SET,
 *   expireAtMs: Date.UTC(2030, 0, 1),
 *   sumMin: new Uint8Array(0),
 *   sumMax: new Uint8Array(0),
 *   sumClamp: false,
 * };
 * console.log(mutation.mutationType);
 * ```
 */
export interface Mutation {
  /** Field 1 `key`. */
  key: Uint8Array;
  /**
   * Field 2 `value`: absent (`undefined`) is not the same as an empty
   * value; clients send one even with `M_DELETE`. Decoders always set the
   * property, to `undefined` when absent.
   */
  value?: KvValue | undefined;
  /** Field 3 `mutation_type`: a {@link MutationType} (int32, open enum). */
  mutationType: number;
  /**
   * Field 4 `expire_at_ms` (int64): expiry in ms since the Unix epoch; 0 is
   * none. A safe integer; a wider value on the wire is a decode error.
   */
  expireAtMs: number;
  /** Field 5 `sum_min`: V8-encoded lower bound of an `M_SUM`. */
  sumMin: Uint8Array;
  /** Field 6 `sum_max`: V8-encoded upper bound of an `M_SUM`. */
  sumMax: Uint8Array;
  /** Field 7 `sum_clamp`: clamp an `M_SUM` result instead of failing. */
  sumClamp: boolean;
}

/**
 * `KvValue`: a value to write, with its encoding.
 *
 * @example A Deno.KvU64 of 1
 * ```ts
 * import { type KvValue, ValueEncoding } from "./datapath_codec.ts";
 * const one: KvValue = {
 *   data: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
 *   encoding: ValueEncoding.VE_LE64,
 * };
 * console.log(one.data.length);
 * ```
 */
export interface KvValue {
  /** Field 1 `data`. */
  data: Uint8Array;
  /** Field 2 `encoding`: a {@link ValueEncoding} (int32, open enum). */
  encoding: number;
}

/**
 * `Enqueue`: a queue message. Deno's remote client refuses `kv.enqueue`, so
 * a KV Connect server only ever sees these from other clients.
 *
 * @example A message due now, retried after 1 s then 5 s
 * ```ts
 * import type { Enqueue } from "./datapath_codec.ts";
 * const enqueue: Enqueue = {
 *   payload: new Uint8Array([0xff, 0x0f, 0x49, 0x02]),
 *   deadlineMs: Date.now(),
 *   keysIfUndelivered: [],
 *   backoffSchedule: [1000, 5000],
 * };
 * console.log(enqueue.backoffSchedule.length);
 * ```
 */
export interface Enqueue {
  /** Field 1 `payload`: V8-serialized. */
  payload: Uint8Array;
  /** Field 2 `deadline_ms` (int64): delivery time, ms since the epoch. */
  deadlineMs: number;
  /** Field 3 `keys_if_undelivered`: where to store it if never delivered. */
  keysIfUndelivered: Uint8Array[];
  /** Field 4 `backoff_schedule` (uint32): retry delays in ms. */
  backoffSchedule: number[];
}

/**
 * `Watch`, the body of `POST …/watch`: keys to stream changes of.
 *
 * @example Watch one key
 * ```ts
 * import type { Watch } from "./datapath_codec.ts";
 * const watch: Watch = { keys: [{ key: new Uint8Array([0x02, 0x61, 0x00]) }] };
 * console.log(watch.keys.length);
 * ```
 */
export interface Watch {
  /** Field 1 `keys`. */
  keys: WatchKey[];
}

/**
 * `WatchKey`: one watched key.
 *
 * @example
 * ```ts
 * import type { WatchKey } from "./datapath_codec.ts";
 * const k: WatchKey = { key: new Uint8Array([0x02, 0x61, 0x00]) };
 * console.log(k.key.length);
 * ```
 */
export interface WatchKey {
  /** Field 1 `key`. */
  key: Uint8Array;
}

/**
 * `WatchOutput`: one frame of the watch stream, a snapshot of the watched
 * keys in request order (see {@link encodeWatchOutputFrame}).
 *
 * @example First frame: the key does not exist
 * ```ts
 * import { SnapshotReadStatus, type WatchOutput } from "./datapath_codec.ts";
 * const out: WatchOutput = {
 *   status: SnapshotReadStatus.SR_SUCCESS,
 *   keys: [{ changed: true, entryIfChanged: undefined }],
 * };
 * console.log(out.keys.length);
 * ```
 */
export interface WatchOutput {
  /** Field 1 `status`: a {@link SnapshotReadStatus} (int32, open enum). */
  status: number;
  /** Field 2 `keys`: one per watched key, in request order. */
  keys: WatchKeyOutput[];
}

/**
 * `WatchKeyOutput`: whether a watched key changed since the previous frame,
 * and its entry if so (absent when it was deleted or never existed). The
 * first frame must say `changed: true` for every key.
 *
 * @example An unchanged key
 * ```ts
 * import type { WatchKeyOutput } from "./datapath_codec.ts";
 * const k: WatchKeyOutput = { changed: false };
 * console.log(k.changed);
 * ```
 */
export interface WatchKeyOutput {
  /** Field 1 `changed`. */
  changed: boolean;
  /**
   * Field 2 `entry_if_changed`. Decoders always set the property, to
   * `undefined` when absent.
   */
  entryIfChanged?: KvEntry | undefined;
}

// ---------------------------------------------------------------------------
// Reading

// Zero-length fields share one array: a fresh one per absent field would be
// most of the allocation when decoding small messages. Frozen, since a
// shared object must not collect properties.
const EMPTY = Object.freeze(new Uint8Array(0)) as Uint8Array;

const WIRE_NAMES = ["VARINT", "I64", "LEN", "SGROUP", "EGROUP", "I32"];

// Deeper than any real message nests groups; bounds the recursion of
// skipping so hostile input cannot overflow the stack.
const MAX_GROUP_DEPTH = 32;

class Reader {
  readonly buf: Uint8Array;
  pos = 0;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
}

// High 32 bits of the varint readVarint just read. A module variable instead
// of a returned pair keeps the hot path free of allocation.
let hi32 = 0;

function fail(offset: number, reason: string): never {
  throw new ProtobufDecodeError(reason, offset);
}

/** Reads a varint and returns its low 32 bits (unsigned); sets `hi32`. */
function readVarint(r: Reader, end: number, what: string): number {
  const pos = r.pos;
  if (pos < end) {
    const b = r.buf[pos]!;
    if (b < 0x80) {
      r.pos = pos + 1;
      hi32 = 0;
      return b;
    }
  }
  return readVarintSlow(r, end, what);
}

function readVarintSlow(r: Reader, end: number, what: string): number {
  const buf = r.buf;
  const start = r.pos;
  let pos = start;
  let lo = 0;
  let hi = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) fail(start, `${what}: truncated varint`);
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = pos;
      hi32 = 0;
      return lo >>> 0;
    }
  }
  // The fifth byte straddles the two halves: 4 bits low, 3 bits high.
  if (pos >= end) fail(start, `${what}: truncated varint`);
  b = buf[pos++]!;
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >> 4;
  if (b >= 0x80) {
    for (let shift = 3; shift < 31; shift += 7) {
      if (pos >= end) fail(start, `${what}: truncated varint`);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (b >= 0x80) {
      // The tenth byte holds bit 63 alone; anything more is not a 64-bit
      // varint (prost, the reference server's decoder, refuses it too).
      if (pos >= end) fail(start, `${what}: truncated varint`);
      b = buf[pos++]!;
      if (b > 1) fail(start, `${what}: varint longer than 64 bits`);
      hi |= b << 31;
    }
  }
  r.pos = pos;
  hi32 = hi >>> 0;
  return lo >>> 0;
}

function readInt32(r: Reader, end: number, what: string): number {
  // int32 and enums: the low 32 bits, sign included (negatives arrive
  // sign-extended to 64 bits).
  return readVarint(r, end, what) | 0;
}

function readBool(r: Reader, end: number, what: string): boolean {
  const lo = readVarint(r, end, what);
  return (lo | hi32) !== 0;
}

function readInt64(r: Reader, end: number, what: string): number {
  const start = r.pos;
  const lo = readVarint(r, end, what);
  const v = (hi32 | 0) * 4294967296 + lo;
  if (!Number.isSafeInteger(v)) {
    fail(start, `${what}: int64 value outside the safe integer range`);
  }
  return v;
}

function readTag(r: Reader, end: number, what: string): number {
  const start = r.pos;
  const tag = readVarint(r, end, what);
  if (hi32 !== 0) fail(start, `${what}: tag wider than 32 bits`);
  if (tag < 8) fail(start, `${what}: field number 0`);
  return tag;
}

function readLength(r: Reader, end: number, what: string): number {
  const start = r.pos;
  const n = readVarint(r, end, what);
  const left = end - r.pos;
  if (hi32 !== 0 || n > left) {
    const length = hi32 * 4294967296 + n;
    fail(start, `${what}: length ${length} runs past the end (${left} left)`);
  }
  return n;
}

function readBytes(r: Reader, end: number, what: string): Uint8Array {
  const n = readLength(r, end, what);
  if (n === 0) return EMPTY;
  const pos = r.pos;
  r.pos = pos + n;
  return r.buf.subarray(pos, pos + n);
}

/** Reads a `repeated uint32` element or packed run into `out`. */
function readUint32s(
  r: Reader,
  end: number,
  tag: number,
  out: number[],
  what: string,
): void {
  if ((tag & 7) === 0) {
    out.push(readVarint(r, end, what));
    return;
  }
  const n = readLength(r, end, what);
  const stop = r.pos + n;
  while (r.pos < stop) out.push(readVarint(r, stop, what));
}

/**
 * Handles a tag no `case` took: a known field with the wrong wire type is an
 * error (as prost, the reference server's decoder, treats it), anything
 * else is skipped.
 */
function otherField(
  r: Reader,
  end: number,
  tag: number,
  at: number,
  message: string,
  fields: readonly (string | undefined)[],
  expected: readonly number[],
): void {
  const field = tag >>> 3;
  const name = field < fields.length ? fields[field] : undefined;
  if (name !== undefined) {
    const got = WIRE_NAMES[tag & 7] ?? `${tag & 7}`;
    const want = WIRE_NAMES[expected[field]!]!;
    fail(at, `${message}.${name}: wire type ${got}, expected ${want}`);
  }
  skipField(r, end, tag, at, `${message} field ${field}`, 0);
}

function skipField(
  r: Reader,
  end: number,
  tag: number,
  at: number,
  what: string,
  depth: number,
): void {
  switch (tag & 7) {
    case 0:
      readVarint(r, end, what);
      return;
    case 1:
      if (end - r.pos < 8) fail(at, `${what}: truncated I64`);
      r.pos += 8;
      return;
    case 2: {
      const n = readLength(r, end, what);
      r.pos += n;
      return;
    }
    case 3: {
      if (depth >= MAX_GROUP_DEPTH) fail(at, `${what}: groups nested too deep`);
      while (true) {
        if (r.pos >= end) fail(at, `${what}: group without an end`);
        const inner = r.pos;
        const t = readTag(r, end, what);
        if ((t & 7) === 4) {
          if (t >>> 3 !== tag >>> 3) {
            fail(inner, `${what}: group ended by field ${t >>> 3}`);
          }
          return;
        }
        skipField(r, end, t, inner, what, depth + 1);
      }
    }
    case 5:
      if (end - r.pos < 4) fail(at, `${what}: truncated I32`);
      r.pos += 4;
      return;
    case 4:
      return fail(at, `${what}: group end without a start`);
    default:
      return fail(at, `${what}: invalid wire type ${tag & 7}`);
  }
}

/** Reads a sub-message's length and returns the offset where it ends. */
function subEnd(r: Reader, end: number, what: string): number {
  const n = readLength(r, end, what);
  return r.pos + n;
}

// ---------------------------------------------------------------------------
// Writing

// A fresh Uint8Array costs 0.3–1 µs in Deno 2.9, more than encoding a small
// message, so outputs up to 1 KiB are carved from the engine's 8 KiB result
// slabs as Node's Buffer pool (and protobufjs) do. Their bytes are private;
// their `.buffer` may be shared.
function alloc(n: number): Uint8Array {
  return resultArena.alloc(n);
}

function varintSize(v: number): number {
  // v is a uint32 here.
  return v < 0x80
    ? 1
    : v < 0x4000
    ? 2
    : v < 0x200000
    ? 3
    : v < 0x10000000
    ? 4
    : 5;
}

function int32Size(v: number): number {
  // Negative int32 (and enum) values are sign-extended to 64 bits.
  return v < 0 ? 10 : varintSize(v);
}

function int64Size(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function bytesSize(b: Uint8Array): number {
  const n = b.length;
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeVarint64(
  buf: Uint8Array,
  pos: number,
  lo: number,
  hi: number,
): number {
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

function writeInt32(buf: Uint8Array, pos: number, v: number): number {
  return v < 0
    ? writeVarint64(buf, pos, v >>> 0, 0xffffffff)
    : writeVarint(buf, pos, v);
}

function writeInt64(buf: Uint8Array, pos: number, v: number): number {
  if (v >= 0 && v <= 0x7fffffff) return writeVarint(buf, pos, v);
  const hi = Math.floor(v / 4294967296);
  return writeVarint64(buf, pos, (v - hi * 4294967296) >>> 0, hi >>> 0);
}

function writeBytes(
  buf: Uint8Array,
  pos: number,
  tag: number,
  b: Uint8Array,
): number {
  const n = b.length;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, n);
  // A byte loop beats set() for short arrays, whose call overhead dominates.
  if (n > 24) {
    buf.set(b, pos);
    return pos + n;
  }
  for (let i = 0; i < n; i++) buf[pos++] = b[i]!;
  return pos;
}

function checkInt64(v: number, what: string): void {
  // A silently truncated or rounded timestamp is worse than a refusal.
  if (!Number.isSafeInteger(v)) {
    throw new InvalidArgumentError(`${what} must be a safe integer, got ${v}`);
  }
}

function packedSize(values: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) n += varintSize(values[i]! >>> 0);
  return n;
}

function packedFieldSize(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const n = packedSize(values);
  return 1 + varintSize(n) + n;
}

function writePacked(
  buf: Uint8Array,
  pos: number,
  tag: number,
  values: readonly number[],
): number {
  if (values.length === 0) return pos;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, packedSize(values));
  for (let i = 0; i < values.length; i++) {
    pos = writeVarint(buf, pos, values[i]! >>> 0);
  }
  return pos;
}

function finish(buf: Uint8Array, end: number, message: string): Uint8Array {
  // Sizes and writes are computed separately; a mismatch is a codec bug.
  if (end !== buf.length) {
    throw new Error(`${message}: wrote ${end} bytes, sized ${buf.length}`);
  }
  return buf;
}

// ---------------------------------------------------------------------------
// ReadRange: 1 start, 2 end, 3 limit, 4 reverse

const READ_RANGE_FIELDS = [undefined, "start", "end", "limit", "reverse"];
const READ_RANGE_WIRE = [0, 2, 2, 0, 0];

function newReadRange(): ReadRange {
  return { start: EMPTY, end: EMPTY, limit: 0, reverse: false };
}

function readReadRange(r: Reader, end: number, m: ReadRange): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "ReadRange");
    switch (tag) {
      case 0x0a:
        m.start = readBytes(r, end, "ReadRange.start");
        break;
      case 0x12:
        m.end = readBytes(r, end, "ReadRange.end");
        break;
      case 0x18:
        m.limit = readInt32(r, end, "ReadRange.limit");
        break;
      case 0x20:
        m.reverse = readBool(r, end, "ReadRange.reverse");
        break;
      default:
        otherField(
          r,
          end,
          tag,
          at,
          "ReadRange",
          READ_RANGE_FIELDS,
          READ_RANGE_WIRE,
        );
    }
  }
}

function sizeReadRange(m: ReadRange): number {
  const limit = m.limit | 0;
  return bytesSize(m.start) + bytesSize(m.end) +
    (limit === 0 ? 0 : 1 + int32Size(limit)) + (m.reverse ? 2 : 0);
}

function writeReadRange(buf: Uint8Array, pos: number, m: ReadRange): number {
  if (m.start.length !== 0) pos = writeBytes(buf, pos, 0x0a, m.start);
  if (m.end.length !== 0) pos = writeBytes(buf, pos, 0x12, m.end);
  const limit = m.limit | 0;
  if (limit !== 0) {
    buf[pos++] = 0x18;
    pos = writeInt32(buf, pos, limit);
  }
  if (m.reverse) {
    buf[pos++] = 0x20;
    buf[pos++] = 1;
  }
  return pos;
}

/**
 * Encodes a {@link ReadRange}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeReadRange, encodeReadRange } from "./datapath_codec.ts";
 * const bytes = encodeReadRange({
 *   start: new Uint8Array([0x61]),
 *   end: new Uint8Array([0x62]),
 *   limit: 3,
 *   reverse: false,
 * });
 * assert.deepEqual([...bytes], [0x0a, 1, 0x61, 0x12, 1, 0x62, 0x18, 3]);
 * assert.equal(decodeReadRange(bytes).limit, 3);
 * ```
 */
export function encodeReadRange(msg: ReadRange): Uint8Array {
  const buf = alloc(sizeReadRange(msg));
  return finish(buf, writeReadRange(buf, 0, msg), "ReadRange");
}

/**
 * Decodes a {@link ReadRange}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example Absent fields take their defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeReadRange } from "./datapath_codec.ts";
 * const range = decodeReadRange(new Uint8Array([0x20, 1]));
 * assert.equal(range.reverse, true);
 * assert.equal(range.limit, 0);
 * assert.equal(range.start.length, 0);
 * ```
 */
export function decodeReadRange(bytes: Uint8Array): ReadRange {
  const m = newReadRange();
  readReadRange(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// SnapshotRead: 1 ranges

const SNAPSHOT_READ_FIELDS = [undefined, "ranges"];
const SNAPSHOT_READ_WIRE = [0, 2];

function readSnapshotRead(r: Reader, end: number, m: SnapshotRead): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "SnapshotRead");
    if (tag === 0x0a) {
      const stop = subEnd(r, end, "SnapshotRead.ranges");
      const range = newReadRange();
      readReadRange(r, stop, range);
      m.ranges.push(range);
    } else {
      otherField(
        r,
        end,
        tag,
        at,
        "SnapshotRead",
        SNAPSHOT_READ_FIELDS,
        SNAPSHOT_READ_WIRE,
      );
    }
  }
}

function sizeSnapshotRead(m: SnapshotRead): number {
  let n = 0;
  for (const range of m.ranges) {
    const s = sizeReadRange(range);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

function writeSnapshotRead(
  buf: Uint8Array,
  pos: number,
  m: SnapshotRead,
): number {
  for (const range of m.ranges) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizeReadRange(range));
    pos = writeReadRange(buf, pos, range);
  }
  return pos;
}

/**
 * Encodes a {@link SnapshotRead}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Round trip of a two-range read
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSnapshotRead, encodeSnapshotRead } from "./datapath_codec.ts";
 * const range = (k: number) => ({
 *   start: new Uint8Array([k]),
 *   end: new Uint8Array([k, 0]),
 *   limit: 1,
 *   reverse: false,
 * });
 * const bytes = encodeSnapshotRead({ ranges: [range(1), range(2)] });
 * const read = decodeSnapshotRead(bytes);
 * assert.deepEqual(read.ranges.map((r) => r.start[0]), [1, 2]);
 * ```
 */
export function encodeSnapshotRead(msg: SnapshotRead): Uint8Array {
  const buf = alloc(sizeSnapshotRead(msg));
  return finish(buf, writeSnapshotRead(buf, 0, msg), "SnapshotRead");
}

/**
 * Decodes a {@link SnapshotRead}, the body of `POST …/snapshot_read`.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example An empty body is a read of no ranges
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSnapshotRead } from "./datapath_codec.ts";
 * assert.deepEqual(decodeSnapshotRead(new Uint8Array(0)), { ranges: [] });
 * ```
 */
export function decodeSnapshotRead(bytes: Uint8Array): SnapshotRead {
  const m: SnapshotRead = { ranges: [] };
  readSnapshotRead(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// KvEntry: 1 key, 2 value, 3 encoding, 4 versionstamp

const KV_ENTRY_FIELDS = [undefined, "key", "value", "encoding", "versionstamp"];
const KV_ENTRY_WIRE = [0, 2, 2, 0, 2];

function newKvEntry(): KvEntry {
  return { key: EMPTY, value: EMPTY, encoding: 0, versionstamp: EMPTY };
}

function readKvEntry(r: Reader, end: number, m: KvEntry): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "KvEntry");
    switch (tag) {
      case 0x0a:
        m.key = readBytes(r, end, "KvEntry.key");
        break;
      case 0x12:
        m.value = readBytes(r, end, "KvEntry.value");
        break;
      case 0x18:
        m.encoding = readInt32(r, end, "KvEntry.encoding");
        break;
      case 0x22:
        m.versionstamp = readBytes(r, end, "KvEntry.versionstamp");
        break;
      default:
        otherField(r, end, tag, at, "KvEntry", KV_ENTRY_FIELDS, KV_ENTRY_WIRE);
    }
  }
}

function sizeKvEntry(m: KvEntry): number {
  const encoding = m.encoding | 0;
  return bytesSize(m.key) + bytesSize(m.value) +
    (encoding === 0 ? 0 : 1 + int32Size(encoding)) + bytesSize(m.versionstamp);
}

function writeKvEntry(buf: Uint8Array, pos: number, m: KvEntry): number {
  if (m.key.length !== 0) pos = writeBytes(buf, pos, 0x0a, m.key);
  if (m.value.length !== 0) pos = writeBytes(buf, pos, 0x12, m.value);
  const encoding = m.encoding | 0;
  if (encoding !== 0) {
    buf[pos++] = 0x18;
    pos = writeInt32(buf, pos, encoding);
  }
  if (m.versionstamp.length !== 0) {
    pos = writeBytes(buf, pos, 0x22, m.versionstamp);
  }
  return pos;
}

/**
 * Encodes a {@link KvEntry}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeKvEntry, encodeKvEntry, ValueEncoding } from "./datapath_codec.ts";
 * const entry = {
 *   key: new Uint8Array([1]),
 *   value: new Uint8Array([2]),
 *   encoding: ValueEncoding.VE_BYTES,
 *   versionstamp: new Uint8Array(10).fill(3),
 * };
 * assert.deepEqual(decodeKvEntry(encodeKvEntry(entry)), entry);
 * ```
 */
export function encodeKvEntry(msg: KvEntry): Uint8Array {
  const buf = alloc(sizeKvEntry(msg));
  return finish(buf, writeKvEntry(buf, 0, msg), "KvEntry");
}

/**
 * Decodes a {@link KvEntry}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example The key is a view, not a copy
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeKvEntry } from "./datapath_codec.ts";
 * const bytes = new Uint8Array([0x0a, 2, 0x61, 0x62]);
 * const entry = decodeKvEntry(bytes);
 * assert.equal(entry.key.buffer, bytes.buffer);
 * assert.equal(entry.key.byteOffset, 2);
 * ```
 */
export function decodeKvEntry(bytes: Uint8Array): KvEntry {
  const m = newKvEntry();
  readKvEntry(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// ReadRangeOutput: 1 values

const READ_RANGE_OUTPUT_FIELDS = [undefined, "values"];
const READ_RANGE_OUTPUT_WIRE = [0, 2];

function readReadRangeOutput(
  r: Reader,
  end: number,
  m: ReadRangeOutput,
): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "ReadRangeOutput");
    if (tag === 0x0a) {
      const stop = subEnd(r, end, "ReadRangeOutput.values");
      const entry = newKvEntry();
      readKvEntry(r, stop, entry);
      m.values.push(entry);
    } else {
      otherField(
        r,
        end,
        tag,
        at,
        "ReadRangeOutput",
        READ_RANGE_OUTPUT_FIELDS,
        READ_RANGE_OUTPUT_WIRE,
      );
    }
  }
}

function sizeReadRangeOutput(m: ReadRangeOutput): number {
  let n = 0;
  const values = m.values;
  for (let i = 0; i < values.length; i++) {
    const s = sizeKvEntry(values[i]!);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

function writeReadRangeOutput(
  buf: Uint8Array,
  pos: number,
  m: ReadRangeOutput,
): number {
  const values = m.values;
  for (let i = 0; i < values.length; i++) {
    const entry = values[i]!;
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizeKvEntry(entry));
    pos = writeKvEntry(buf, pos, entry);
  }
  return pos;
}

/**
 * Encodes a {@link ReadRangeOutput}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example An empty entry is still one element
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeReadRangeOutput } from "./datapath_codec.ts";
 * const empty = {
 *   key: new Uint8Array(0),
 *   value: new Uint8Array(0),
 *   encoding: 0,
 *   versionstamp: new Uint8Array(0),
 * };
 * assert.deepEqual([...encodeReadRangeOutput({ values: [empty] })], [0x0a, 0]);
 * ```
 */
export function encodeReadRangeOutput(msg: ReadRangeOutput): Uint8Array {
  const buf = alloc(sizeReadRangeOutput(msg));
  return finish(buf, writeReadRangeOutput(buf, 0, msg), "ReadRangeOutput");
}

/**
 * Decodes a {@link ReadRangeOutput}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example One entry with only a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeReadRangeOutput } from "./datapath_codec.ts";
 * const out = decodeReadRangeOutput(new Uint8Array([0x0a, 3, 0x0a, 1, 0x61]));
 * assert.deepEqual([...out.values[0]!.key], [0x61]);
 * ```
 */
export function decodeReadRangeOutput(bytes: Uint8Array): ReadRangeOutput {
  const m: ReadRangeOutput = { values: [] };
  readReadRangeOutput(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// SnapshotReadOutput: 1 ranges, 2 read_disabled, 4 read_is_strongly_consistent,
// 8 status

const SNAPSHOT_READ_OUTPUT_FIELDS = [
  undefined,
  "ranges",
  "read_disabled",
  undefined,
  "read_is_strongly_consistent",
  undefined,
  undefined,
  undefined,
  "status",
];
const SNAPSHOT_READ_OUTPUT_WIRE = [0, 2, 0, 0, 0, 0, 0, 0, 0];

function readSnapshotReadOutput(
  r: Reader,
  end: number,
  m: SnapshotReadOutput,
): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "SnapshotReadOutput");
    switch (tag) {
      case 0x0a: {
        const stop = subEnd(r, end, "SnapshotReadOutput.ranges");
        const range: ReadRangeOutput = { values: [] };
        readReadRangeOutput(r, stop, range);
        m.ranges.push(range);
        break;
      }
      case 0x10:
        m.readDisabled = readBool(r, end, "SnapshotReadOutput.read_disabled");
        break;
      case 0x20:
        m.readIsStronglyConsistent = readBool(
          r,
          end,
          "SnapshotReadOutput.read_is_strongly_consistent",
        );
        break;
      case 0x40:
        m.status = readInt32(r, end, "SnapshotReadOutput.status");
        break;
      default:
        otherField(
          r,
          end,
          tag,
          at,
          "SnapshotReadOutput",
          SNAPSHOT_READ_OUTPUT_FIELDS,
          SNAPSHOT_READ_OUTPUT_WIRE,
        );
    }
  }
}

/**
 * Encodes a {@link SnapshotReadOutput}, the answer to `POST …/snapshot_read`
 * (content type `application/x-protobuf`).
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Round trip of a one-entry answer
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   decodeSnapshotReadOutput,
 *   encodeSnapshotReadOutput,
 *   SnapshotReadStatus,
 *   ValueEncoding,
 * } from "./datapath_codec.ts";
 * const out = {
 *   ranges: [{
 *     values: [{
 *       key: new Uint8Array([0x02, 0x61, 0x00]),
 *       value: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
 *       encoding: ValueEncoding.VE_LE64,
 *       versionstamp: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
 *     }],
 *   }],
 *   readDisabled: false,
 *   readIsStronglyConsistent: true,
 *   status: SnapshotReadStatus.SR_SUCCESS,
 * };
 * assert.deepEqual(decodeSnapshotReadOutput(encodeSnapshotReadOutput(out)), out);
 * ```
 */
export function encodeSnapshotReadOutput(msg: SnapshotReadOutput): Uint8Array {
  // Each range's size is needed twice (total, then its length prefix), and
  // computing it walks every entry: keep it from the first pass.
  const ranges = msg.ranges;
  const sizes = new Array<number>(ranges.length);
  let n = 0;
  for (let i = 0; i < ranges.length; i++) {
    const s = sizeReadRangeOutput(ranges[i]!);
    sizes[i] = s;
    n += 1 + varintSize(s) + s;
  }
  const status = msg.status | 0;
  n += (msg.readDisabled ? 2 : 0) + (msg.readIsStronglyConsistent ? 2 : 0) +
    (status === 0 ? 0 : 1 + int32Size(status));
  const buf = alloc(n);
  let pos = 0;
  for (let i = 0; i < ranges.length; i++) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizes[i]!);
    pos = writeReadRangeOutput(buf, pos, ranges[i]!);
  }
  if (msg.readDisabled) {
    buf[pos++] = 0x10;
    buf[pos++] = 1;
  }
  if (msg.readIsStronglyConsistent) {
    buf[pos++] = 0x20;
    buf[pos++] = 1;
  }
  if (status !== 0) {
    buf[pos++] = 0x40;
    pos = writeInt32(buf, pos, status);
  }
  return finish(buf, pos, "SnapshotReadOutput");
}

/**
 * Decodes a {@link SnapshotReadOutput}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example Reserved field 3 is skipped like any unknown field
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSnapshotReadOutput } from "./datapath_codec.ts";
 * const out = decodeSnapshotReadOutput(new Uint8Array([0x18, 5, 0x40, 1]));
 * assert.equal(out.status, 1);
 * assert.equal(out.ranges.length, 0);
 * ```
 */
export function decodeSnapshotReadOutput(
  bytes: Uint8Array,
): SnapshotReadOutput {
  const m: SnapshotReadOutput = {
    ranges: [],
    readDisabled: false,
    readIsStronglyConsistent: false,
    status: 0,
  };
  readSnapshotReadOutput(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// Check: 1 key, 2 versionstamp

const CHECK_FIELDS = [undefined, "key", "versionstamp"];
const CHECK_WIRE = [0, 2, 2];

function newCheck(): Check {
  return { key: EMPTY, versionstamp: EMPTY };
}

function readCheck(r: Reader, end: number, m: Check): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "Check");
    switch (tag) {
      case 0x0a:
        m.key = readBytes(r, end, "Check.key");
        break;
      case 0x12:
        m.versionstamp = readBytes(r, end, "Check.versionstamp");
        break;
      default:
        otherField(r, end, tag, at, "Check", CHECK_FIELDS, CHECK_WIRE);
    }
  }
}

function sizeCheck(m: Check): number {
  return bytesSize(m.key) + bytesSize(m.versionstamp);
}

function writeCheck(buf: Uint8Array, pos: number, m: Check): number {
  if (m.key.length !== 0) pos = writeBytes(buf, pos, 0x0a, m.key);
  if (m.versionstamp.length !== 0) {
    pos = writeBytes(buf, pos, 0x12, m.versionstamp);
  }
  return pos;
}

/**
 * Encodes a {@link Check}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example An "absent" check writes only the key
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCheck } from "./datapath_codec.ts";
 * const bytes = encodeCheck({
 *   key: new Uint8Array([0x61]),
 *   versionstamp: new Uint8Array(0),
 * });
 * assert.deepEqual([...bytes], [0x0a, 1, 0x61]);
 * ```
 */
export function encodeCheck(msg: Check): Uint8Array {
  const buf = alloc(sizeCheck(msg));
  return finish(buf, writeCheck(buf, 0, msg), "Check");
}

/**
 * Decodes a {@link Check}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCheck, encodeCheck } from "./datapath_codec.ts";
 * const check = {
 *   key: new Uint8Array([1]),
 *   versionstamp: new Uint8Array(10).fill(9),
 * };
 * assert.deepEqual(decodeCheck(encodeCheck(check)), check);
 * ```
 */
export function decodeCheck(bytes: Uint8Array): Check {
  const m = newCheck();
  readCheck(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// KvValue: 1 data, 2 encoding

const KV_VALUE_FIELDS = [undefined, "data", "encoding"];
const KV_VALUE_WIRE = [0, 2, 0];

function newKvValue(): KvValue {
  return { data: EMPTY, encoding: 0 };
}

function readKvValue(r: Reader, end: number, m: KvValue): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "KvValue");
    switch (tag) {
      case 0x0a:
        m.data = readBytes(r, end, "KvValue.data");
        break;
      case 0x10:
        m.encoding = readInt32(r, end, "KvValue.encoding");
        break;
      default:
        otherField(r, end, tag, at, "KvValue", KV_VALUE_FIELDS, KV_VALUE_WIRE);
    }
  }
}

function sizeKvValue(m: KvValue): number {
  const encoding = m.encoding | 0;
  return bytesSize(m.data) + (encoding === 0 ? 0 : 1 + int32Size(encoding));
}

function writeKvValue(buf: Uint8Array, pos: number, m: KvValue): number {
  if (m.data.length !== 0) pos = writeBytes(buf, pos, 0x0a, m.data);
  const encoding = m.encoding | 0;
  if (encoding !== 0) {
    buf[pos++] = 0x10;
    pos = writeInt32(buf, pos, encoding);
  }
  return pos;
}

/**
 * Encodes a {@link KvValue}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Bytes of a VE_BYTES value
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeKvValue, ValueEncoding } from "./datapath_codec.ts";
 * const bytes = encodeKvValue({
 *   data: new Uint8Array([7]),
 *   encoding: ValueEncoding.VE_BYTES,
 * });
 * assert.deepEqual([...bytes], [0x0a, 1, 7, 0x10, 3]);
 * ```
 */
export function encodeKvValue(msg: KvValue): Uint8Array {
  const buf = alloc(sizeKvValue(msg));
  return finish(buf, writeKvValue(buf, 0, msg), "KvValue");
}

/**
 * Decodes a {@link KvValue}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example An unknown encoding number is kept, for the caller to refuse
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeKvValue } from "./datapath_codec.ts";
 * assert.equal(decodeKvValue(new Uint8Array([0x10, 42])).encoding, 42);
 * ```
 */
export function decodeKvValue(bytes: Uint8Array): KvValue {
  const m = newKvValue();
  readKvValue(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// Mutation: 1 key, 2 value, 3 mutation_type, 4 expire_at_ms, 5 sum_min,
// 6 sum_max, 7 sum_clamp

const MUTATION_FIELDS = [
  undefined,
  "key",
  "value",
  "mutation_type",
  "expire_at_ms",
  "sum_min",
  "sum_max",
  "sum_clamp",
];
const MUTATION_WIRE = [0, 2, 2, 0, 0, 2, 2, 0];

function newMutation(): Mutation {
  return {
    key: EMPTY,
    value: undefined,
    mutationType: 0,
    expireAtMs: 0,
    sumMin: EMPTY,
    sumMax: EMPTY,
    sumClamp: false,
  };
}

function readMutation(r: Reader, end: number, m: Mutation): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "Mutation");
    switch (tag) {
      case 0x0a:
        m.key = readBytes(r, end, "Mutation.key");
        break;
      case 0x12: {
        const stop = subEnd(r, end, "Mutation.value");
        // A repeated singular sub-message merges into the first.
        const value = m.value ?? newKvValue();
        readKvValue(r, stop, value);
        m.value = value;
        break;
      }
      case 0x18:
        m.mutationType = readInt32(r, end, "Mutation.mutation_type");
        break;
      case 0x20:
        m.expireAtMs = readInt64(r, end, "Mutation.expire_at_ms");
        break;
      case 0x2a:
        m.sumMin = readBytes(r, end, "Mutation.sum_min");
        break;
      case 0x32:
        m.sumMax = readBytes(r, end, "Mutation.sum_max");
        break;
      case 0x38:
        m.sumClamp = readBool(r, end, "Mutation.sum_clamp");
        break;
      default:
        otherField(r, end, tag, at, "Mutation", MUTATION_FIELDS, MUTATION_WIRE);
    }
  }
}

function sizeMutation(m: Mutation): number {
  let n = bytesSize(m.key);
  if (m.value !== undefined) {
    const s = sizeKvValue(m.value);
    n += 1 + varintSize(s) + s;
  }
  const type = m.mutationType | 0;
  if (type !== 0) n += 1 + int32Size(type);
  checkInt64(m.expireAtMs, "Mutation.expireAtMs");
  if (m.expireAtMs !== 0) n += 1 + int64Size(m.expireAtMs);
  return n + bytesSize(m.sumMin) + bytesSize(m.sumMax) + (m.sumClamp ? 2 : 0);
}

function writeMutation(buf: Uint8Array, pos: number, m: Mutation): number {
  if (m.key.length !== 0) pos = writeBytes(buf, pos, 0x0a, m.key);
  if (m.value !== undefined) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, sizeKvValue(m.value));
    pos = writeKvValue(buf, pos, m.value);
  }
  const type = m.mutationType | 0;
  if (type !== 0) {
    buf[pos++] = 0x18;
    pos = writeInt32(buf, pos, type);
  }
  if (m.expireAtMs !== 0) {
    buf[pos++] = 0x20;
    pos = writeInt64(buf, pos, m.expireAtMs);
  }
  if (m.sumMin.length !== 0) pos = writeBytes(buf, pos, 0x2a, m.sumMin);
  if (m.sumMax.length !== 0) pos = writeBytes(buf, pos, 0x32, m.sumMax);
  if (m.sumClamp) {
    buf[pos++] = 0x38;
    buf[pos++] = 1;
  }
  return pos;
}

/**
 * Encodes a {@link Mutation}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 * @throws {InvalidArgumentError} If `expireAtMs` is not a safe integer.
 *
 * @example A delete with the empty value Deno's client sends along
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMutation, MutationType, ValueEncoding } from "./datapath_codec.ts";
 * const bytes = encodeMutation({
 *   key: new Uint8Array([0x61]),
 *   value: { data: new Uint8Array(0), encoding: ValueEncoding.VE_BYTES },
 *   mutationType: MutationType.M_DELETE,
 *   expireAtMs: 0,
 *   sumMin: new Uint8Array(0),
 *   sumMax: new Uint8Array(0),
 *   sumClamp: false,
 * });
 * assert.deepEqual([...bytes], [0x0a, 1, 0x61, 0x12, 2, 0x10, 3, 0x18, 2]);
 * ```
 */
export function encodeMutation(msg: Mutation): Uint8Array {
  const buf = alloc(sizeMutation(msg));
  return finish(buf, writeMutation(buf, 0, msg), "Mutation");
}

/**
 * Decodes a {@link Mutation}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed, or `expire_at_ms`
 * is outside the safe integer range.
 *
 * @example A negative int64 takes ten bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMutation } from "./datapath_codec.ts";
 * const ff = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
 * const bytes = new Uint8Array([0x20, ...ff, 0x01]);
 * const mutation = decodeMutation(bytes);
 * assert.equal(mutation.expireAtMs, -1);
 * assert.equal(mutation.value, undefined);
 * ```
 */
export function decodeMutation(bytes: Uint8Array): Mutation {
  const m = newMutation();
  readMutation(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// Enqueue: 1 payload, 2 deadline_ms, 3 keys_if_undelivered, 4 backoff_schedule

const ENQUEUE_FIELDS = [
  undefined,
  "payload",
  "deadline_ms",
  "keys_if_undelivered",
  "backoff_schedule",
];
const ENQUEUE_WIRE = [0, 2, 0, 2, 2];

function newEnqueue(): Enqueue {
  return {
    payload: EMPTY,
    deadlineMs: 0,
    keysIfUndelivered: [],
    backoffSchedule: [],
  };
}

function readEnqueue(r: Reader, end: number, m: Enqueue): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "Enqueue");
    switch (tag) {
      case 0x0a:
        m.payload = readBytes(r, end, "Enqueue.payload");
        break;
      case 0x10:
        m.deadlineMs = readInt64(r, end, "Enqueue.deadline_ms");
        break;
      case 0x1a:
        m.keysIfUndelivered.push(
          readBytes(r, end, "Enqueue.keys_if_undelivered"),
        );
        break;
      case 0x20:
      case 0x22:
        readUint32s(
          r,
          end,
          tag,
          m.backoffSchedule,
          "Enqueue.backoff_schedule",
        );
        break;
      default:
        otherField(r, end, tag, at, "Enqueue", ENQUEUE_FIELDS, ENQUEUE_WIRE);
    }
  }
}

function sizeEnqueue(m: Enqueue): number {
  let n = bytesSize(m.payload);
  checkInt64(m.deadlineMs, "Enqueue.deadlineMs");
  if (m.deadlineMs !== 0) n += 1 + int64Size(m.deadlineMs);
  for (const key of m.keysIfUndelivered) {
    // Repeated elements are written even when empty.
    n += 1 + varintSize(key.length) + key.length;
  }
  return n + packedFieldSize(m.backoffSchedule);
}

function writeEnqueue(buf: Uint8Array, pos: number, m: Enqueue): number {
  if (m.payload.length !== 0) pos = writeBytes(buf, pos, 0x0a, m.payload);
  if (m.deadlineMs !== 0) {
    buf[pos++] = 0x10;
    pos = writeInt64(buf, pos, m.deadlineMs);
  }
  for (const key of m.keysIfUndelivered) pos = writeBytes(buf, pos, 0x1a, key);
  return writePacked(buf, pos, 0x22, m.backoffSchedule);
}

/**
 * Encodes an {@link Enqueue}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 * @throws {InvalidArgumentError} If `deadlineMs` is not a safe integer.
 *
 * @example The backoff schedule is packed
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEnqueue } from "./datapath_codec.ts";
 * const bytes = encodeEnqueue({
 *   payload: new Uint8Array(0),
 *   deadlineMs: 0,
 *   keysIfUndelivered: [],
 *   backoffSchedule: [1, 300],
 * });
 * assert.deepEqual([...bytes], [0x22, 3, 1, 0xac, 0x02]);
 * ```
 */
export function encodeEnqueue(msg: Enqueue): Uint8Array {
  const buf = alloc(sizeEnqueue(msg));
  return finish(buf, writeEnqueue(buf, 0, msg), "Enqueue");
}

/**
 * Decodes an {@link Enqueue}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed, or `deadline_ms`
 * is outside the safe integer range.
 *
 * @example An unpacked backoff schedule reads the same as a packed one
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEnqueue } from "./datapath_codec.ts";
 * const unpacked = decodeEnqueue(new Uint8Array([0x20, 1, 0x20, 0xac, 0x02]));
 * assert.deepEqual(unpacked.backoffSchedule, [1, 300]);
 * ```
 */
export function decodeEnqueue(bytes: Uint8Array): Enqueue {
  const m = newEnqueue();
  readEnqueue(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// AtomicWrite: 1 checks, 2 mutations, 3 enqueues

const ATOMIC_WRITE_FIELDS = [undefined, "checks", "mutations", "enqueues"];
const ATOMIC_WRITE_WIRE = [0, 2, 2, 2];

function readAtomicWrite(r: Reader, end: number, m: AtomicWrite): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "AtomicWrite");
    switch (tag) {
      case 0x0a: {
        const stop = subEnd(r, end, "AtomicWrite.checks");
        const check = newCheck();
        readCheck(r, stop, check);
        m.checks.push(check);
        break;
      }
      case 0x12: {
        const stop = subEnd(r, end, "AtomicWrite.mutations");
        const mutation = newMutation();
        readMutation(r, stop, mutation);
        m.mutations.push(mutation);
        break;
      }
      case 0x1a: {
        const stop = subEnd(r, end, "AtomicWrite.enqueues");
        const enqueue = newEnqueue();
        readEnqueue(r, stop, enqueue);
        m.enqueues.push(enqueue);
        break;
      }
      default:
        otherField(
          r,
          end,
          tag,
          at,
          "AtomicWrite",
          ATOMIC_WRITE_FIELDS,
          ATOMIC_WRITE_WIRE,
        );
    }
  }
}

function sizeAtomicWrite(m: AtomicWrite): number {
  let n = 0;
  for (const check of m.checks) {
    const s = sizeCheck(check);
    n += 1 + varintSize(s) + s;
  }
  for (const mutation of m.mutations) {
    const s = sizeMutation(mutation);
    n += 1 + varintSize(s) + s;
  }
  for (const enqueue of m.enqueues) {
    const s = sizeEnqueue(enqueue);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

function writeAtomicWrite(
  buf: Uint8Array,
  pos: number,
  m: AtomicWrite,
): number {
  for (const check of m.checks) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizeCheck(check));
    pos = writeCheck(buf, pos, check);
  }
  for (const mutation of m.mutations) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, sizeMutation(mutation));
    pos = writeMutation(buf, pos, mutation);
  }
  for (const enqueue of m.enqueues) {
    buf[pos++] = 0x1a;
    pos = writeVarint(buf, pos, sizeEnqueue(enqueue));
    pos = writeEnqueue(buf, pos, enqueue);
  }
  return pos;
}

/**
 * Encodes an {@link AtomicWrite}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 * @throws {InvalidArgumentError} If an int64 field is not a safe integer.
 *
 * @example An empty write
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeAtomicWrite } from "./datapath_codec.ts";
 * const bytes = encodeAtomicWrite({ checks: [], mutations: [], enqueues: [] });
 * assert.equal(bytes.length, 0);
 * ```
 */
export function encodeAtomicWrite(msg: AtomicWrite): Uint8Array {
  const buf = alloc(sizeAtomicWrite(msg));
  return finish(buf, writeAtomicWrite(buf, 0, msg), "AtomicWrite");
}

/**
 * Decodes an {@link AtomicWrite}, the body of `POST …/atomic_write`.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example Round trip of a check and a set
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   decodeAtomicWrite,
 *   encodeAtomicWrite,
 *   MutationType,
 *   ValueEncoding,
 * } from "./datapath_codec.ts";
 * const key = new Uint8Array([0x02, 0x61, 0x00]);
 * const write = {
 *   checks: [{ key, versionstamp: new Uint8Array(0) }],
 *   mutations: [{
 *     key,
 *     value: { data: new Uint8Array([1]), encoding: ValueEncoding.VE_BYTES },
 *     mutationType: MutationType.M_SET,
 *     expireAtMs: 0,
 *     sumMin: new Uint8Array(0),
 *     sumMax: new Uint8Array(0),
 *     sumClamp: false,
 *   }],
 *   enqueues: [],
 * };
 * assert.deepEqual(decodeAtomicWrite(encodeAtomicWrite(write)), write);
 * ```
 */
export function decodeAtomicWrite(bytes: Uint8Array): AtomicWrite {
  const m: AtomicWrite = { checks: [], mutations: [], enqueues: [] };
  readAtomicWrite(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// AtomicWriteOutput: 1 status, 2 versionstamp, 4 failed_checks

const ATOMIC_WRITE_OUTPUT_FIELDS = [
  undefined,
  "status",
  "versionstamp",
  undefined,
  "failed_checks",
];
const ATOMIC_WRITE_OUTPUT_WIRE = [0, 0, 2, 0, 2];

function readAtomicWriteOutput(
  r: Reader,
  end: number,
  m: AtomicWriteOutput,
): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "AtomicWriteOutput");
    switch (tag) {
      case 0x08:
        m.status = readInt32(r, end, "AtomicWriteOutput.status");
        break;
      case 0x12:
        m.versionstamp = readBytes(r, end, "AtomicWriteOutput.versionstamp");
        break;
      case 0x20:
      case 0x22:
        readUint32s(
          r,
          end,
          tag,
          m.failedChecks,
          "AtomicWriteOutput.failed_checks",
        );
        break;
      default:
        otherField(
          r,
          end,
          tag,
          at,
          "AtomicWriteOutput",
          ATOMIC_WRITE_OUTPUT_FIELDS,
          ATOMIC_WRITE_OUTPUT_WIRE,
        );
    }
  }
}

/**
 * Encodes an {@link AtomicWriteOutput}, the answer to `POST …/atomic_write`
 * (content type `application/x-protobuf`).
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example A success carries the commit's versionstamp
 * ```ts
 * import assert from "node:assert/strict";
 * import { AtomicWriteStatus, encodeAtomicWriteOutput } from "./datapath_codec.ts";
 * const bytes = encodeAtomicWriteOutput({
 *   status: AtomicWriteStatus.AW_SUCCESS,
 *   versionstamp: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
 *   failedChecks: [],
 * });
 * assert.deepEqual([...bytes.subarray(0, 4)], [0x08, 1, 0x12, 10]);
 * assert.equal(bytes.length, 14);
 * ```
 */
export function encodeAtomicWriteOutput(msg: AtomicWriteOutput): Uint8Array {
  const status = msg.status | 0;
  const n = (status === 0 ? 0 : 1 + int32Size(status)) +
    bytesSize(msg.versionstamp) + packedFieldSize(msg.failedChecks);
  const buf = alloc(n);
  let pos = 0;
  if (status !== 0) {
    buf[pos++] = 0x08;
    pos = writeInt32(buf, pos, status);
  }
  if (msg.versionstamp.length !== 0) {
    pos = writeBytes(buf, pos, 0x12, msg.versionstamp);
  }
  pos = writePacked(buf, pos, 0x22, msg.failedChecks);
  return finish(buf, pos, "AtomicWriteOutput");
}

/**
 * Decodes an {@link AtomicWriteOutput}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example A check failure naming checks 0 and 2
 * ```ts
 * import assert from "node:assert/strict";
 * import { AtomicWriteStatus, decodeAtomicWriteOutput } from "./datapath_codec.ts";
 * const out = decodeAtomicWriteOutput(new Uint8Array([0x08, 2, 0x22, 2, 0, 2]));
 * assert.equal(out.status, AtomicWriteStatus.AW_CHECK_FAILURE);
 * assert.deepEqual(out.failedChecks, [0, 2]);
 * ```
 */
export function decodeAtomicWriteOutput(bytes: Uint8Array): AtomicWriteOutput {
  const m: AtomicWriteOutput = {
    status: 0,
    versionstamp: EMPTY,
    failedChecks: [],
  };
  readAtomicWriteOutput(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// WatchKey: 1 key

const WATCH_KEY_FIELDS = [undefined, "key"];
const WATCH_KEY_WIRE = [0, 2];

function readWatchKey(r: Reader, end: number, m: WatchKey): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "WatchKey");
    if (tag === 0x0a) {
      m.key = readBytes(r, end, "WatchKey.key");
    } else {
      otherField(r, end, tag, at, "WatchKey", WATCH_KEY_FIELDS, WATCH_KEY_WIRE);
    }
  }
}

/**
 * Encodes a {@link WatchKey}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWatchKey } from "./datapath_codec.ts";
 * const bytes = encodeWatchKey({ key: new Uint8Array([0x61]) });
 * assert.deepEqual([...bytes], [0x0a, 1, 0x61]);
 * ```
 */
export function encodeWatchKey(msg: WatchKey): Uint8Array {
  const buf = alloc(bytesSize(msg.key));
  const pos = msg.key.length === 0 ? 0 : writeBytes(buf, 0, 0x0a, msg.key);
  return finish(buf, pos, "WatchKey");
}

/**
 * Decodes a {@link WatchKey}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example A key given twice keeps the last
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWatchKey } from "./datapath_codec.ts";
 * const k = decodeWatchKey(new Uint8Array([0x0a, 1, 0x61, 0x0a, 1, 0x62]));
 * assert.deepEqual([...k.key], [0x62]);
 * ```
 */
export function decodeWatchKey(bytes: Uint8Array): WatchKey {
  const m: WatchKey = { key: EMPTY };
  readWatchKey(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// Watch: 1 keys

const WATCH_FIELDS = [undefined, "keys"];
const WATCH_WIRE = [0, 2];

function sizeWatch(m: Watch): number {
  let n = 0;
  for (const k of m.keys) {
    const s = bytesSize(k.key);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

/**
 * Encodes a {@link Watch}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWatch, encodeWatch } from "./datapath_codec.ts";
 * const watch = {
 *   keys: [{ key: new Uint8Array([1]) }, { key: new Uint8Array([2]) }],
 * };
 * assert.deepEqual(decodeWatch(encodeWatch(watch)), watch);
 * ```
 */
export function encodeWatch(msg: Watch): Uint8Array {
  const buf = alloc(sizeWatch(msg));
  let pos = 0;
  for (const k of msg.keys) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, bytesSize(k.key));
    if (k.key.length !== 0) pos = writeBytes(buf, pos, 0x0a, k.key);
  }
  return finish(buf, pos, "Watch");
}

/**
 * Decodes a {@link Watch}, the body of `POST …/watch`.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example A sub-message longer than its parent is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWatch, ProtobufDecodeError } from "./datapath_codec.ts";
 * assert.throws(
 *   () => decodeWatch(new Uint8Array([0x0a, 9, 0x0a, 1, 0x61])),
 *   ProtobufDecodeError,
 * );
 * ```
 */
export function decodeWatch(bytes: Uint8Array): Watch {
  const m: Watch = { keys: [] };
  const r = new Reader(bytes);
  const end = bytes.length;
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "Watch");
    if (tag === 0x0a) {
      const stop = subEnd(r, end, "Watch.keys");
      const k: WatchKey = { key: EMPTY };
      readWatchKey(r, stop, k);
      m.keys.push(k);
    } else {
      otherField(r, end, tag, at, "Watch", WATCH_FIELDS, WATCH_WIRE);
    }
  }
  return m;
}

// ---------------------------------------------------------------------------
// WatchKeyOutput: 1 changed, 2 entry_if_changed

const WATCH_KEY_OUTPUT_FIELDS = [undefined, "changed", "entry_if_changed"];
const WATCH_KEY_OUTPUT_WIRE = [0, 0, 2];

function newWatchKeyOutput(): WatchKeyOutput {
  return { changed: false, entryIfChanged: undefined };
}

function readWatchKeyOutput(
  r: Reader,
  end: number,
  m: WatchKeyOutput,
): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "WatchKeyOutput");
    switch (tag) {
      case 0x08:
        m.changed = readBool(r, end, "WatchKeyOutput.changed");
        break;
      case 0x12: {
        const stop = subEnd(r, end, "WatchKeyOutput.entry_if_changed");
        const entry = m.entryIfChanged ?? newKvEntry();
        readKvEntry(r, stop, entry);
        m.entryIfChanged = entry;
        break;
      }
      default:
        otherField(
          r,
          end,
          tag,
          at,
          "WatchKeyOutput",
          WATCH_KEY_OUTPUT_FIELDS,
          WATCH_KEY_OUTPUT_WIRE,
        );
    }
  }
}

function sizeWatchKeyOutput(m: WatchKeyOutput): number {
  let n = m.changed ? 2 : 0;
  if (m.entryIfChanged !== undefined) {
    const s = sizeKvEntry(m.entryIfChanged);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

function writeWatchKeyOutput(
  buf: Uint8Array,
  pos: number,
  m: WatchKeyOutput,
): number {
  if (m.changed) {
    buf[pos++] = 0x08;
    buf[pos++] = 1;
  }
  if (m.entryIfChanged !== undefined) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, sizeKvEntry(m.entryIfChanged));
    pos = writeKvEntry(buf, pos, m.entryIfChanged);
  }
  return pos;
}

/**
 * Encodes a {@link WatchKeyOutput}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example A deleted key: changed, no entry
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWatchKeyOutput } from "./datapath_codec.ts";
 * assert.deepEqual([...encodeWatchKeyOutput({ changed: true })], [0x08, 1]);
 * ```
 */
export function encodeWatchKeyOutput(msg: WatchKeyOutput): Uint8Array {
  const buf = alloc(sizeWatchKeyOutput(msg));
  return finish(buf, writeWatchKeyOutput(buf, 0, msg), "WatchKeyOutput");
}

/**
 * Decodes a {@link WatchKeyOutput}.
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example An empty entry is present, not absent
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWatchKeyOutput } from "./datapath_codec.ts";
 * const k = decodeWatchKeyOutput(new Uint8Array([0x08, 1, 0x12, 0]));
 * assert.equal(k.changed, true);
 * assert.equal(k.entryIfChanged?.key.length, 0);
 * ```
 */
export function decodeWatchKeyOutput(bytes: Uint8Array): WatchKeyOutput {
  const m = newWatchKeyOutput();
  readWatchKeyOutput(new Reader(bytes), bytes.length, m);
  return m;
}

// ---------------------------------------------------------------------------
// WatchOutput: 1 status, 2 keys

const WATCH_OUTPUT_FIELDS = [undefined, "status", "keys"];
const WATCH_OUTPUT_WIRE = [0, 0, 2];

function sizeWatchOutput(m: WatchOutput): number {
  const status = m.status | 0;
  let n = status === 0 ? 0 : 1 + int32Size(status);
  for (const k of m.keys) {
    const s = sizeWatchKeyOutput(k);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

function writeWatchOutput(
  buf: Uint8Array,
  pos: number,
  m: WatchOutput,
): number {
  const status = m.status | 0;
  if (status !== 0) {
    buf[pos++] = 0x08;
    pos = writeInt32(buf, pos, status);
  }
  for (const k of m.keys) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, sizeWatchKeyOutput(k));
    pos = writeWatchKeyOutput(buf, pos, k);
  }
  return pos;
}

/**
 * Encodes a {@link WatchOutput}.
 *
 * @param msg The message.
 * @returns Its protobuf encoding: private bytes, `.buffer` maybe shared.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   decodeWatchOutput,
 *   encodeWatchOutput,
 *   SnapshotReadStatus,
 * } from "./datapath_codec.ts";
 * const out = {
 *   status: SnapshotReadStatus.SR_SUCCESS,
 *   keys: [{ changed: false, entryIfChanged: undefined }],
 * };
 * assert.deepEqual(decodeWatchOutput(encodeWatchOutput(out)), out);
 * ```
 */
export function encodeWatchOutput(msg: WatchOutput): Uint8Array {
  const buf = alloc(sizeWatchOutput(msg));
  return finish(buf, writeWatchOutput(buf, 0, msg), "WatchOutput");
}

/**
 * Encodes a {@link WatchOutput} as one frame of the `POST …/watch` response
 * stream (content type `application/octet-stream`): a 4-byte little-endian
 * length, then the message. A frame of length 0 (four zero bytes) is a
 * keep-alive that clients skip.
 *
 * @param msg The message.
 * @returns The frame, `4 + length` bytes in a buffer of its own, safe to
 * enqueue into any stream.
 *
 * @example The length prefix
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWatchOutputFrame, SnapshotReadStatus } from "./datapath_codec.ts";
 * const frame = encodeWatchOutputFrame({
 *   status: SnapshotReadStatus.SR_SUCCESS,
 *   keys: [{ changed: true }],
 * });
 * assert.deepEqual([...frame], [6, 0, 0, 0, 0x08, 1, 0x12, 2, 0x08, 1]);
 * ```
 */
export function encodeWatchOutputFrame(msg: WatchOutput): Uint8Array {
  const n = sizeWatchOutput(msg);
  const buf = new Uint8Array(4 + n);
  new DataView(buf.buffer).setUint32(0, n, true);
  return finish(buf, writeWatchOutput(buf, 4, msg), "WatchOutput");
}

/**
 * Decodes a {@link WatchOutput} (one frame's message, without its length).
 *
 * @param bytes The protobuf encoding.
 * @returns The message; its byte fields are views into `bytes`.
 * @throws {ProtobufDecodeError} If `bytes` is malformed.
 *
 * @example A wrong wire type on a known field names the field
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWatchOutput, ProtobufDecodeError } from "./datapath_codec.ts";
 * assert.throws(
 *   () => decodeWatchOutput(new Uint8Array([0x10, 1])),
 *   (err) =>
 *     err instanceof ProtobufDecodeError &&
 *     /WatchOutput\.keys/.test(err.message),
 * );
 * ```
 */
export function decodeWatchOutput(bytes: Uint8Array): WatchOutput {
  const m: WatchOutput = { status: 0, keys: [] };
  const r = new Reader(bytes);
  const end = bytes.length;
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end, "WatchOutput");
    switch (tag) {
      case 0x08:
        m.status = readInt32(r, end, "WatchOutput.status");
        break;
      case 0x12: {
        const stop = subEnd(r, end, "WatchOutput.keys");
        const k = newWatchKeyOutput();
        readWatchKeyOutput(r, stop, k);
        m.keys.push(k);
        break;
      }
      default:
        otherField(
          r,
          end,
          tag,
          at,
          "WatchOutput",
          WATCH_OUTPUT_FIELDS,
          WATCH_OUTPUT_WIRE,
        );
    }
  }
  return m;
}
