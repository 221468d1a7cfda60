/**
 * The key-range options shared by `scan` and `export`: `--prefix`,
 * `--gte`, `--gt`, `--lte`, `--lt`, `--reverse` and `--limit`, turned into
 * the engine's scan options.
 *
 * @module
 */

import type { ScanOptions } from "../mod.ts";
import { bytesArg, intOption } from "./args.ts";
import type { OptionSpec, ParsedArgs } from "./command.ts";
import { UsageError } from "./command.ts";

/** Declarations of the range options. */
export const RANGE_OPTIONS: Record<string, OptionSpec> = {
  prefix: { type: "string", value: "P", help: "only keys that start with P" },
  gte: { type: "string", value: "K", help: "only keys >= K" },
  gt: { type: "string", value: "K", help: "only keys > K" },
  lte: { type: "string", value: "K", help: "only keys <= K" },
  lt: { type: "string", value: "K", help: "only keys < K" },
  reverse: { type: "boolean", help: "from the last key to the first" },
  limit: {
    type: "string",
    value: "N",
    help: "at most N entries (counted in scan order)",
  },
};

/**
 * Builds scan options from the range options given.
 *
 * @param args Parsed arguments.
 * @param hex Bounds are hex digits.
 * @returns Options for `db.scan`.
 * @throws {UsageError} When both `--gte` and `--gt` (or `--lte` and
 * `--lt`) are given, or a value is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanRange } from "./scan_range.ts";
 * const args = { positionals: [], flags: new Set(["reverse"]), strings: new Map([["prefix", "user:"]]) };
 * const options = scanRange(args, false);
 * assert(options.reverse === true && options.prefix instanceof Uint8Array);
 * ```
 */
export function scanRange(args: ParsedArgs, hex: boolean): ScanOptions {
  for (const [a, b] of [["gte", "gt"], ["lte", "lt"]]) {
    if (args.strings.has(a!) && args.strings.has(b!)) {
      throw new UsageError(
        `Conflicting options "--${a}" and "--${b}": give one of them`,
      );
    }
  }
  const options: ScanOptions = {};
  for (const name of ["prefix", "gte", "gt", "lte", "lt"] as const) {
    const text = args.strings.get(name);
    if (text !== undefined) options[name] = bytesArg(text, hex, `--${name}`);
  }
  if (args.flags.has("reverse")) options.reverse = true;
  const limit = intOption(args, "limit", 0);
  if (limit !== undefined) options.limit = limit;
  return options;
}
