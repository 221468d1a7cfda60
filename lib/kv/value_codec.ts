/**
 * Deno KV values as bytes: the form a value takes in the LSM, and the
 * `(encoding, data)` pair of the KV Connect protocol (denokv
 * `proto/schema/datapath.proto`, `ValueEncoding`). Deno KV stores a value in
 * one of three encodings, and so does Strata:
 *
 * - a `Uint8Array` (any realm or subclass, `Buffer` included) as its raw
 *   bytes, read back as a plain `Uint8Array` (`VE_BYTES`, 3);
 * - a `KvU64` as 8 little-endian bytes, read back as a `KvU64` (`VE_LE64`, 2);
 * - anything else through V8's structured serialization for storage, the
 *   serializer Deno KV itself calls (`core.serialize(value,
 *   { forStorage: true })`), so the same values round-trip, the same ones
 *   are refused with the same errors, and the bytes are the same (`VE_V8`,
 *   1).
 *
 * The stored form is one tag byte and the payload:
 *
 * ```
 * VE_V8:    +------+------+----------------------------------+
 *           | 0xFF | ver  | V8 value (V8 wrote all of these) |
 *           +------+------+----------------------------------+
 * VE_LE64:  +------+---------------------------+
 *           | 0x02 | u64, 8 bytes little-endian |
 *           +------+---------------------------+
 * VE_BYTES: +------+------------------------+
 *           | 0x03 | the bytes (0 or more)  |
 *           +------+------------------------+
 * ```
 *
 * V8's serialization opens with its own version tag, 0xFF (then the format
 * version, 0x10 in Deno 2.9), which the other tags never take: a V8 value is
 * stored exactly as V8 wrote it, with no copy on the way in or out, and its
 * stored length is the length Deno KV checks against its size limit.
 *
 * Deno's serializer is reached through `Deno[Deno.internal].core`, which is
 * not a public API; when it is missing, a `node:v8` serializer stands in
 * ({@link nodeV8Codec}), slower and unable to store host objects.
 *
 * @module
 */

import { isKvU64, KvU64, MAX_U64, u64Value } from "./kv_u64.ts";

/** `ValueEncoding.VE_V8`: V8 structured serialization. */
export const VE_V8 = 1;
/** `ValueEncoding.VE_LE64`: a u64, 8 bytes little-endian (a `KvU64`). */
export const VE_LE64 = 2;
/** `ValueEncoding.VE_BYTES`: raw bytes (a `Uint8Array`). */
export const VE_BYTES = 3;

/** A KV Connect value encoding: {@link VE_V8}, {@link VE_LE64} or {@link VE_BYTES}. */
export type KvValueEncoding = 1 | 2 | 3;

/** A value as KV Connect carries it (datapath.proto `KvValue`). */
export interface KvValue {
  /** How `data` encodes the value. */
  encoding: KvValueEncoding;
  /** The encoded value. */
  data: Uint8Array;
}

/** Tag of a stored V8 value: V8's own version tag, its first byte. */
export const TAG_V8 = 0xff;
/** Tag of a stored u64. */
export const TAG_LE64 = VE_LE64;
/** Tag of stored raw bytes. */
export const TAG_BYTES = VE_BYTES;

/**
 * Deno KV's largest value, 64 KiB, counted as it counts: the V8 bytes, the
 * raw bytes, or 8 for a u64.
 */
export const MAX_VALUE_SIZE_BYTES = 65536;

/**
 * A V8 structured serializer for storage, as Deno KV uses one.
 */
export interface V8Codec {
  /** `"deno"` for Deno's own serializer, `"node:v8"` for the stand-in. */
  readonly name: "deno" | "node:v8";
  /**
   * Serializes a value, header included (so the first byte is 0xFF).
   *
   * @param value Any structured-cloneable value.
   * @returns Fresh bytes.
   */
  serialize(value: unknown): Uint8Array;
  /**
   * Deserializes what {@link V8Codec.serialize} (or Deno) wrote.
   *
   * @param bytes The serialized value.
   * @returns A fresh value.
   */
  deserialize(bytes: Uint8Array): unknown;
}

interface DenoCore {
  serialize(value: unknown, options: { forStorage: boolean }): Uint8Array;
  deserialize(
    bytes: Uint8Array,
    options: { forStorage: boolean; deserializers: unknown },
  ): unknown;
  getCloneableDeserializers(): unknown;
}

/**
 * Deno's own serializer, the one Deno KV calls, when this runtime exposes
 * it (Deno 2.9 does, at `Deno[Deno.internal].core`).
 *
 * @returns The codec, or `undefined` when Deno's serializer is out of reach.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoV8Codec } from "./value_codec.ts";
 * const codec = denoV8Codec();
 * if (codec) assert.deepEqual(codec.deserialize(codec.serialize([1n])), [1n]);
 * ```
 */
export function denoV8Codec(): V8Codec | undefined {
  let core: DenoCore | undefined;
  try {
    const d = Deno as unknown as
      & { internal?: symbol }
      & Record<symbol, unknown>;
    const internals = d.internal === undefined ? undefined : d[d.internal];
    core = (internals as { core?: DenoCore } | undefined)?.core;
  } catch {
    return undefined;
  }
  if (
    typeof core?.serialize !== "function" ||
    typeof core.deserialize !== "function" ||
    typeof core.getCloneableDeserializers !== "function"
  ) return undefined;
  const c = core;
  // Deno KV's own options; `deserializers` is a live registry object.
  const ser = { forStorage: true };
  const de = { forStorage: true, deserializers: c.getCloneableDeserializers() };
  const codec: V8Codec = {
    name: "deno",
    serialize: (value) => c.serialize(value, ser),
    deserialize: (bytes) => c.deserialize(bytes, de),
  };
  try {
    const probe = codec.serialize(-0);
    if (probe[0] === TAG_V8 && Object.is(codec.deserialize(probe), -0)) {
      return codec;
    }
  } catch {
    // An internal that changed shape is as good as absent.
  }
  return undefined;
}

// Deno's host-object brand (libs/core `hostObjectBrand`): Deno's serializer
// writes an object carrying it as the snapshot its brand function returns.
const HOST_OBJECT_BRAND = Symbol.for("Deno.core.hostObject");
// The host-object kinds Deno registers at startup (ext/web, ext/crypto,
// ext/node 02_register_cloneable.js). Deno panics on any other kind.
const HOST_OBJECT_KINDS = new Set([
  "Blob",
  "CryptoKey",
  "DOMException",
  "EventLoopDelayHistogram",
  "File",
  "NodeCryptoKeyObject",
  "RecordableHistogram",
  "X509Certificate",
]);

/**
 * The stand-in for Deno's serializer: `node:v8`'s base `Serializer`, whose
 * bytes are Deno's for every value but host objects, with three
 * corrections: the header keeps V8's real format version (the polyfill
 * relabels 16 as 15 for Node's sake), clone errors are `TypeError`s as in
 * Deno KV, and failed reads are `RangeError("could not deserialize
 * value")`. It reads the host objects Deno writes (CryptoKey, DOMException,
 * Blob…), but refuses to write them: V8 does not let `node:v8` see them, so
 * it would write a CryptoKey as `{}`. (`node:v8.serialize` itself differs
 * more: it writes typed arrays in Node's own format.)
 *
 * @returns The codec.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeV8Codec } from "./value_codec.ts";
 * const codec = await nodeV8Codec();
 * const bytes = codec.serialize(new Map([[1, "a"]]));
 * assert.deepEqual(codec.deserialize(bytes), new Map([[1, "a"]]));
 * ```
 */
export async function nodeV8Codec(): Promise<V8Codec> {
  const v8 = await import("node:v8");
  const headerWritten = Object.getOwnPropertySymbols(new v8.Serializer())
    .find((s) => s.description === "kHeaderWritten");

  class StorageSerializer extends v8.Serializer {
    // V8 calls it to make a DataCloneError; Deno's serializer throws
    // TypeError (the polyfill's default is Error).
    _getDataCloneError = TypeError;
  }

  class StorageDeserializer extends v8.Deserializer {
    // Deno writes a host object as 0xFFFFFFFF and its snapshot; handing a
    // branded stand-in to structuredClone runs Deno's own deserializer.
    _readHostObject(): object {
      if (this.readUint32() !== 0xffff_ffff) {
        throw new Error("Failed to deserialize host object");
      }
      const snapshot = this.readValue() as { type?: unknown } | null;
      if (!HOST_OBJECT_KINDS.has(snapshot?.type as string)) {
        throw new Error("Failed to deserialize host object");
      }
      return structuredClone({ [HOST_OBJECT_BRAND]: () => snapshot });
    }
  }

  return {
    name: "node:v8",
    serialize(value) {
      refuseHostObjects(value);
      const s = new StorageSerializer();
      s.writeHeader();
      if (headerWritten) {
        (s as unknown as Record<symbol, boolean>)[headerWritten] = false;
      }
      s.writeValue(value);
      const b = s.releaseBuffer();
      // The polyfill's Buffer may be a view into Node's shared pool.
      return b.byteOffset === 0 && b.buffer.byteLength === b.byteLength
        ? new Uint8Array(b.buffer)
        : new Uint8Array(b);
    },
    deserialize(bytes) {
      try {
        const d = new StorageDeserializer(bytes);
        d.readHeader();
        return d.readValue();
      } catch (err) {
        if (
          err instanceof Error &&
          err.message.startsWith("Unable to deserialize")
        ) {
          throw new RangeError("could not deserialize value", { cause: err });
        }
        throw err;
      }
    },
  };
}

// The stand-in's guard against writing a host object as a plain object.
// It visits what V8 will, and reads getters as V8 does (so twice in all).
function refuseHostObjects(root: unknown): void {
  if (typeof root !== "object" || root === null) return;
  const seen = new Set<object>();
  const todo: object[] = [root];
  for (let o = todo.pop(); o !== undefined; o = todo.pop()) {
    if (seen.has(o)) continue;
    seen.add(o);
    if (HOST_OBJECT_BRAND in o) {
      const tag = Object.prototype.toString.call(o).slice(8, -1);
      throw new TypeError(
        typeof (o as Record<symbol, unknown>)[HOST_OBJECT_BRAND] === "function"
          ? `${tag} cannot be stored without Deno's serializer`
          : "Unsupported object type",
      );
    }
    if (o instanceof WebAssembly.Module) {
      throw new TypeError("Wasm modules cannot be stored");
    }
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) continue;
    const push = (v: unknown) => {
      if (typeof v === "object" && v !== null) todo.push(v);
    };
    if (o instanceof Map) o.forEach((v, k) => (push(k), push(v)));
    else if (o instanceof Set) o.forEach(push);
    if (o instanceof Error) {
      push(Object.getOwnPropertyDescriptor(o, "cause")?.value);
    }
    for (const k of Object.keys(o)) push((o as Record<string, unknown>)[k]);
  }
}

/**
 * The V8 codec in use: Deno's own ({@link denoV8Codec}) when reachable,
 * else the `node:v8` stand-in ({@link nodeV8Codec}).
 *
 * @example
 * ```ts
 * import { v8Codec } from "./value_codec.ts";
 * console.log(v8Codec.name); // "deno" in Deno 2.9
 * ```
 */
export const v8Codec: V8Codec = denoV8Codec() ?? await nodeV8Codec();
const serialize = v8Codec.serialize;
const deserialize = v8Codec.deserialize;

/**
 * Serializes a value as Deno KV does for a queue message: V8 always, even
 * for a `Uint8Array` or a `KvU64`.
 *
 * @param value Any structured-cloneable value.
 * @returns Fresh bytes, opening with 0xFF.
 * @throws {TypeError} The value cannot be cloned (a function, a symbol…),
 * with V8's message, as Deno KV throws it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializeV8, serializeV8 } from "./value_codec.ts";
 * const bytes = serializeV8({ job: 1 });
 * assert.equal(bytes[0], 0xff);
 * assert.deepEqual(deserializeV8(bytes), { job: 1 });
 * assert.throws(() => serializeV8(() => 1), TypeError);
 * ```
 */
export function serializeV8(value: unknown): Uint8Array {
  return serialize(value);
}

/**
 * Deserializes V8 bytes as Deno KV does.
 *
 * @param bytes Bytes from {@link serializeV8} or from Deno.
 * @returns A fresh value.
 * @throws {RangeError} The bytes are not a V8 value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializeV8, serializeV8 } from "./value_codec.ts";
 * assert.equal(deserializeV8(serializeV8("hi")), "hi");
 * ```
 */
export function deserializeV8(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

// %TypedArray%.prototype getters: they read the internal slots, so a
// subclass or another realm cannot fool them, as Deno KV's own check.
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
function intrinsicGetter(key: PropertyKey): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(typedArrayProto, key)!.get!;
}
const typedArrayTag = intrinsicGetter(Symbol.toStringTag);
const typedArrayBuffer = intrinsicGetter("buffer") as (
  this: Uint8Array,
) => ArrayBuffer | SharedArrayBuffer;
const typedArrayLength = intrinsicGetter("length") as (
  this: Uint8Array,
) => number;

/**
 * Encodes a value into its stored form: raw bytes for a `Uint8Array`, 8
 * bytes for a `KvU64` (Strata's or Deno's), V8 serialization for the rest.
 * Throws as Deno KV throws for a value it cannot store; the size limit is
 * left to {@link checkValueSize}, since Deno KV checks it at commit.
 *
 * @param value Any value Deno KV accepts.
 * @returns The stored form, fresh (it shares nothing with `value`).
 * @throws {TypeError} The value cannot be cloned (V8's message, as in Deno
 * KV, e.g. `"()=>1 could not be cloned."`), or is a `Uint8Array` over a
 * shared or resizable buffer.
 * @throws {Error} A `SharedArrayBuffer` inside it, or an error a getter threw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvU64 } from "./kv_u64.ts";
 * import { decodeValue, encodeValue } from "./value_codec.ts";
 * assert.deepEqual(encodeValue(new Uint8Array([7])), new Uint8Array([3, 7]));
 * assert.deepEqual(
 *   encodeValue(new KvU64(1n)),
 *   new Uint8Array([2, 1, 0, 0, 0, 0, 0, 0, 0]),
 * );
 * const value = { when: new Date(0), tags: new Set(["a"]) };
 * assert.deepEqual(decodeValue(encodeValue(value)), value);
 * assert.throws(() => encodeValue(Symbol("s")), TypeError);
 * ```
 */
export function encodeValue(value: unknown): Uint8Array {
  if (typeof value === "object" && value !== null) {
    if (typedArrayTag.call(value) === "Uint8Array") {
      return encodeBytes(value as Uint8Array);
    }
    if (isKvU64(value)) return encodeU64(u64Value(value));
  }
  return serialize(value);
}

function encodeBytes(bytes: Uint8Array): Uint8Array {
  const buffer = typedArrayBuffer.call(bytes);
  // Deno's op layer (serde_v8) refuses these, with these words.
  if (
    (buffer as ArrayBuffer).resizable === true ||
    (buffer as SharedArrayBuffer).growable === true
  ) {
    throw new TypeError(
      "serde_v8 error: can't create slice from resizable ArrayBuffer",
    );
  }
  if (buffer instanceof SharedArrayBuffer) {
    throw new TypeError(
      "serde_v8 error: invalid type; expected: buffer, got: Uint8Array",
    );
  }
  // A detached array has length 0 (and `set` refuses it): Deno KV stores
  // it as empty bytes.
  const length = typedArrayLength.call(bytes);
  const out = new Uint8Array(length + 1);
  out[0] = TAG_BYTES;
  if (length > 0) out.set(bytes, 1);
  return out;
}

/**
 * The stored form of a u64: what `sum`, `min` and `max` write.
 *
 * @param n A bigint from 0 to 2^64 − 1.
 * @returns 9 fresh bytes: {@link TAG_LE64} and `n` little-endian.
 * @throws {RangeError} `n` is out of the u64 range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeU64, storedU64 } from "./value_codec.ts";
 * assert.equal(storedU64(encodeU64(2n ** 64n - 1n)), 2n ** 64n - 1n);
 * ```
 */
export function encodeU64(n: bigint): Uint8Array {
  if (n < 0n || n > MAX_U64) {
    throw new RangeError("Value must fit in a 64-bit unsigned integer");
  }
  const out = new Uint8Array(9);
  out[0] = TAG_LE64;
  new DataView(out.buffer).setBigUint64(1, n, true);
  return out;
}

/**
 * The number a stored value holds when it is a u64, for `sum`, `min` and
 * `max` to combine with.
 *
 * @param stored A stored form.
 * @returns The number, or `undefined` when the value is not a u64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeU64, encodeValue, storedU64 } from "./value_codec.ts";
 * assert.equal(storedU64(encodeU64(5n)), 5n);
 * assert.equal(storedU64(encodeValue(5n)), undefined);
 * ```
 */
export function storedU64(stored: Uint8Array): bigint | undefined {
  if (stored[0] !== TAG_LE64 || stored.length !== 9) return undefined;
  return new DataView(stored.buffer, stored.byteOffset, 9)
    .getBigUint64(1, true);
}

/**
 * Decodes a stored form back into the value Deno KV would return: a fresh
 * value every time; raw bytes come back in a `Uint8Array` that owns its
 * whole buffer, a u64 as a Strata {@link KvU64}.
 *
 * @param stored A stored form, as {@link encodeValue} made it.
 * @returns The value.
 * @throws {TypeError} `"Invalid value type"` (Deno KV's words) for an
 * unknown tag or a u64 of the wrong length.
 * @throws {RangeError} V8 bytes that do not deserialize.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeValue } from "./value_codec.ts";
 * const slab = new Uint8Array([9, 3, 1, 2, 9]);
 * const bytes = decodeValue(slab.subarray(1, 4)) as Uint8Array;
 * assert.deepEqual(bytes, new Uint8Array([1, 2]));
 * assert.equal(bytes.buffer.byteLength, 2);
 * ```
 */
/**
 * Decodes a stored value that starts at `offset` of `bytes` (an entry's
 * value, after its header), without a view to make first.
 *
 * @param bytes Holds the stored value, which runs to the end.
 * @param offset Where its tag is.
 * @returns The value, as {@link decodeValue} returns it.
 * @throws {TypeError} `Invalid value type` on an unknown tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeValueAt, encodeValue } from "./value_codec.ts";
 * const stored = encodeValue(new Uint8Array([7]));
 * const entry = new Uint8Array(2 + stored.length);
 * entry.set(stored, 2);
 * assert.deepEqual(decodeValueAt(entry, 2), new Uint8Array([7]));
 * ```
 */
export function decodeValueAt(bytes: Uint8Array, offset: number): unknown {
  switch (bytes[offset]) {
    case TAG_V8:
      return deserialize(bytes.subarray(offset));
    case TAG_BYTES:
      return bytes.slice(offset + 1);
    case TAG_LE64:
      if (bytes.length - offset === 9) {
        let n = 0n;
        for (let i = 8; i >= 1; i--) n = n << 8n | BigInt(bytes[offset + i]!);
        return new KvU64(n);
      }
  }
  throw new TypeError("Invalid value type");
}

/**
 * Decodes a stored value.
 *
 * @param stored Tag and payload, as {@link encodeValue} wrote them.
 * @returns The value: a fresh `Uint8Array` (owning its buffer), a
 * `KvU64`, or what V8 deserialized.
 * @throws {TypeError} `Invalid value type` on an unknown tag.
 */
export function decodeValue(stored: Uint8Array): unknown {
  switch (stored[0]) {
    case TAG_V8:
      return deserialize(stored);
    case TAG_BYTES:
      return stored.slice(1);
    case TAG_LE64: {
      const n = storedU64(stored);
      if (n !== undefined) return new KvU64(n);
    }
  }
  throw new TypeError("Invalid value type");
}

/**
 * The size Deno KV counts for a value against its limit: the V8 bytes or
 * the raw bytes, 8 for a u64. A V8 value's stored form is exactly that
 * long; raw bytes are one shorter than their stored form.
 *
 * @param stored A stored form.
 * @returns The counted size in bytes.
 * @throws {TypeError} `"Invalid value type"` for an unknown tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeValue, valueSize } from "./value_codec.ts";
 * assert.equal(valueSize(encodeValue(new Uint8Array(10))), 10);
 * assert.equal(valueSize(encodeValue("abc")), 7); // ff 10 22 03 a b c
 * ```
 */
export function valueSize(stored: Uint8Array): number {
  switch (stored[0]) {
    case TAG_V8:
      return stored.length;
    case TAG_BYTES:
      return stored.length - 1;
    case TAG_LE64:
      return 8;
  }
  throw new TypeError("Invalid value type");
}

/**
 * Checks a value against the size limit as Deno KV does at commit, with its
 * error.
 *
 * @param stored A stored form.
 * @param max The limit; Deno KV's by default.
 * @returns The counted size ({@link valueSize}), for the total-mutation-size
 * check Deno KV makes next.
 * @throws {TypeError} `"Value too large (max 65536 bytes)"` when over.
 *
 * @example A string at the limit and one byte over
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkValueSize, encodeValue } from "./value_codec.ts";
 * // A one-byte string of n ≥ 16384 chars serializes to n + 6 bytes.
 * assert.equal(checkValueSize(encodeValue("x".repeat(65530))), 65536);
 * assert.throws(
 *   () => checkValueSize(encodeValue("x".repeat(65531))),
 *   new TypeError("Value too large (max 65536 bytes)"),
 * );
 * ```
 */
export function checkValueSize(
  stored: Uint8Array,
  max: number = MAX_VALUE_SIZE_BYTES,
): number {
  const size = valueSize(stored);
  if (size > max) throw new TypeError(`Value too large (max ${max} bytes)`);
  return size;
}

/**
 * Checks a queue message (from {@link serializeV8}) against the size limit
 * as Deno KV does, with its error.
 *
 * @param payload The serialized message.
 * @param max The limit; Deno KV's by default.
 * @returns The payload's length.
 * @throws {TypeError} `"enqueue payload too large (max 65536 bytes)"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEnqueuePayloadSize, serializeV8 } from "./value_codec.ts";
 * assert.equal(checkEnqueuePayloadSize(serializeV8(1)), 4); // ff 10 49 02
 * ```
 */
export function checkEnqueuePayloadSize(
  payload: Uint8Array,
  max: number = MAX_VALUE_SIZE_BYTES,
): number {
  if (payload.length > max) {
    throw new TypeError(`enqueue payload too large (max ${max} bytes)`);
  }
  return payload.length;
}

/**
 * The KV Connect form of a stored value, to send it without decoding.
 *
 * @param stored A stored form.
 * @returns The encoding and its data, a view into `stored`.
 * @throws {TypeError} `"Invalid value type"` for an unknown tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeValue, storedToKvValue, VE_BYTES } from "./value_codec.ts";
 * const { encoding, data } = storedToKvValue(encodeValue(new Uint8Array([5])));
 * assert.equal(encoding, VE_BYTES);
 * assert.deepEqual(data, new Uint8Array([5]));
 * ```
 */
export function storedToKvValue(stored: Uint8Array): KvValue {
  switch (stored[0]) {
    case TAG_V8:
      return { encoding: VE_V8, data: stored };
    case TAG_BYTES:
      return { encoding: VE_BYTES, data: stored.subarray(1) };
    case TAG_LE64:
      if (stored.length === 9) {
        return { encoding: VE_LE64, data: stored.subarray(1) };
      }
  }
  throw new TypeError("Invalid value type");
}

/**
 * The stored form of a value received over KV Connect, to store it without
 * decoding. V8 data is not parsed, only its first byte checked.
 *
 * @param encoding The `ValueEncoding` number.
 * @param data The encoded value.
 * @returns The stored form; for V8 data, `data` itself.
 * @throws {TypeError} An unknown encoding, V8 data not opening with 0xFF,
 * or u64 data that is not 8 bytes long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvValueToStored, VE_LE64 } from "./value_codec.ts";
 * const stored = kvValueToStored(VE_LE64, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
 * assert.deepEqual(stored, new Uint8Array([2, 1, 0, 0, 0, 0, 0, 0, 0]));
 * ```
 */
export function kvValueToStored(
  encoding: number,
  data: Uint8Array,
): Uint8Array {
  switch (encoding) {
    case VE_V8:
      if (data[0] !== TAG_V8) {
        throw new TypeError("Invalid V8 value: it must open with 0xFF");
      }
      return data;
    case VE_LE64:
      if (data.length !== 8) {
        throw new TypeError("Invalid u64 value: it must be 8 bytes long");
      }
      return withTag(TAG_LE64, data);
    case VE_BYTES:
      return withTag(TAG_BYTES, data);
  }
  throw new TypeError(`Invalid value encoding: ${encoding}`);
}

function withTag(tag: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = tag;
  out.set(data, 1);
  return out;
}

/**
 * A value in its KV Connect form, as Deno's client sends it.
 *
 * @param value Any value Deno KV accepts.
 * @returns The encoding and fresh data.
 * @throws As {@link encodeValue}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toKvValue, VE_V8 } from "./value_codec.ts";
 * const { encoding, data } = toKvValue("hi");
 * assert.equal(encoding, VE_V8);
 * assert.equal(data[0], 0xff); // V8's version tag; then 0x10, its version
 * assert.equal(data.length, 6);
 * ```
 */
export function toKvValue(value: unknown): KvValue {
  return storedToKvValue(encodeValue(value));
}

/**
 * The value a KV Connect `(encoding, data)` pair stands for, as Deno's
 * client decodes it.
 *
 * @param encoding The `ValueEncoding` number.
 * @param data The encoded value; not kept.
 * @returns A fresh value (raw bytes are copied).
 * @throws As {@link kvValueToStored} and {@link decodeValue}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromKvValue, toKvValue } from "./value_codec.ts";
 * const { encoding, data } = toKvValue([1, "a"]);
 * assert.deepEqual(fromKvValue(encoding, data), [1, "a"]);
 * ```
 */
export function fromKvValue(encoding: number, data: Uint8Array): unknown {
  switch (encoding) {
    case VE_V8:
      return deserialize(kvValueToStored(VE_V8, data));
    case VE_BYTES:
      return data.slice();
  }
  return decodeValue(kvValueToStored(encoding, data));
}
