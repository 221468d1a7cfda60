/**
 * `strata export <db>`: writes entries as JSON lines to stdout, the input
 * format of `strata import`.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { openDatabase } from "./open_database.ts";
import { Output } from "./output.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { formatRecord } from "./records.ts";
import { RANGE_OPTIONS, scanRange } from "./scan_range.ts";

/** The `export` command. */
export const exportCommand: Command = {
  name: "export",
  args: "<db>",
  arity: [1, 1],
  summary: "write entries as JSON lines to stdout",
  description: [
    'Writes every entry (or a range) to stdout, one {"key": ..., "value": ...}',
    "object per line, in key order. A key or value that is not valid UTF-8 is",
    'written as hex under "keyHex" / "valueHex" instead, so nothing is lost;',
    'with --hex, "key" and "value" always hold hex. `strata import` reads',
    "this format back.",
  ].join("\n"),
  options: {
    ...RANGE_OPTIONS,
    hex: {
      type: "boolean",
      help: "bounds given and entries written as hex digits",
    },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const hex = args.flags.has("hex");
    const options = scanRange(args, hex);
    const out = new Output();
    const bar = new ProgressBar(
      "export",
      undefined,
      "items",
      progressAllowed(true),
    );
    const db = await openDatabase(path, "read");
    let n = 0;
    try {
      for await (const { key, value } of db.scan(options)) {
        out.line(formatRecord(key, value, hex));
        if ((++n & 1023) === 0) bar.update(n);
      }
    } finally {
      bar.finish();
      out.flush();
      await db.close();
    }
    return 0;
  },
};
