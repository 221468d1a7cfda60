/**
 * `strata delete <db> <key>`: removes one key.
 *
 * @module
 */

import { bytesArg } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { openDatabase } from "./open_database.ts";

/** The `delete` command. */
export const deleteCommand: Command = {
  name: "delete",
  args: "<db> <key>",
  arity: [2, 2],
  summary: "remove a key",
  description: [
    "Removes <key>. Deleting a key that is absent succeeds too (an LSM tree",
    "writes a tombstone without looking). The write is synced to disk",
    "before the command exits.",
  ].join("\n"),
  options: {
    hex: { type: "boolean", help: "key given as hex digits" },
  },
  async run(args) {
    const [path, keyText] = args.positionals as [string, string];
    const key = bytesArg(keyText, args.flags.has("hex"), "key");
    if (key.length === 0) {
      throw new UsageError('Invalid key "": a key is 1 byte or more');
    }
    const db = await openDatabase(path, "write");
    try {
      await db.delete(key, { sync: true });
    } finally {
      await db.close();
    }
    return 0;
  },
};
