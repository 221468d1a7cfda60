/**
 * `strata dump <file>`: decodes a WAL, SSTable or manifest.
 *
 * @module
 */

import { toHex } from "../lib/util/bytes.ts";
import { dumpFile, renderDump } from "../lib/tools/dump.ts";
import type { Command } from "./command.ts";
import { escapeBytes } from "./escape.ts";
import { toJsonValue } from "./json_bytes.ts";
import { Output } from "./output.ts";

// Long values would drown the structure a dump is read for.
const SHOWN_BYTES = 48;

/** The `dump` command. */
export const dumpCommand: Command = {
  name: "dump",
  args: "<file>",
  arity: [1, 1],
  summary: "decode a .log, .sst or MANIFEST file",
  description: [
    "Decodes one file of a database into readable text: a WAL's records",
    "(offset, sequence numbers, operations), an SSTable's footer, properties,",
    "bloom filter, index and data blocks with their entries, or a manifest's",
    "version edits. Keys and values are escaped as in `strata scan` and cut",
    `after ${SHOWN_BYTES} bytes unless --full is given. --json prints one JSON`,
    'document (byte strings under "keyHex"-style names when not UTF-8).',
  ].join("\n"),
  options: {
    json: { type: "boolean", help: "print one JSON document" },
    hex: { type: "boolean", help: "show keys and values as hex digits" },
    full: { type: "boolean", help: "show long keys and values in full" },
  },
  run(args) {
    const [path] = args.positionals as [string];
    const hex = args.flags.has("hex");
    const full = args.flags.has("full");
    const dump = dumpFile(path);
    const out = new Output();
    if (args.flags.has("json")) {
      out.line(JSON.stringify(toJsonValue(dump, hex), null, 2));
    } else {
      const show = (b: Uint8Array) => {
        const cut = !full && b.length > SHOWN_BYTES;
        const part = cut ? b.subarray(0, SHOWN_BYTES) : b;
        const text = hex ? toHex(part) : `"${escapeBytes(part, true)}"`;
        return cut ? `${text}... (${b.length} bytes)` : text;
      };
      out.line(renderDump(dump, show));
    }
    out.flush();
    return Promise.resolve(0);
  },
};
