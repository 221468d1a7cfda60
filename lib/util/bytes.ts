/**
 * Byte helpers shared by every part of the engine: key order, UTF-8
 * conversion of user input, hex, and little-endian integers wider than 32
 * bits.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Compares two byte strings in unsigned byte-wise (memcmp) order; a proper
 * prefix sorts first. This is the one key order of the whole database.
 *
 * @param a First key.
 * @param b Second key.
 * @returns Negative when `a < b`, zero when equal, positive when `a > b`.
 *
 * @example Keys with 0x00 and 0xFF bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareBytes } from "./bytes.ts";
 * assert(compareBytes(new Uint8Array([0xff]), new Uint8Array([0x00, 1])) > 0);
 * assert(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])) < 0);
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Tells whether two byte strings are equal.
 *
 * @param a First byte string.
 * @param b Second byte string.
 * @returns `true` when both hold the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { equalBytes } from "./bytes.ts";
 * assert(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Length of the longest common prefix of two byte strings.
 *
 * @param a First byte string.
 * @param b Second byte string.
 * @returns The number of leading bytes both share.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commonPrefixLength, utf8 } from "./bytes.ts";
 * assert.equal(commonPrefixLength(utf8("user:17"), utf8("user:2")), 5);
 * ```
 */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Tells whether `key` starts with `prefix`.
 *
 * @param key The byte string to test.
 * @param prefix The prefix.
 * @returns `true` when the first `prefix.length` bytes of `key` equal `prefix`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasPrefix, utf8 } from "./bytes.ts";
 * assert(hasPrefix(utf8("user:1"), utf8("user:")));
 * ```
 */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (key[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * Returns the smallest byte string greater than every string that starts
 * with `prefix`, or `undefined` when there is none (the prefix is all 0xFF).
 * Scans use it to turn a prefix into an exclusive upper bound.
 *
 * @param prefix The prefix.
 * @returns The exclusive upper bound, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prefixSuccessor } from "./bytes.ts";
 * assert(prefixSuccessor(new Uint8Array([1, 0xff]))![0] === 2);
 * ```
 */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = prefix.slice(0, i + 1);
      out[i]!++;
      return out;
    }
  }
  return undefined;
}

/**
 * Encodes a string as UTF-8.
 *
 * @param text The string.
 * @returns A fresh byte array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8 } from "./bytes.ts";
 * assert(utf8("é").length === 2);
 * ```
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 bytes to a string (invalid sequences become U+FFFD).
 *
 * @param bytes The bytes.
 * @returns The decoded string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromUtf8, utf8 } from "./bytes.ts";
 * assert(fromUtf8(utf8("Ada")) === "Ada");
 * ```
 */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Formats bytes as lowercase hex.
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toHex } from "./bytes.ts";
 * assert(toHex(new Uint8Array([0, 255])) === "00ff");
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    out += bytes[i]!.toString(16).padStart(2, "0");
  }
  return out;
}

/**
 * Parses hex digits into bytes.
 *
 * @param hex An even number of hex digits (either case).
 * @returns The bytes, or `undefined` when `hex` is not valid hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromHex } from "./bytes.ts";
 * assert(fromHex("00ff")![1] === 255);
 * assert(fromHex("0g") === undefined);
 * ```
 */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/**
 * Writes a non-negative integer below 2^53 as a little-endian u64.
 *
 * @param view Where to write.
 * @param offset Byte offset in `view`.
 * @param value The integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readU64, writeU64 } from "./bytes.ts";
 * const view = new DataView(new ArrayBuffer(8));
 * writeU64(view, 0, 2 ** 40 + 7);
 * assert(readU64(view, 0) === 2 ** 40 + 7);
 * ```
 */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/**
 * Reads a little-endian u64 written by {@link writeU64}. Values of 2^53 or
 * more lose precision; callers that read untrusted bytes check the result
 * with `Number.isSafeInteger`.
 *
 * @param view Where to read.
 * @param offset Byte offset in `view`.
 * @returns The integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readU64 } from "./bytes.ts";
 * assert(readU64(new DataView(new ArrayBuffer(8)), 0) === 0);
 * ```
 */
export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) +
    view.getUint32(offset + 4, true) * 0x1_0000_0000;
}
