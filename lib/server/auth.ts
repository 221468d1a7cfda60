/**
 * Comparing access tokens in constant time: how long the comparison takes
 * must not tell a client how many leading characters it guessed right.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Whether `presented` equals `expected`, taking the same time for every
 * presented token of a given length, and for every wrong length.
 *
 * @param presented What the client sent.
 * @param expected The access token.
 * @returns True when they are equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenMatches } from "./auth.ts";
 * assert(tokenMatches("s3cret", "s3cret"));
 * assert(!tokenMatches("s3creT", "s3cret"));
 * assert(!tokenMatches("s3", "s3cret"));
 * ```
 */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = encoder.encode(presented);
  const b = encoder.encode(expected);
  // Compare over the expected length whatever was presented, folding
  // every difference (the length's too) into one value.
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) {
    diff |= (a[i % (a.length || 1)] ?? 0) ^ b[i]!;
  }
  return diff === 0 && a.length === b.length;
}
