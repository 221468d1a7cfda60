/**
 * `KvU64`: the unsigned 64-bit integer that Deno KV's `sum`, `min` and `max`
 * work on, as `Deno.KvU64` defines it (denoland/deno `ext/kv/01_db.ts`): the
 * same constructor checks, error classes and messages, a frozen instance
 * whose one own property is `value`, `valueOf`, `toString`, the
 * `"Deno.KvU64"` string tag and the `[Deno.KvU64: 5n]` inspection.
 *
 * When `Deno.KvU64` exists (the process runs with `--unstable-kv`), this
 * class extends it, so a Strata `KvU64` is also a `Deno.KvU64` and real Deno
 * KV stores it as a u64 rather than as a plain object. Without the flag it
 * stands alone. Either way {@link isKvU64} accepts both kinds, so users may
 * pass Deno's class to Strata.
 *
 * @module
 */

/** The largest value a `KvU64` holds: 2^64 − 1. */
export const MAX_U64 = 0xffff_ffff_ffff_ffffn;

type U64Constructor = new (value: bigint) => { readonly value: bigint };

// Read dynamically: the property exists only under --unstable-kv, and the
// library must not need the flag.
const DenoKvU64: U64Constructor | undefined =
  (Deno as unknown as { KvU64?: U64Constructor }).KvU64;

// `extends Object` leaves the prototype chain exactly as Deno's (instance →
// KvU64.prototype → Object.prototype) when Deno's class is absent. The doc
// comment sits after `const` because that is where `deno doc --lint` looks
// for the tag on a declaration that is not the module's first.
const /** @internal What {@link KvU64} extends. */ Base =
  (DenoKvU64 ?? Object) as new (value: bigint) => object;

/**
 * An unsigned 64-bit integer value for Deno KV, behaving as `Deno.KvU64`.
 *
 * @example Make one, read it, print it
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvU64 } from "./kv_u64.ts";
 * const n = new KvU64(5n);
 * assert.equal(n.value, 5n);
 * assert.equal(String(n), "5");
 * assert.equal(Object.prototype.toString.call(n), "[object Deno.KvU64]");
 * assert.equal(Deno.inspect(n), "[Deno.KvU64: 5n]");
 * assert.throws(() => new KvU64(-1n), RangeError);
 * ```
 */
export class KvU64 extends Base {
  /** The number, from 0 to 2^64 − 1. */
  declare readonly value: bigint;

  /**
   * Creates the value and freezes it.
   *
   * @param value A bigint from 0 to 2^64 − 1.
   * @throws {TypeError} `value` is not a bigint.
   * @throws {RangeError} `value` is negative or needs more than 64 bits.
   */
  constructor(value: bigint) {
    super(value);
    if (DenoKvU64 === undefined) {
      // Deno's constructor did all of this when it is the base.
      if (typeof value !== "bigint") {
        throw new TypeError(`Value must be a bigint: received ${typeof value}`);
      }
      if (value < 0n) {
        throw new RangeError(
          `Value must be a positive bigint: received ${value}`,
        );
      }
      if (value > MAX_U64) {
        throw new RangeError("Value must fit in a 64-bit unsigned integer");
      }
      (this as { value: bigint }).value = value;
      Object.freeze(this);
    }
  }

  /**
   * The number, so that `n + 1n` and comparisons work as with Deno's class.
   *
   * @returns {@link KvU64.value}.
   */
  override valueOf(): bigint {
    return this.value;
  }

  /**
   * The number in decimal, as Deno's class prints it.
   *
   * @returns The decimal digits of {@link KvU64.value}.
   */
  override toString(): string {
    return this.value.toString();
  }

  /** `"Deno.KvU64"`, the tag `Object.prototype.toString` shows. */
  get [Symbol.toStringTag](): string {
    return "Deno.KvU64";
  }

  /**
   * How `Deno.inspect` prints the value: `[Deno.KvU64: 5n]`, as for Deno's
   * class. The key is the one Deno's own class uses; Deno's inspector
   * honours it on any object.
   */
  [Symbol.for("Deno.privateCustomInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return inspect(Object(this.value), options).replace("BigInt", "Deno.KvU64");
  }
}

// Deno KV recognizes a u64 by its prototype chain; Strata's class is below
// Deno's whenever Deno's exists, so one check covers both.
const U64Class: U64Constructor = DenoKvU64 ?? KvU64;

/**
 * Tells whether a value is a KvU64: Strata's {@link KvU64} or Deno's own
 * `Deno.KvU64` (present under `--unstable-kv`), subclasses included, as Deno
 * KV decides which values it stores as u64.
 *
 * @param value Any value.
 * @returns `true` when `value` is stored as a u64 rather than serialized.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isKvU64, KvU64 } from "./kv_u64.ts";
 * assert.ok(isKvU64(new KvU64(1n)));
 * assert.ok(!isKvU64({ value: 1n }));
 * assert.ok(!isKvU64(1n));
 * ```
 */
export function isKvU64(value: unknown): value is KvU64 {
  return value instanceof U64Class;
}

/**
 * The number a KvU64 holds, read as Deno KV reads it (through `valueOf`),
 * with the errors Deno KV gives when a subclass or a forged object yields no
 * bigint or one out of range.
 *
 * @param value A value for which {@link isKvU64} is true.
 * @returns The number, from 0 to 2^64 − 1.
 * @throws {TypeError} `valueOf` returned no bigint.
 * @throws {Error} It returned a bigint out of the u64 range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvU64, u64Value } from "./kv_u64.ts";
 * assert.equal(u64Value(new KvU64(7n)), 7n);
 * ```
 */
export function u64Value(value: KvU64): bigint {
  const n: unknown = value.valueOf();
  if (typeof n === "bigint" && n >= 0n && n <= MAX_U64) return n;
  if (typeof n === "bigint") {
    throw new Error(
      "Invalid mutation: out of range conversion regarding big integer attempted",
    );
  }
  if (n === undefined) throw new TypeError("missing field `value`");
  throw new TypeError(
    `serde_v8 error: invalid type; expected: bigint, got: ${serdeTypeName(n)}`,
  );
}

// The names serde_v8 prints (V8's type_repr), as Deno 2.9.6 shows them.
function serdeTypeName(v: unknown): string {
  switch (typeof v) {
    case "number":
      return "Number";
    case "boolean":
      return "Boolean";
    case "object":
      if (v === null) return "null";
      if (Array.isArray(v)) return "array";
      return v instanceof Date ? "Date" : "unknown";
    default:
      return typeof v;
  }
}
