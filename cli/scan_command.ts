/**
 * `strata scan <db>`: prints a key range.
 *
 * @module
 */

import { toHex } from "../lib/util/bytes.ts";
import type { Command } from "./command.ts";
import { escapeBytes } from "./escape.ts";
import { openDatabase } from "./open_database.ts";
import { Output } from "./output.ts";
import { formatRecord } from "./records.ts";
import { RANGE_OPTIONS, scanRange } from "./scan_range.ts";

/** The `scan` command. */
export const scanCommand: Command = {
  name: "scan",
  args: "<db>",
  arity: [1, 1],
  summary: "print the entries of a key range",
  description: [
    "Prints the entries of a key range in key order (byte-wise), one per line:",
    "the key, a tab, the value. Text output escapes a backslash as \\\\, tab,",
    "newline and carriage return as \\t \\n \\r, and other control bytes and",
    "bytes that are not UTF-8 as \\xNN, so every entry is one line.",
    "--json prints one object per line instead (keyHex / valueHex when not UTF-8).",
  ].join("\n"),
  options: {
    ...RANGE_OPTIONS,
    "keys-only": { type: "boolean", help: "print keys only" },
    json: {
      type: "boolean",
      help: 'one {"key": ..., "value": ...} object per line',
    },
    hex: {
      type: "boolean",
      help: "bounds given and entries printed as hex digits",
    },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const hex = args.flags.has("hex");
    const json = args.flags.has("json");
    const keysOnly = args.flags.has("keys-only");
    const options = scanRange(args, hex);
    if (keysOnly) options.keysOnly = true;
    const show = (b: Uint8Array) => hex ? toHex(b) : escapeBytes(b, true);
    const out = new Output();
    const db = await openDatabase(path, "read");
    try {
      for await (const { key, value } of db.scan(options)) {
        if (json) {
          out.line(formatRecord(key, keysOnly ? undefined : value, hex));
        } else if (keysOnly) out.line(show(key));
        else out.line(`${show(key)}\t${show(value)}`);
      }
    } finally {
      out.flush();
      await db.close();
    }
    return 0;
  },
};
