/**
 * Scan options: what callers may pass to `DB.scan`, and their validation
 * into a {@link ScanPlan} whose bounds already fold in the prefix, so the
 * iterator below deals with one lower and one upper bound.
 *
 * @module
 */

import { compareBytes, prefixSuccessor } from "../util/bytes.ts";
import { InvalidArgumentError } from "../util/errors.ts";
import { describe } from "./options.ts";
import type { Snapshot } from "./snapshot.ts";
import { type Bytes, toBound } from "./write_batch.ts";

/** Options of `DB.scan`. Bounds and prefix intersect. */
export interface ScanOptions {
  /** Keys strictly greater than this. */
  gt?: Bytes;
  /** Keys greater than or equal to this. */
  gte?: Bytes;
  /** Keys strictly less than this. */
  lt?: Bytes;
  /** Keys less than or equal to this. */
  lte?: Bytes;
  /** Only keys that start with this. */
  prefix?: Bytes;
  /** Walk from the largest key down. */
  reverse?: boolean;
  /** Yield at most this many entries (counted in the scan's direction). */
  limit?: number;
  /** Read the database as of this snapshot. */
  snapshot?: Snapshot;
  /** Yield empty values (cheaper when only keys matter). */
  keysOnly?: boolean;
}

/** One entry of a scan: fresh arrays the caller may keep and mutate. */
export interface Entry {
  /** The key. */
  key: Uint8Array;
  /** The value (empty with `keysOnly`). */
  value: Uint8Array;
}

/** A validated scan: bounds folded together, prefix turned into bounds. */
export interface ScanPlan {
  sequence: number;
  reverse: boolean;
  keysOnly: boolean;
  limit: number;
  lower: Uint8Array | undefined;
  lowerInclusive: boolean;
  upper: Uint8Array | undefined;
  upperInclusive: boolean;
  prefix: Uint8Array | undefined;
}

/**
 * Checks scan options and folds bounds and prefix into one range.
 *
 * @param options What the caller passed.
 * @param sequenceOf Resolves the `snapshot` option to a sequence number
 * (and checks it belongs to the database).
 * @returns The plan.
 * @throws {InvalidArgumentError} On an unknown option or a bad value.
 *
 * @example The tighter of two bounds wins; a prefix becomes a range
 * ```ts
 * import assert from "node:assert/strict";
 * import { planScan } from "./scan_plan.ts";
 * const plan = planScan({ gte: "a", gt: "b", prefix: "b" }, () => 7);
 * assert.deepEqual(plan.lower, new TextEncoder().encode("b"));
 * assert.equal(plan.lowerInclusive, false);
 * assert.deepEqual(plan.upper, new TextEncoder().encode("c"));
 * assert.equal(plan.sequence, 7);
 * ```
 */
export function planScan(
  options: ScanOptions,
  sequenceOf: (snapshot: unknown) => number,
): ScanPlan {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      `Invalid scan options ${describe(options)}: expected an object`,
    );
  }
  const known = [
    "gt",
    "gte",
    "lt",
    "lte",
    "prefix",
    "reverse",
    "limit",
    "snapshot",
    "keysOnly",
  ];
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new InvalidArgumentError(`Unknown scan option "${name}"`);
    }
  }
  for (const flag of ["reverse", "keysOnly"] as const) {
    const v = options[flag];
    if (v !== undefined && typeof v !== "boolean") {
      throw new InvalidArgumentError(
        `Invalid scan option "${flag}": ${describe(v)} is not a boolean`,
      );
    }
  }
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new InvalidArgumentError(
      `Invalid scan option "limit": ${
        describe(limit)
      } is not a non-negative integer`,
    );
  }
  let lower: Uint8Array | undefined;
  let lowerInclusive = true;
  let upper: Uint8Array | undefined;
  let upperInclusive = true;
  const tighten = (
    bound: Uint8Array,
    inclusive: boolean,
    isLower: boolean,
  ) => {
    if (isLower) {
      const c = lower === undefined ? 1 : compareBytes(bound, lower);
      if (c > 0 || (c === 0 && !inclusive)) {
        [lower, lowerInclusive] = [bound, inclusive];
      }
    } else {
      const c = upper === undefined ? -1 : compareBytes(bound, upper);
      if (c < 0 || (c === 0 && !inclusive)) {
        [upper, upperInclusive] = [bound, inclusive];
      }
    }
  };
  if (options.gte !== undefined) {
    tighten(toBound(options.gte, "gte"), true, true);
  }
  if (options.gt !== undefined) {
    tighten(toBound(options.gt, "gt"), false, true);
  }
  if (options.lte !== undefined) {
    tighten(toBound(options.lte, "lte"), true, false);
  }
  if (options.lt !== undefined) {
    tighten(toBound(options.lt, "lt"), false, false);
  }
  let prefix: Uint8Array | undefined;
  if (options.prefix !== undefined) {
    prefix = toBound(options.prefix, "prefix");
    if (prefix.length > 0) {
      tighten(prefix, true, true);
      const end = prefixSuccessor(prefix);
      if (end) tighten(end, false, false);
    }
  }
  return {
    sequence: sequenceOf(options.snapshot),
    reverse: options.reverse ?? false,
    keysOnly: options.keysOnly ?? false,
    limit: limit ?? Infinity,
    lower,
    lowerInclusive,
    upper,
    upperInclusive,
    prefix,
  };
}
