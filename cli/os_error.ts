/**
 * Short reasons for operating-system errors, for one-line messages such as
 * `Cannot read "x.jsonl": no such file or directory`.
 *
 * @module
 */

/**
 * Extracts the reason from an error thrown by a `Deno.*` file operation,
 * without the `(os error N)` code or the repeated operation and path.
 *
 * @param err What was thrown.
 * @returns The reason, lowercase first letter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { osErrorReason } from "./os_error.ts";
 * try {
 *   Deno.readFileSync("/no/such/file");
 * } catch (err) {
 *   assert(osErrorReason(err) === "no such file or directory");
 * }
 * ```
 */
export function osErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = message.replace(/\s*\(os error \d+\)/, "").split(":")[0]!
    .trim();
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
