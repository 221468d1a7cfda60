/**
 * `strata delete <db> <key>`: removes one key; `--prefix P` or `--gte K`
 * / `--lt K` remove a whole key range at once (`DB.deleteRange`).
 *
 * @module
 */

import { bytesArg } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { openDatabase } from "./open_database.ts";

/**
 * The first key after every key that starts with `prefix`, or `undefined`
 * when there is none (a prefix of 0xff bytes only, or empty): the end of
 * the range `--prefix` deletes.
 *
 * @param prefix The prefix.
 * @returns The exclusive end of the prefix's range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prefixEnd } from "./delete_command.ts";
 * assert.deepEqual(prefixEnd(new Uint8Array([0x61, 0xff])), new Uint8Array([0x62]));
 * assert.equal(prefixEnd(new Uint8Array([0xff])), undefined);
 * ```
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = prefix.slice(0, n);
  end[n - 1]!++;
  return end;
}

/** The `delete` command. */
export const deleteCommand: Command = {
  name: "delete",
  args: "<db> [<key>]",
  arity: [1, 2],
  summary: "remove a key, or every key of a prefix or range",
  description: [
    "Removes <key>. Deleting a key that is absent succeeds too (an LSM tree",
    "writes a tombstone without looking). --prefix P removes every key that",
    "starts with P; --gte K and --lt K remove the keys from K (inclusive) to",
    "K (exclusive), either bound may be left out. A range is removed by one",
    "range tombstone, at the same cost however many keys it covers; the",
    "space comes back as compaction drops them (strata compact). The write",
    "is synced to disk before the command exits.",
  ].join("\n"),
  options: {
    prefix: { type: "string", value: "P", help: "remove every key under P" },
    gte: { type: "string", value: "K", help: "remove keys from K on" },
    lt: { type: "string", value: "K", help: "remove keys before K" },
    hex: { type: "boolean", help: "keys given as hex digits" },
  },
  async run(args) {
    const [path, keyText] = args.positionals as [string, string | undefined];
    const hex = args.flags.has("hex");
    const prefix = args.strings.get("prefix");
    const gte = args.strings.get("gte");
    const lt = args.strings.get("lt");
    const ranged = prefix !== undefined || gte !== undefined ||
      lt !== undefined;
    if (keyText !== undefined && ranged) {
      throw new UsageError(
        "Give a key, or --prefix, or --gte/--lt: not both a key and a range",
      );
    }
    if (prefix !== undefined && (gte !== undefined || lt !== undefined)) {
      throw new UsageError("--prefix cannot be combined with --gte or --lt");
    }
    if (keyText === undefined && !ranged) {
      throw new UsageError(
        "Missing <key>, --prefix, or --gte/--lt: what should be deleted?",
      );
    }
    let range: [Uint8Array, Uint8Array | undefined] | undefined;
    if (prefix !== undefined) {
      const p = bytesArg(prefix, hex, "--prefix");
      if (p.length === 0) {
        throw new UsageError(
          'Invalid --prefix "": it would delete every key (use --gte "" to mean that)',
        );
      }
      range = [p, prefixEnd(p)];
    } else if (ranged) {
      const start = gte === undefined
        ? new Uint8Array(0)
        : bytesArg(gte, hex, "--gte");
      const end = lt === undefined ? undefined : bytesArg(lt, hex, "--lt");
      range = [start, end];
    }
    const key = keyText === undefined
      ? undefined
      : bytesArg(keyText, hex, "key");
    if (key !== undefined && key.length === 0) {
      throw new UsageError('Invalid key "": a key is 1 byte or more');
    }
    const db = await openDatabase(path, "write");
    try {
      if (range) await db.deleteRange(range[0], range[1], { sync: true });
      else await db.delete(key!, { sync: true });
    } finally {
      await db.close();
    }
    return 0;
  },
};
