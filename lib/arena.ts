/**
 * A bump allocator for the small byte strings every write copies (keys and
 * values on their way into the memtable). Allocating one `ArrayBuffer` per
 * copy made copying the top cost of a put, in allocation and in garbage
 * collection; carving copies out of shared 256 KiB slabs makes it a
 * `set()`. A slab is freed by the garbage collector once no copy in it is
 * referenced, which for the memtable means once it has been flushed.
 *
 * @module
 */

const SLAB_BYTES = 256 * 1024;
/** Larger inputs get their own buffer: they would waste a slab's tail. */
const MAX_CARVED = 4096;

const encoder = new TextEncoder();
let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

function reserve(n: number): number {
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const at = used;
  // Keep copies 8-byte aligned: cheaper for typed-array views on them.
  used += (n + 7) & ~7;
  return at;
}

/**
 * Returns a private copy of `bytes`.
 *
 * @param bytes The bytes to copy.
 * @returns A copy the caller's later mutations cannot reach.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyBytes } from "./arena.ts";
 * const src = new Uint8Array([1, 2, 3]);
 * const copy = copyBytes(src);
 * src[0] = 9;
 * assert.deepEqual(copy, new Uint8Array([1, 2, 3]));
 * ```
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > MAX_CARVED) return bytes.slice();
  const at = reserve(n);
  const out = slab.subarray(at, at + n);
  out.set(bytes);
  return out;
}

/**
 * Encodes a string as UTF-8 into a private buffer.
 *
 * @param text The string.
 * @returns Its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeUtf8 } from "./arena.ts";
 * assert.deepEqual(encodeUtf8("é"), new Uint8Array([0xc3, 0xa9]));
 * ```
 */
export function encodeUtf8(text: string): Uint8Array {
  // A UTF-16 code unit never needs more than 3 UTF-8 bytes.
  const max = text.length * 3;
  if (max > MAX_CARVED) return encoder.encode(text);
  const at = reserve(max);
  const { written } = encoder.encodeInto(text, slab.subarray(at, at + max));
  // Give back the unused tail of the reservation.
  used = at + ((written + 7) & ~7);
  return slab.subarray(at, at + written);
}
