/**
 * `strata get <db> <key>`: prints one value.
 *
 * @module
 */

import { toHex } from "../lib/util/bytes.ts";
import { bytesArg } from "./args.ts";
import type { Command } from "./command.ts";
import { escapeBytes } from "./escape.ts";
import { openDatabase } from "./open_database.ts";
import { Output } from "./output.ts";
import { formatRecord } from "./records.ts";

/** The `get` command. */
export const getCommand: Command = {
  name: "get",
  args: "<db> <key>",
  arity: [2, 2],
  summary: "print the value of a key (exit 1 if absent)",
  description: [
    "Prints the value stored under <key>, then a newline. Exits 1, with a",
    "message on stderr, when the key is absent. In text output a backslash",
    "is printed as \\\\, and control bytes (but tab and newlines) and bytes",
    "that are not UTF-8 as \\xNN; use --hex or --json for binary values.",
  ].join("\n"),
  options: {
    hex: { type: "boolean", help: "key given and value printed as hex digits" },
    json: {
      type: "boolean",
      help: 'print {"key": ..., "value": ...} (valueHex when not UTF-8)',
    },
  },
  async run(args) {
    const [path, keyText] = args.positionals as [string, string];
    const hex = args.flags.has("hex");
    const key = bytesArg(keyText, hex, "key");
    const db = await openDatabase(path, "read");
    let value: Uint8Array | undefined;
    try {
      value = await db.get(key);
    } finally {
      await db.close();
    }
    if (value === undefined) {
      const shown = hex ? toHex(key) : escapeBytes(key, true);
      console.error(`strata: Key "${shown}" not found`);
      return 1;
    }
    const out = new Output();
    if (args.flags.has("json")) out.line(formatRecord(key, value, hex));
    else out.line(hex ? toHex(value) : escapeBytes(value, false));
    out.flush();
    return 0;
  },
};
