/**
 * `strata put <db> <key> <value>`: stores one key.
 *
 * @module
 */

import { bytesArg } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { openDatabase } from "./open_database.ts";

async function readStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

/** The `put` command. */
export const putCommand: Command = {
  name: "put",
  args: "<db> <key> <value>",
  arity: [3, 3],
  summary: "store a value under a key",
  description: [
    "Stores <value> under <key>, creating the database if it does not exist.",
    'A <value> of "-" reads the value from stdin, byte for byte (a trailing',
    "newline is kept). The write is synced to disk before the command exits.",
  ].join("\n"),
  options: {
    hex: { type: "boolean", help: "key and value are hex digits (stdin too)" },
  },
  async run(args) {
    const [path, keyText, valueText] = args.positionals as [
      string,
      string,
      string,
    ];
    const hex = args.flags.has("hex");
    const key = bytesArg(keyText, hex, "key");
    let value: Uint8Array;
    if (valueText === "-") {
      const input = await readStdin();
      if (hex) {
        const text = new TextDecoder().decode(input).trim();
        value = bytesArg(text, true, "value from stdin");
      } else {
        value = input;
      }
    } else {
      value = bytesArg(valueText, hex, "value");
    }
    if (key.length === 0) {
      throw new UsageError('Invalid key "": a key is 1 byte or more');
    }
    const db = await openDatabase(path, "create");
    try {
      await db.put(key, value, { sync: true });
    } finally {
      await db.close();
    }
    return 0;
  },
};
