/**
 * The data every engine of the peer benchmark sees: db_bench-shaped 16-byte
 * keys, 100-byte values, and seeded random orders, so that each engine (in
 * its own process) writes and reads exactly the same bytes in the same order.
 *
 * @module
 */

import { fillValuePool, Prng } from "../../cli/bench.ts";

/** Key length of the db_bench workloads. */
export const KEY_SIZE = 16;
/** Value length of the db_bench workloads. */
export const VALUE_SIZE = 100;
/** The seed every run uses unless `--seed` says otherwise. */
export const DEFAULT_SEED = 301;

// 1 MiB of db_bench's compressible bytes (fillValuePool): values are 100-byte
// windows at scattered offsets that compress to about half, as db_bench's do.
const POOL_SIZE = 1 << 20;
const DOT = 0x2e; // "." sorts just below "0", so a missing key falls between stored ones
const ZERO = 0x30;

/**
 * Draws `count` indices uniformly from [0, n), with replacement (db_bench's
 * random order for overwrite, readrandom, seekrandom and fillsync).
 *
 * @param seed PRNG seed.
 * @param count How many indices.
 * @param n Exclusive upper bound.
 * @returns The indices.
 *
 * @example
 * ```ts
 * import { randomIndices } from "./keys.ts";
 * const xs = randomIndices(1, 5, 100);
 * if (xs.length !== 5 || xs.some((x) => x >= 100)) throw new Error("bad");
 * ```
 */
export function randomIndices(
  seed: number,
  count: number,
  n: number,
): Uint32Array {
  const rng = new Prng(seed);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.below(n);
  return out;
}

/**
 * A seeded random permutation of [0, n) (Fisher–Yates): fillrandom and
 * deleterandom touch every key exactly once, so each engine ends up holding
 * the same N keys and every readrandom lookup is a hit.
 *
 * @param seed PRNG seed.
 * @param n How many indices.
 * @returns Each of 0 … n-1 once, shuffled.
 *
 * @example
 * ```ts
 * import { shuffledIndices } from "./keys.ts";
 * const xs = shuffledIndices(9, 50);
 * if ([...xs].sort((a, b) => a - b).some((x, i) => x !== i)) throw new Error("not a permutation");
 * ```
 */
export function shuffledIndices(seed: number, n: number): Uint32Array {
  const rng = new Prng(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/**
 * All keys and values of a run, precomputed so that formatting costs nothing
 * inside the timed loops. Key `i` is `i` in 16 zero-padded decimal digits;
 * missing key `i` is 15 digits of `i` then ".", which sorts between stored
 * keys (so range checks cannot reject it, only a real lookup or a filter).
 * Returned arrays are views into shared buffers: engines copy what they keep,
 * and callers must not mutate them.
 *
 * @example Keys, missing keys and values
 * ```ts
 * import { KeySpace } from "./keys.ts";
 * const ks = new KeySpace(1000, 301);
 * const text = (b: Uint8Array) => new TextDecoder().decode(b);
 * if (text(ks.key(42)) !== "0000000000000042") throw new Error("bad key");
 * if (text(ks.missingKey(42)) !== "000000000000042.") throw new Error("bad missing key");
 * if (ks.value(42).length !== 100) throw new Error("bad value");
 * ```
 */
export class KeySpace {
  /** Number of distinct stored keys (db_bench's `--num`). */
  readonly num: number;
  #keys: Uint8Array;
  #missing: Uint8Array;
  #pool: Uint8Array;

  /**
   * @param num Number of keys.
   * @param seed Seed of the value bytes.
   */
  constructor(num: number, seed: number) {
    this.num = num;
    this.#keys = new Uint8Array(num * KEY_SIZE);
    this.#missing = new Uint8Array(num * KEY_SIZE);
    for (let i = 0; i < num; i++) {
      writeDecimal(this.#keys, i * KEY_SIZE, KEY_SIZE, i);
      writeDecimal(this.#missing, i * KEY_SIZE, KEY_SIZE - 1, i);
      this.#missing[i * KEY_SIZE + KEY_SIZE - 1] = DOT;
    }
    const rng = new Prng(seed ^ 0x5eed);
    this.#pool = new Uint8Array(POOL_SIZE + VALUE_SIZE);
    fillValuePool(this.#pool, rng);
  }

  /**
   * The stored key with index `i`.
   *
   * @param i Index in [0, num).
   * @returns A 16-byte view; do not mutate.
   *
   * @example
   * ```ts
   * import { KeySpace } from "./keys.ts";
   * if (new KeySpace(10, 1).key(3).length !== 16) throw new Error("bad");
   * ```
   */
  key(i: number): Uint8Array {
    return this.#keys.subarray(i * KEY_SIZE, i * KEY_SIZE + KEY_SIZE);
  }

  /**
   * A key that no fill ever writes, sorting just below `key(i * 10)` (its
   * first 15 digits are those of `i`).
   *
   * @param i Index in [0, num).
   * @returns A 16-byte view; do not mutate.
   *
   * @example
   * ```ts
   * import { KeySpace } from "./keys.ts";
   * if (new KeySpace(10, 1).missingKey(3)[15] !== 0x2e) throw new Error("bad");
   * ```
   */
  missingKey(i: number): Uint8Array {
    return this.#missing.subarray(i * KEY_SIZE, i * KEY_SIZE + KEY_SIZE);
  }

  /**
   * The value of write number `i` (any integer): 100 bytes at a
   * pseudo-random offset of the value pool.
   *
   * @param i Write number; different writes of one key use different `i`.
   * @returns A 100-byte view; do not mutate.
   *
   * @example
   * ```ts
   * import { KeySpace } from "./keys.ts";
   * const ks = new KeySpace(10, 1);
   * if (ks.value(1).length !== 100) throw new Error("bad");
   * ```
   */
  value(i: number): Uint8Array {
    const off = Math.imul(i, 0x9e3779b1) >>> 0;
    const at = off % POOL_SIZE;
    return this.#pool.subarray(at, at + VALUE_SIZE);
  }
}

function writeDecimal(
  buf: Uint8Array,
  at: number,
  width: number,
  n: number,
): void {
  for (let p = at + width - 1; p >= at; p--) {
    buf[p] = ZERO + (n % 10);
    n = Math.floor(n / 10);
  }
}
