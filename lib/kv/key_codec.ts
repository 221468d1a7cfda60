/**
 * Deno KV's key encoding, byte for byte, and what Deno KV builds on it: key
 * validation with Deno KV's errors, list selectors and list cursors.
 *
 * A {@link Deno.KvKey} is an array of parts. Deno KV stores it as the
 * FoundationDB tuple encoding of those parts (limited to five types), and
 * orders keys by comparing those bytes (memcmp). Because Strata orders its
 * keys the same way, encoding a key with {@link encodeKey} is all it takes
 * to list entries in exactly the order Deno KV lists them. The parts follow
 * each other with nothing between them; each one is self-delimiting:
 *
 * ```
 * part          bytes                                       notes
 * ------------  ------------------------------------------  ----------------
 * Uint8Array    01 │ b0 b1 … │ 00                           each 00 in the
 * string        02 │ UTF-8   │ 00                           data → 00 FF
 * bigint 0      14
 * bigint > 0    14+n │ |v| big-endian, n bytes               n = 1…8
 *               1D   │ n │ |v| big-endian, n bytes           n = 9…255
 * bigint < 0    14-n │ ~|v| (each byte inverted), n bytes    n = 1…8
 *               0B   │ ~n │ ~|v|, n bytes                    n = 9…255
 * number        21 │ 8 bytes: IEEE 754 binary64, big-endian,
 *                    sign bit clear → flip the sign bit
 *                    sign bit set   → flip every bit
 * false         26
 * true          27
 *
 * ["user", 7n, true]  →  02 75 73 65 72 00 │ 15 07 │ 27
 * [-1.5]              →  21 40 07 FF FF FF FF FF FF      (BFF8… inverted)
 * [new Uint8Array([0, 1])] → 01 00 FF 01 00
 * ```
 *
 * The type tags order the types: `Uint8Array` < `string` < `bigint` <
 * `number` < `boolean`. (Deno's own documentation puts `number` before
 * `bigint`; Deno KV itself, like this encoding, puts every bigint first.)
 * Escaping 00 as 00 FF leaves a lone 00 to end a part, and that
 * terminator sorts below every byte that could continue it: `"a"` <
 * `"a\0"` < `"ab"`, and `["a"]` < `["a", x]` < `["ab"]`. Integers of more bytes sort beyond those of fewer; negative ones
 * are inverted so that larger magnitudes sort first. Flipping a float's
 * bits makes its byte order its numeric order: `-NaN` < `-Infinity` < … <
 * `-0` < `0` < … < `Infinity` < `NaN`, so `-0` and `0` are different keys.
 * Every NaN is first made the canonical quiet NaN of its sign (7FF8… or
 * FFF8…).
 *
 * Deno KV accepts as a byte part any `ArrayBufferView` (a `DataView`, an
 * `Int16Array`…), encoding the bytes it views; it reads such a part back as
 * a `Uint8Array`.
 *
 * A list cursor is the URL-safe base64, with `=` padding, of the encoded
 * key of the last entry returned, less the bytes every key of the selector
 * shares: the encoded prefix of a prefix selector, or the common prefix of
 * the encoded start and end of a range selector.
 *
 * @module
 */

import { InvalidArgumentError } from "../util/errors.ts";

/** Largest encoded key Deno KV writes (set, delete, check), in bytes. */
export const MAX_WRITE_KEY_SIZE_BYTES = 2048;

/**
 * Largest key Deno KV reads, in bytes: one more than it writes, because a
 * read range ends one byte past a key (00 for a `get`, FF for a prefix).
 */
export const MAX_READ_KEY_SIZE_BYTES = MAX_WRITE_KEY_SIZE_BYTES + 1;

/** Most bytes the magnitude of a bigint key part may take (a length byte). */
export const MAX_BIGINT_BYTES = 255;

const BYTES = 0x01;
const STRING = 0x02;
const NEG_INT_START = 0x0b;
const INT_ZERO = 0x14;
const POS_INT_END = 0x1d;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;
const ESCAPE = 0xff;

// Deno KV's messages, byte for byte: serde_v8's for a part of no key type,
// denokv's for a bigint beyond 255 bytes.
const PART_TYPE_MESSAGE =
  "expected string, number, bigint, ArrayBufferView, boolean";
const BIGINT_TOO_LARGE_MESSAGE =
  "BigUint requires more than 255 bytes to be represented";

// ---------------------------------------------------------------------------
// Encoding

// A fresh ArrayBuffer costs about 300 ns in Deno 2.9.6, a view of a slab
// about 25, and a key is encoded on every operation: encoded keys up to
// 1 KiB are carved from shared 8 KiB slabs, as the engine's results are.
const SLAB_BYTES = 8 * 1024;
const MAX_CARVED = 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

// Longer strings and byte strings go through TextEncoder and
// Uint8Array.prototype.set, whose calls cost more than a JavaScript loop
// over a short one but run faster per byte.
const SHORT_MAX = 64;
const textEncoder = new TextEncoder();
const f64 = new DataView(new ArrayBuffer(8));

/** Growable scratch space a key is encoded into before it is carved out. */
class KeyWriter {
  buf = new Uint8Array(256);
  pos = 0;
  busy = false;

  ensure(extra: number): Uint8Array {
    const need = this.pos + extra;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(0, this.pos));
      this.buf = grown;
    }
    return this.buf;
  }
}

const sharedWriter = new KeyWriter();
// A scratch buffer grown past this by one huge key is not kept.
const MAX_KEPT_SCRATCH = 64 * 1024;

/**
 * Encodes a key as Deno KV does, so that byte-wise order of the results is
 * Deno KV's key order.
 *
 * The key is validated as Deno KV validates it: a key that is not an array
 * or a part that is not a `Uint8Array` (or other `ArrayBufferView`),
 * `string`, `number`, `bigint` or `boolean` is a `TypeError` with Deno KV's
 * message. Sizes are not checked here: see {@link checkWriteKey} and
 * {@link checkReadKeySize}. The empty key encodes to no bytes.
 *
 * The result is the caller's, but a short one is a view of a shared slab:
 * its `.buffer` is larger than itself.
 *
 * @param key The key.
 * @returns Its encoding.
 * @throws {TypeError} When the key is not an array, a part has no key type,
 *   or a bigint part needs more than {@link MAX_BIGINT_BYTES} bytes.
 *
 * @example Encode a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeKey } from "./key_codec.ts";
 * assert.deepEqual(
 *   encodeKey(["user", 7n, true]),
 *   new Uint8Array([0x02, 0x75, 0x73, 0x65, 0x72, 0x00, 0x15, 0x07, 0x27]),
 * );
 * assert.throws(
 *   () => encodeKey([null as unknown as string]),
 *   TypeError,
 * );
 * ```
 */
export function encodeKey(key: Deno.KvKey): Uint8Array {
  if (!Array.isArray(key)) throw notAnArray(key);
  // Reading a part may run a getter that encodes a key of its own.
  const w = sharedWriter.busy ? new KeyWriter() : sharedWriter;
  w.busy = true;
  w.pos = 0;
  try {
    const n = key.length;
    for (let i = 0; i < n; i++) writePart(w, key[i]);
    return carve(w.buf, w.pos);
  } finally {
    w.busy = false;
    if (w.buf.length > MAX_KEPT_SCRATCH) w.buf = new Uint8Array(256);
  }
}

function carve(src: Uint8Array, n: number): Uint8Array {
  if (n > MAX_CARVED) return src.slice(0, n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += (n + 7) & ~7;
  const out = slab;
  if (n > SHORT_MAX) out.set(src.subarray(0, n), at);
  else for (let i = 0; i < n; i++) out[at + i] = src[i]!;
  return out.subarray(at, at + n);
}

function writePart(w: KeyWriter, part: unknown): void {
  switch (typeof part) {
    case "string":
      writeString(w, part);
      return;
    case "number":
      writeNumber(w, part);
      return;
    case "bigint":
      writeBigInt(w, part);
      return;
    case "boolean": {
      const buf = w.ensure(1);
      buf[w.pos++] = part ? TRUE : FALSE;
      return;
    }
    case "object":
      if (ArrayBuffer.isView(part)) {
        writeBytes(
          w,
          part instanceof Uint8Array
            ? part
            : new Uint8Array(part.buffer, part.byteOffset, part.byteLength),
        );
        return;
      }
  }
  throw new TypeError(PART_TYPE_MESSAGE);
}

function writeBytes(w: KeyWriter, data: Uint8Array): void {
  const n = data.length;
  const buf = w.ensure(2 * n + 2);
  let p = w.pos;
  buf[p++] = BYTES;
  if (n > SHORT_MAX && data.indexOf(0) < 0) {
    buf.set(data, p);
    p += n;
  } else {
    for (let i = 0; i < n; i++) {
      const b = data[i]!;
      buf[p++] = b;
      if (b === 0) buf[p++] = ESCAPE;
    }
  }
  buf[p++] = 0;
  w.pos = p;
}

function writeString(w: KeyWriter, s: string): void {
  const n = s.length;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes; U+0000 takes 2 escaped.
  const buf = w.ensure(3 * n + 2);
  let p = w.pos;
  buf[p++] = STRING;
  if (n > SHORT_MAX) {
    p = writeLongString(buf, p, s);
  } else {
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
        if (c === 0) buf[p++] = ESCAPE;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
        } else {
          // A lone surrogate reaches Deno KV as U+FFFD, as TextEncoder does.
          buf[p++] = 0xef;
          buf[p++] = 0xbf;
          buf[p++] = 0xbd;
        }
      }
    }
  }
  buf[p++] = 0;
  w.pos = p;
}

function writeLongString(buf: Uint8Array, p: number, s: string): number {
  const written = textEncoder.encodeInto(s, buf.subarray(p)).written;
  let zeros = 0;
  for (let i = s.indexOf("\0"); i >= 0; i = s.indexOf("\0", i + 1)) zeros++;
  if (zeros === 0) return p + written;
  // Spread the bytes right, back to front, to make room for the escapes.
  let src = p + written;
  let dst = src + zeros;
  const end = dst;
  while (src > p) {
    const b = buf[--src]!;
    if (b === 0) buf[--dst] = ESCAPE;
    buf[--dst] = b;
  }
  return end;
}

function writeNumber(w: KeyWriter, x: number): void {
  f64.setFloat64(0, x);
  let hi = f64.getUint32(0);
  let lo = f64.getUint32(4);
  if (x !== x) {
    // denokv canonicalizes NaN but keeps its sign: a NaN whose sign bit is
    // set (V8 keeps one in a mixed array) sorts before -Infinity.
    hi = hi & 0x80000000 ? 0xfff80000 : 0x7ff80000;
    lo = 0;
  }
  if (hi & 0x80000000) {
    hi = ~hi;
    lo = ~lo;
  } else {
    hi ^= 0x80000000;
  }
  const buf = w.ensure(9);
  let p = w.pos;
  buf[p++] = DOUBLE;
  buf[p++] = hi >>> 24;
  buf[p++] = hi >>> 16;
  buf[p++] = hi >>> 8;
  buf[p++] = hi;
  buf[p++] = lo >>> 24;
  buf[p++] = lo >>> 16;
  buf[p++] = lo >>> 8;
  buf[p++] = lo;
  w.pos = p;
}

const TWO_32 = 4294967296;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_64_BIG = 1n << 64n;

function byteLength32(u: number): number {
  return u < 0x100 ? 1 : u < 0x10000 ? 2 : u < 0x1000000 ? 3 : 4;
}

function writeBigInt(w: KeyWriter, v: bigint): void {
  if (v === 0n) {
    const buf = w.ensure(1);
    buf[w.pos++] = INT_ZERO;
    return;
  }
  const neg = v < 0n;
  const abs = neg ? -v : v;
  if (abs >= TWO_64_BIG) {
    writeHugeBigInt(w, abs, neg);
    return;
  }
  let hi: number;
  let lo: number;
  if (abs <= MAX_SAFE_BIG) {
    const x = Number(abs);
    hi = Math.floor(x / TWO_32);
    lo = x >>> 0;
  } else {
    hi = Number(abs >> 32n);
    lo = Number(abs & 0xffffffffn);
  }
  const n = hi === 0 ? byteLength32(lo) : 4 + byteLength32(hi);
  const flip = neg ? 0xff : 0;
  const buf = w.ensure(n + 1);
  let p = w.pos;
  buf[p++] = neg ? INT_ZERO - n : INT_ZERO + n;
  for (let i = n - 1; i >= 4; i--) {
    buf[p++] = ((hi >>> (8 * (i - 4))) & 0xff) ^ flip;
  }
  for (let i = n < 4 ? n - 1 : 3; i >= 0; i--) {
    buf[p++] = ((lo >>> (8 * i)) & 0xff) ^ flip;
  }
  w.pos = p;
}

function writeHugeBigInt(w: KeyWriter, abs: bigint, neg: boolean): void {
  let hex = abs.toString(16);
  if (hex.length & 1) hex = "0" + hex;
  const n = hex.length >> 1;
  if (n > MAX_BIGINT_BYTES) throw new TypeError(BIGINT_TOO_LARGE_MESSAGE);
  const flip = neg ? 0xff : 0;
  const buf = w.ensure(n + 2);
  let p = w.pos;
  buf[p++] = neg ? NEG_INT_START : POS_INT_END;
  buf[p++] = n ^ flip;
  for (let i = 0; i < n; i++) {
    buf[p++] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) ^ flip;
  }
  w.pos = p;
}

/**
 * Checks that a value is a key Deno KV accepts, without encoding it: an
 * array whose parts are `Uint8Array`s (or other `ArrayBufferView`s),
 * strings, numbers, bigints or booleans. This is the check Deno KV makes on
 * every key of an operation before it looks at any of them further, so a
 * caller that must report errors in Deno KV's order can run it first;
 * {@link encodeKey} makes the same checks.
 *
 * @param key The value to check.
 * @throws {TypeError} With Deno KV's message, when `key` is no key.
 *
 * @example Deno KV's messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertKeyType } from "./key_codec.ts";
 * assertKeyType(["ok", 1, 1n, true, new Uint8Array()]);
 * assert.throws(() => assertKeyType("users"), {
 *   name: "TypeError",
 *   message: "serde_v8 error: invalid type; expected: array, got: string",
 * });
 * assert.throws(() => assertKeyType([{}]), {
 *   name: "TypeError",
 *   message: "expected string, number, bigint, ArrayBufferView, boolean",
 * });
 * ```
 */
export function assertKeyType(key: unknown): asserts key is Deno.KvKey {
  if (!Array.isArray(key)) throw notAnArray(key);
  const n = key.length;
  for (let i = 0; i < n; i++) {
    const part: unknown = key[i];
    const t = typeof part;
    if (
      t !== "string" && t !== "number" && t !== "bigint" &&
      t !== "boolean" && !ArrayBuffer.isView(part)
    ) {
      throw new TypeError(PART_TYPE_MESSAGE);
    }
  }
}

function notAnArray(value: unknown): TypeError {
  return new TypeError(
    `serde_v8 error: invalid type; expected: array, got: ${typeRepr(value)}`,
  );
}

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;
const TYPED_ARRAY_NAMES = new Set([
  "BigUint64Array",
  "BigInt64Array",
  "Float64Array",
  "Float32Array",
  "Int32Array",
  "Uint32Array",
  "Int16Array",
  "Uint16Array",
  "Int8Array",
  "Uint8ClampedArray",
  "Uint8Array",
]);

const SET_ITERATOR_PROTOTYPE = Object.getPrototypeOf(new Set().values());
const MAP_ITERATOR_PROTOTYPE = Object.getPrototypeOf(new Map().values());

function brand(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

function getter(proto: object, name: string): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(proto, name)!.get!;
}

/**
 * V8's `Value::TypeRepr`, which serde_v8 names a value by, as near as a
 * script can see: V8 brands are tested where a script can test them, and a
 * Proxy, which no script can tell, is named as its target.
 */
function typeRepr(v: unknown): string {
  switch (typeof v) {
    case "number":
      return "Number";
    case "boolean":
      return "Boolean";
    case "bigint":
      return "bigint";
    case "symbol":
      return "symbol";
    case "string":
      return "string";
    case "undefined":
      return "undefined";
    case "function": {
      const tag = Object.prototype.toString.call(v);
      if (tag.endsWith("GeneratorFunction]")) return "Generator function";
      if (tag === "[object AsyncFunction]") return "Async function";
      return "function";
    }
  }
  if (v === null) return "null";
  const o = v as object;
  const tag = Object.prototype.toString.call(o);
  if (
    tag === "[object Module]" && Object.getPrototypeOf(o) === null &&
    !Object.isExtensible(o)
  ) {
    return "Module";
  }
  if (brand(() => getter(SharedArrayBuffer.prototype, "byteLength").call(o))) {
    return "SharedArrayBuffer";
  }
  if (ArrayBuffer.isView(o)) {
    const name = typedArrayTag.call(o) as string | undefined;
    if (name === undefined) return "DataView";
    return TYPED_ARRAY_NAMES.has(name) ? name : "TypedArray";
  }
  if (brand(() => getter(ArrayBuffer.prototype, "byteLength").call(o))) {
    return "ArrayBuffer";
  }
  if (brand(() => WeakSet.prototype.has.call(o, o))) return "WeakSet";
  if (brand(() => WeakMap.prototype.has.call(o, o))) return "WeakMap";
  const proto = Object.getPrototypeOf(o);
  if (proto === SET_ITERATOR_PROTOTYPE) return "Set Iterator";
  if (proto === MAP_ITERATOR_PROTOTYPE) return "Map Iterator";
  if (brand(() => getter(Set.prototype, "size").call(o))) return "Set";
  if (brand(() => getter(Map.prototype, "size").call(o))) return "Map";
  if (tag === "[object Promise]" && o instanceof Promise) return "Promise";
  if (brand(() => getter(RegExp.prototype, "source").call(o))) return "RegExp";
  if (brand(() => Date.prototype.getTime.call(o))) return "Date";
  if (Array.isArray(o)) return "array";
  return "unknown";
}

// ---------------------------------------------------------------------------
// Decoding

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// Below this many ASCII bytes, string concatenation beats a native call.
const CONCAT_MAX = 24;
const APPLY_MAX = 2048;

function malformed(at: number, reason: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `Malformed Deno KV key at byte ${at}: ${reason}`,
  );
}

/**
 * Decodes a key encoded by {@link encodeKey} (or by Deno KV). Byte parts
 * come back as `Uint8Array`s with buffers of their own, every NaN as the
 * canonical `NaN` (Deno KV hands out no other), `-0` as `-0`.
 *
 * @param bytes The encoded key.
 * @returns The key.
 * @throws {InvalidArgumentError} When the bytes are no encoded key: an
 *   unknown type tag, a part cut short, or a string that is not UTF-8.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeKey, encodeKey } from "./key_codec.ts";
 * const key = ["a\0b", -0, 2n ** 70n, new Uint8Array([0, 255]), false];
 * assert.deepEqual(decodeKey(encodeKey(key)), key);
 * assert.throws(() => decodeKey(new Uint8Array([0x02, 0x61])));
 * ```
 */
export function decodeKey(bytes: Uint8Array): Deno.KvKey {
  const parts: Deno.KvKeyPart[] = [];
  const n = bytes.length;
  let p = 0;
  while (p < n) {
    const at = p;
    const tag = bytes[p++]!;
    if (tag === STRING || tag === BYTES) {
      const start = p;
      let escapes = 0;
      let ascii = true;
      for (;;) {
        if (p >= n) throw malformed(at, "unterminated byte string");
        const b = bytes[p]!;
        if (b === 0) {
          if (bytes[p + 1] !== ESCAPE) break;
          escapes++;
          p += 2;
          continue;
        }
        if (b >= 0x80) ascii = false;
        p++;
      }
      const end = p++;
      parts.push(
        tag === STRING
          ? decodeString(bytes, start, end, escapes, ascii, at)
          : unescape(bytes, start, end, escapes),
      );
    } else if (tag >= NEG_INT_START && tag <= POS_INT_END) {
      let len: number;
      let neg: boolean;
      if (tag === NEG_INT_START || tag === POS_INT_END) {
        if (p >= n) throw malformed(at, "bigint length missing");
        neg = tag === NEG_INT_START;
        len = neg ? bytes[p++]! ^ 0xff : bytes[p++]!;
      } else {
        neg = tag < INT_ZERO;
        len = neg ? INT_ZERO - tag : tag - INT_ZERO;
      }
      if (p + len > n) throw malformed(at, "bigint cut short");
      parts.push(readBigInt(bytes, p, len, neg));
      p += len;
    } else if (tag === DOUBLE) {
      if (p + 8 > n) throw malformed(at, "number cut short");
      parts.push(readNumber(bytes, p));
      p += 8;
    } else if (tag === FALSE) {
      parts.push(false);
    } else if (tag === TRUE) {
      parts.push(true);
    } else {
      throw malformed(at, `unknown type tag 0x${tag.toString(16)}`);
    }
  }
  return parts;
}

function unescape(
  bytes: Uint8Array,
  start: number,
  end: number,
  escapes: number,
): Uint8Array {
  const out = new Uint8Array(end - start - escapes);
  if (escapes === 0) {
    out.set(bytes.subarray(start, end));
    return out;
  }
  let q = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    out[q++] = b;
    if (b === 0) i++;
  }
  return out;
}

function decodeString(
  bytes: Uint8Array,
  start: number,
  end: number,
  escapes: number,
  ascii: boolean,
  at: number,
): string {
  const len = end - start;
  if (ascii) {
    if (len <= CONCAT_MAX || escapes !== 0) {
      let s = "";
      for (let i = start; i < end; i++) {
        const b = bytes[i]!;
        s += String.fromCharCode(b);
        if (b === 0) i++;
      }
      return s;
    }
    if (len <= APPLY_MAX) {
      return String.fromCharCode.apply(
        null,
        bytes.subarray(start, end) as unknown as number[],
      );
    }
  }
  if (len <= SHORT_MAX) {
    const s = decodeShortUtf8(bytes, start, end);
    if (s !== undefined) return s;
  }
  const data = escapes === 0
    ? bytes.subarray(start, end)
    : unescape(bytes, start, end, escapes);
  try {
    return textDecoder.decode(data);
  } catch {
    throw malformed(at, "string is not UTF-8");
  }
}

/**
 * Decodes well-formed UTF-8 (with 00 FF escapes) in script, which beats
 * TextDecoder's call on a short string; anything ill-formed is left to
 * TextDecoder (`undefined`), which rejects it.
 */
function decodeShortUtf8(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  let s = "";
  for (let i = start; i < end;) {
    const b = bytes[i]!;
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i += b === 0 ? 2 : 1;
      continue;
    }
    // The bounds of the second byte exclude overlong forms, surrogates and
    // code points past U+10FFFF.
    let lo = 0x80;
    let hi = 0xbf;
    let n: number;
    let c: number;
    if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
      c = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      c = b & 0x0f;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      c = b & 0x07;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else {
      return undefined;
    }
    if (i + n >= end) return undefined;
    for (let k = 1; k <= n; k++) {
      const t = bytes[i + k]!;
      if (t < lo || t > hi) return undefined;
      lo = 0x80;
      hi = 0xbf;
      c = (c << 6) | (t & 0x3f);
    }
    s += String.fromCodePoint(c);
    i += n + 1;
  }
  return s;
}

function readNumber(bytes: Uint8Array, p: number): number {
  let hi = (bytes[p]! << 24 | bytes[p + 1]! << 16 | bytes[p + 2]! << 8 |
    bytes[p + 3]!) >>> 0;
  let lo = (bytes[p + 4]! << 24 | bytes[p + 5]! << 16 | bytes[p + 6]! << 8 |
    bytes[p + 7]!) >>> 0;
  if (hi & 0x80000000) {
    hi ^= 0x80000000;
  } else {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  }
  f64.setUint32(0, hi);
  f64.setUint32(4, lo);
  const x = f64.getFloat64(0);
  return x === x ? x : NaN;
}

function readBigInt(
  bytes: Uint8Array,
  p: number,
  len: number,
  neg: boolean,
): bigint {
  const flip = neg ? 0xff : 0;
  if (len <= 6) {
    let x = 0;
    for (let i = 0; i < len; i++) x = x * 256 + (bytes[p + i]! ^ flip);
    return BigInt(neg ? -x : x);
  }
  let v: bigint;
  if (len <= 8) {
    let hi = 0;
    for (let i = 0; i < len - 4; i++) hi = hi * 256 + (bytes[p + i]! ^ flip);
    let lo = 0;
    for (let i = len - 4; i < len; i++) lo = lo * 256 + (bytes[p + i]! ^ flip);
    v = (BigInt(hi) << 32n) | BigInt(lo);
  } else {
    let hex = "0x";
    for (let i = 0; i < len; i++) {
      const b = bytes[p + i]! ^ flip;
      hex += (b < 16 ? "0" : "") + b.toString(16);
    }
    v = BigInt(hex);
  }
  return neg ? -v : v;
}

// ---------------------------------------------------------------------------
// Limits

/**
 * Checks an encoded key that Deno KV would write: the key of a `set`,
 * `delete`, mutation or check. Deno KV refuses the empty key there (and
 * only there) and keys over {@link MAX_WRITE_KEY_SIZE_BYTES}.
 *
 * @param byteLength Length of the encoded key.
 * @param maxBytes The limit; Deno KV's by default.
 * @throws {TypeError} `key cannot be empty`, or
 *   `Key too large for write (max 2048 bytes)`.
 *
 * @example The empty key is not written
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkWriteKey, encodeKey } from "./key_codec.ts";
 * checkWriteKey(encodeKey(["users", 1n]).length);
 * assert.throws(() => checkWriteKey(encodeKey([]).length), {
 *   name: "TypeError",
 *   message: "key cannot be empty",
 * });
 * ```
 */
export function checkWriteKey(
  byteLength: number,
  maxBytes: number = MAX_WRITE_KEY_SIZE_BYTES,
): void {
  if (byteLength === 0) throw new TypeError("key cannot be empty");
  if (byteLength > maxBytes) {
    throw new TypeError(`Key too large for write (max ${maxBytes} bytes)`);
  }
}

/**
 * Checks the length of a key Deno KV would read with. Deno KV checks both
 * ends of every read range: for a `get` of a key that is the key plus one
 * byte, so pass `encoded.length + 1` there (which is why a key of 2049
 * bytes can be watched but not read); for a `watch`, the key itself; for a
 * `list`, the bounds from {@link selectorRange}, which checks them itself.
 *
 * @param byteLength Length of the key or bound.
 * @param maxBytes The limit; Deno KV's by default.
 * @throws {TypeError} `Key too large for read (max 2049 bytes)`.
 *
 * @example A get's range end is one byte past the key
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkReadKeySize, encodeKey } from "./key_codec.ts";
 * const key = encodeKey([new Uint8Array(2047).fill(1)]); // 2049 bytes
 * checkReadKeySize(key.length); // watch: fine
 * assert.throws(() => checkReadKeySize(key.length + 1), {
 *   name: "TypeError",
 *   message: "Key too large for read (max 2049 bytes)",
 * });
 * ```
 */
export function checkReadKeySize(
  byteLength: number,
  maxBytes: number = MAX_READ_KEY_SIZE_BYTES,
): void {
  if (byteLength > maxBytes) {
    throw new TypeError(`Key too large for read (max ${maxBytes} bytes)`);
  }
}

// ---------------------------------------------------------------------------
// Selectors and cursors

/** The keys of a list selector, as Deno KV's `list` passes them on. */
export interface SelectorKeys {
  /** The prefix, or `null` for a range selector. */
  readonly prefix: Deno.KvKey | null;
  /** The first key (inclusive), or `null`. */
  readonly start: Deno.KvKey | null;
  /** The end key (exclusive), or `null`. */
  readonly end: Deno.KvKey | null;
}

/**
 * A list selector encoded (Deno KV's `RawSelector`): a prefix selector has
 * `prefix` and at most one of `start`, `end`; a range selector has both
 * `start` and `end` and no `prefix`.
 */
export interface KvSelector {
  /** The encoded prefix, or `null` for a range selector. */
  readonly prefix: Uint8Array | null;
  /** The encoded start key (inclusive), or `null`. */
  readonly start: Uint8Array | null;
  /** The encoded end key (exclusive), or `null`. */
  readonly end: Uint8Array | null;
  /** Bytes every selected key begins with; cursors leave them out. */
  readonly commonPrefix: Uint8Array;
}

/**
 * Validates the shape of a list selector and copies its keys, as
 * `Deno.Kv.prototype.list` does before it returns its iterator: a
 * property counts when it is an own property that is not `undefined`, and
 * each key is copied with `Array.prototype.slice` (so an array-like such as
 * a string is taken as an array of its elements). The key types are not
 * checked here; Deno KV checks them when the first batch is read (see
 * {@link encodeSelector}).
 *
 * @param selector The selector given to `list`.
 * @returns Its keys, each a frozen copy, `null` where absent.
 * @throws {TypeError} With Deno KV's message for a selector with a prefix
 *   and both ends, or with no prefix and not both ends.
 *
 * @example Prefix with a start; a start without an end
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeSelector } from "./key_codec.ts";
 * assert.deepEqual(normalizeSelector({ prefix: ["a"], start: ["a", 1] }), {
 *   prefix: ["a"],
 *   start: ["a", 1],
 *   end: null,
 * });
 * assert.throws(
 *   () => normalizeSelector({ start: ["a"] } as unknown as Deno.KvListSelector),
 *   TypeError,
 * );
 * ```
 */
export function normalizeSelector(selector: Deno.KvListSelector): SelectorKeys {
  const prefix = selectorKey(selector, "prefix");
  const start = selectorKey(selector, "start");
  const end = selectorKey(selector, "end");
  if (prefix !== null) {
    if (start !== null && end !== null) {
      throw new TypeError(
        "Selector can not specify both 'start' and 'end' key when specifying 'prefix'",
      );
    }
  } else if (start === null || end === null) {
    throw new TypeError(
      "Selector must specify either 'prefix' or both 'start' and 'end' key",
    );
  }
  return { prefix, start, end };
}

function selectorKey(
  selector: Deno.KvListSelector,
  name: "prefix" | "start" | "end",
): Deno.KvKey | null {
  if (!Object.hasOwn(selector, name)) return null;
  const key = (selector as Record<string, unknown>)[name];
  if (key === undefined) return null;
  return Object.freeze(
    Array.prototype.slice.call(key as ArrayLike<Deno.KvKeyPart>),
  );
}

/**
 * Encodes a selector's keys and checks them as Deno KV does when a list
 * reads its first batch. A selector with only `start` is the range from
 * that key to the key plus a 00 byte, which selects the key alone: that is
 * how Deno KV's `get` reads.
 *
 * @param keys The selector's keys, from {@link normalizeSelector}.
 * @returns The encoded selector.
 * @throws {TypeError} Deno KV's errors: those of {@link encodeKey}; `Start
 *   key is not in the keyspace defined by prefix` (and `End key …`) when an
 *   end does not extend the prefix; `Start key is greater than end key`;
 *   `Invalid range` for no prefix and no start.
 *
 * @example The range a get reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSelector, selectorRange } from "./key_codec.ts";
 * const sel = encodeSelector({ prefix: null, start: [true], end: null });
 * const { start, end } = selectorRange(sel, false, undefined);
 * assert.deepEqual([start, end], [
 *   new Uint8Array([0x27]),
 *   new Uint8Array([0x27, 0x00]),
 * ]);
 * ```
 */
export function encodeSelector(keys: SelectorKeys): KvSelector {
  const prefix = keys.prefix === null ? null : encodeKey(keys.prefix);
  const start = keys.start === null ? null : encodeKey(keys.start);
  let end = keys.end === null ? null : encodeKey(keys.end);
  if (prefix !== null) {
    if (start !== null && end !== null) throw new TypeError("Invalid range");
    if (start !== null && !extendsPrefix(start, prefix)) {
      throw new TypeError("Start key is not in the keyspace defined by prefix");
    }
    if (end !== null && !extendsPrefix(end, prefix)) {
      throw new TypeError("End key is not in the keyspace defined by prefix");
    }
    return { prefix, start, end, commonPrefix: prefix };
  }
  if (start === null) throw new TypeError("Invalid range");
  if (end === null) {
    end = concat(start, null, 0x00);
  } else if (compare(start, end) > 0) {
    throw new TypeError("Start key is greater than end key");
  }
  let i = 0;
  while (i < start.length && i < end.length && start[i] === end[i]) i++;
  return { prefix: null, start, end, commonPrefix: start.subarray(0, i) };
}

function extendsPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length <= prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (key[i] !== prefix[i]) return false;
  }
  return true;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function concat(
  a: Uint8Array,
  b: Uint8Array | null,
  last: number | null,
): Uint8Array {
  const bn = b === null ? 0 : b.length;
  const out = new Uint8Array(a.length + bn + (last === null ? 0 : 1));
  out.set(a);
  if (b !== null) out.set(b, a.length);
  if (last !== null) out[a.length + bn] = last;
  return out;
}

/**
 * The byte range a list reads, from the start (inclusive) to the end
 * (exclusive), as Deno KV computes it: without a cursor, the selector's
 * range (a prefix selector lacking an end runs from prefix‖00 to
 * prefix‖FF); with one, the part of it past the cursor's key in the
 * direction of the listing. The range may be empty or inverted, which
 * selects nothing. An empty cursor is a cursor, as in Deno KV's read op:
 * the one of an entry whose key is the common prefix itself (a range whose
 * start is a prefix of its end), so the next batch starts after it. (A
 * `cursor: ""` option of `list` counts as none; `list` drops it.)
 *
 * @param selector The encoded selector.
 * @param reverse Whether the list runs backwards.
 * @param cursor The `cursor` option, if any.
 * @param maxReadKeyBytes The read key limit; Deno KV's by default.
 * @returns The range to scan.
 * @throws {TypeError} Deno KV's `invalid cursor` (see {@link decodeCursor}),
 *   `cursor out of bounds` when the cursor leads before the selector's
 *   start or past its end, and `Key too large for read (max 2049 bytes)`
 *   for a bound over the read limit.
 *
 * @example Resume a prefix listing after ["a", "b"]
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeKey, encodeSelector, selectorRange } from "./key_codec.ts";
 * const sel = encodeSelector({ prefix: ["a"], start: null, end: null });
 * const { start, end } = selectorRange(sel, false, "AmIA");
 * assert.deepEqual(start, new Uint8Array([...encodeKey(["a", "b"]), 0]));
 * assert.deepEqual(end, new Uint8Array([...encodeKey(["a"]), 0xff]));
 * ```
 */
export function selectorRange(
  selector: KvSelector,
  reverse: boolean,
  cursor: string | undefined,
  maxReadKeyBytes: number = MAX_READ_KEY_SIZE_BYTES,
): { start: Uint8Array; end: Uint8Array } {
  const { prefix, commonPrefix } = selector;
  let start: Uint8Array;
  let end: Uint8Array;
  if (cursor === undefined) {
    start = selector.start ?? concat(prefix!, null, 0x00);
    end = selector.end ?? concat(prefix!, null, 0xff);
  } else {
    const after = decodeCursor(cursor);
    if (reverse) {
      start = selector.start ?? concat(prefix!, null, 0x00);
      end = concat(commonPrefix, after, null);
    } else {
      start = concat(commonPrefix, after, 0x00);
      end = selector.end ?? concat(prefix!, null, 0xff);
    }
    if (selector.start !== null && compare(start, selector.start) < 0) {
      throw new TypeError("cursor out of bounds");
    }
    if (selector.end !== null && compare(end, selector.end) > 0) {
      throw new TypeError("cursor out of bounds");
    }
  }
  checkReadKeySize(start.length, maxReadKeyBytes);
  checkReadKeySize(end.length, maxReadKeyBytes);
  return { start, end };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/**
 * The cursor Deno KV gives for an entry of a list: the URL-safe base64,
 * with padding, of the entry's encoded key less the selector's common
 * prefix. Deno KV encodes the cursor from the key it hands out, in which a
 * NaN has lost its sign, so here a negative NaN part is written as `NaN`
 * too, and the cursor is Deno KV's even for such a key.
 *
 * @param selector The encoded selector of the list.
 * @param boundaryKey The encoded key of the entry.
 * @returns The cursor.
 * @throws {TypeError} `Invalid boundary key` when the key lacks the
 *   selector's common prefix.
 *
 * @example Cursors under a prefix
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCursor, encodeKey, encodeSelector } from "./key_codec.ts";
 * const sel = encodeSelector({ prefix: ["a"], start: null, end: null });
 * assert.equal(encodeCursor(sel, encodeKey(["a", "b"])), "AmIA");
 * assert.equal(encodeCursor(sel, encodeKey(["a", true])), "Jw==");
 * ```
 */
export function encodeCursor(
  selector: KvSelector,
  boundaryKey: Uint8Array,
): string {
  const prefix = selector.commonPrefix;
  if (boundaryKey.length < prefix.length) {
    throw new TypeError("Invalid boundary key");
  }
  for (let i = 0; i < prefix.length; i++) {
    if (boundaryKey[i] !== prefix[i]) {
      throw new TypeError("Invalid boundary key");
    }
  }
  return base64Url(positiveNaNs(boundaryKey), prefix.length);
}

// The encoding of a NaN with its sign bit set: FFF8 0000 0000 0000 inverted.
const NEG_NAN = [0x00, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

function positiveNaNs(key: Uint8Array): Uint8Array {
  let out = key;
  const n = key.length;
  let p = 0;
  while (p < n) {
    const tag = key[p++]!;
    if (tag === STRING || tag === BYTES) {
      while (p < n && !(key[p] === 0 && key[p + 1] !== ESCAPE)) {
        p += key[p] === 0 ? 2 : 1;
      }
      p++;
    } else if (tag === NEG_INT_START || tag === POS_INT_END) {
      p += 1 + (tag === NEG_INT_START ? key[p]! ^ 0xff : key[p]!);
    } else if (tag > NEG_INT_START && tag < POS_INT_END) {
      p += Math.abs(tag - INT_ZERO);
    } else if (tag === DOUBLE) {
      let negNaN = p + 8 <= n;
      for (let i = 0; negNaN && i < 8; i++) negNaN = key[p + i] === NEG_NAN[i];
      if (negNaN) {
        if (out === key) out = key.slice();
        out[p] = 0xff;
        out[p + 1] = 0xf8;
        for (let i = 2; i < 8; i++) out[p + i] = 0;
      }
      p += 8;
    } else if (tag !== FALSE && tag !== TRUE) {
      break; // not a key: left as it is
    }
  }
  return out;
}

function base64Url(bytes: Uint8Array, from: number): string {
  let s = "";
  const n = bytes.length;
  let i = from;
  for (; i + 2 < n; i += 3) {
    const v = bytes[i]! << 16 | bytes[i + 1]! << 8 | bytes[i + 2]!;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! +
      B64[v & 63]!;
  }
  if (i + 1 === n) {
    const v = bytes[i]! << 16;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + "==";
  } else if (i + 2 === n) {
    const v = bytes[i]! << 16 | bytes[i + 1]! << 8;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + "=";
  }
  return s;
}

/**
 * Decodes a list cursor to the key bytes it stands for (after the
 * selector's common prefix), as strictly as Deno KV: URL-safe base64 with
 * canonical `=` padding, no whitespace, no `+` or `/`, and no stray bits
 * in the last character.
 *
 * @param cursor The cursor.
 * @returns Its bytes.
 * @throws {TypeError} `invalid cursor`, Deno KV's message.
 *
 * @example Padding is required
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCursor } from "./key_codec.ts";
 * assert.deepEqual(decodeCursor("Jw=="), new Uint8Array([0x27]));
 * assert.throws(() => decodeCursor("Jw"), {
 *   name: "TypeError",
 *   message: "invalid cursor",
 * });
 * ```
 */
export function decodeCursor(cursor: string): Uint8Array {
  const len = cursor.length;
  if (len % 4 !== 0) throw new TypeError("invalid cursor");
  let pad = 0;
  if (len > 0 && cursor.charCodeAt(len - 1) === 0x3d) {
    pad = cursor.charCodeAt(len - 2) === 0x3d ? 2 : 1;
  }
  const out = new Uint8Array((len / 4) * 3 - pad);
  let q = 0;
  for (let i = 0; i < len; i += 4) {
    const last = i + 4 === len;
    const c0 = sextet(cursor, i);
    const c1 = sextet(cursor, i + 1);
    const c2 = last && pad === 2 ? 0 : sextet(cursor, i + 2);
    const c3 = last && pad >= 1 ? 0 : sextet(cursor, i + 3);
    const v = c0 << 18 | c1 << 12 | c2 << 6 | c3;
    out[q++] = v >> 16;
    if (q < out.length) out[q++] = (v >> 8) & 0xff;
    if (q < out.length) out[q++] = v & 0xff;
    if (last && (pad === 2 ? v & 0xffff : pad === 1 ? v & 0xff : 0)) {
      throw new TypeError("invalid cursor");
    }
  }
  return out;
}

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  const v = c < 128 ? B64_INDEX[c]! : -1;
  if (v < 0) throw new TypeError("invalid cursor");
  return v;
}
