/**
 * Bump allocation of small byte arrays out of shared slabs.
 *
 * In Deno 2.9 a fresh `new Uint8Array(n)` or `slice()` costs 0.5 to 2 µs
 * (a new `ArrayBuffer` with its backing store), while a `subarray` of an
 * existing buffer costs about 20 ns. Every put copies its key and value,
 * every read copies its result and every block-cache miss needs a 4 KiB
 * buffer, so carving those out of 256 KiB slabs took the allocator off the
 * top of the profiles. Slabs are never reused: a slab is freed by the
 * garbage collector once nothing carved from it is referenced.
 *
 * The cost of the trick, as with Node's `Buffer` pool: an array carved from
 * a slab has a `.buffer` larger than itself. Its own bytes are private;
 * code that wraps `.buffer` whole must use `byteOffset` and `byteLength`.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * A bump allocator over 256 KiB slabs. Requests larger than 4 KiB get a
 * buffer of their own, so a big value never pins a slab.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteArena } from "./arena.ts";
 * const arena = new ByteArena();
 * const a = arena.copy(new Uint8Array([1, 2]));
 * const b = arena.alloc(3);
 * b.fill(9);
 * assert.deepEqual(a, new Uint8Array([1, 2]));
 * assert.equal(a.buffer, b.buffer);
 * ```
 */
export class ByteArena {
  readonly #slabBytes: number;
  readonly #maxCarved: number;
  #slab: Uint8Array;
  #used = 0;

  /**
   * @param slabBytes Size of each slab.
   * @param maxCarved Largest request carved from a slab.
   */
  constructor(slabBytes = 256 * 1024, maxCarved = 4 * 1024 + 64) {
    this.#slabBytes = slabBytes;
    this.#maxCarved = maxCarved;
    this.#slab = new Uint8Array(slabBytes);
  }

  #reserve(n: number): number {
    if (this.#used + n > this.#slabBytes) {
      this.#slab = new Uint8Array(this.#slabBytes);
      this.#used = 0;
    }
    const at = this.#used;
    // 8-byte alignment keeps DataViews and typed views on copies cheap.
    this.#used += (n + 7) & ~7;
    return at;
  }

  /**
   * A zero-filled array of `n` bytes.
   *
   * @param n Length.
   * @returns The array.
   */
  alloc(n: number): Uint8Array {
    if (n > this.#maxCarved) return new Uint8Array(n);
    const at = this.#reserve(n);
    return this.#slab.subarray(at, at + n);
  }

  /**
   * A private copy of `bytes`.
   *
   * @param bytes What to copy.
   * @returns The copy.
   */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.alloc(bytes.length);
    out.set(bytes);
    return out;
  }

  /**
   * The UTF-8 encoding of `text`.
   *
   * @param text The string.
   * @returns Its bytes.
   */
  encodeUtf8(text: string): Uint8Array {
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes.
    const max = text.length * 3;
    if (max > this.#maxCarved) return encoder.encode(text);
    const at = this.#reserve(max);
    const { written } = encoder.encodeInto(
      text,
      this.#slab.subarray(at, at + max),
    );
    // Give back the unused tail of the reservation.
    this.#used = at + ((written + 7) & ~7);
    return this.#slab.subarray(at, at + written);
  }
}

/** The arena of the engine's own short-lived copies (keys of waiting writes, bounds). */
export const sharedArena: ByteArena = new ByteArena();

/**
 * The arena of results handed to callers. Its slabs are small (8 KiB, like
 * Node's `Buffer` pool) because a caller may keep one small result for a
 * long time, and that pins its whole slab; results over 1 KiB get their
 * own buffer.
 */
export const resultArena: ByteArena = new ByteArena(8 * 1024, 1024);

/**
 * A copy of `bytes` to hand to a caller, from {@link resultArena}.
 *
 * @param bytes The bytes.
 * @returns A copy the caller may keep and mutate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyResult } from "./arena.ts";
 * const out = copyResult(new Uint8Array([1, 2]));
 * out[0] = 9; // the caller's to change
 * assert.equal(out.length, 2);
 * ```
 */
export function copyResult(bytes: Uint8Array): Uint8Array {
  return resultArena.copy(bytes);
}

/**
 * A private copy of `bytes` from {@link sharedArena}.
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
  return sharedArena.copy(bytes);
}

/**
 * The UTF-8 encoding of `text`, from {@link sharedArena}.
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
  return sharedArena.encodeUtf8(text);
}
