/**
 * `strata checkpoint <db> <dir>`: a consistent copy of a database that
 * opens on its own (`DB.checkpoint`), the first step of a backup.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { openDatabase } from "./open_database.ts";
import { Output } from "./output.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { formatBytes } from "../lib/util/units.ts";

/** The `checkpoint` command. */
export const checkpointCommand: Command = {
  name: "checkpoint",
  args: "<db> <dir>",
  arity: [2, 2],
  summary: "write a consistent copy of a database (a backup)",
  description: [
    "Writes a copy of <db> into <dir> (which must not exist, or be empty)",
    "that opens as a database of its own: tables are hard-linked when <dir>",
    "is on the same filesystem (copied otherwise), the WALs copied, and a",
    "fresh manifest written. The database is opened read-only, so it must",
    "not be open in another process; a program holding it open calls",
    "db.checkpoint(dir) or kv.checkpoint(dir) itself, online. Copy the",
    "checkpoint off the machine with any tool; `strata verify <dir>` checks",
    "it, and restoring is opening it (or copying it back).",
  ].join("\n"),
  options: {
    json: { type: "boolean", help: "print the report as one JSON document" },
  },
  async run(args) {
    const [path, dir] = args.positionals as [string, string];
    if (dir === "") {
      throw new UsageError('Invalid checkpoint directory "": it is empty');
    }
    const interactive = progressAllowed(false);
    const db = await openDatabase(path, "read");
    let report;
    try {
      const bar = new ProgressBar(
        "checkpoint",
        undefined,
        "bytes",
        interactive,
      );
      try {
        report = await db.checkpoint(dir, {
          onProgress: (p) => bar.update(p.bytesDone, p.totalBytes),
        });
      } finally {
        bar.finish();
      }
    } finally {
      await db.close();
    }
    const out = new Output();
    if (args.flags.has("json")) {
      out.line(JSON.stringify(report, null, 2));
    } else {
      const tables = report.linkedTables + report.copiedTables;
      out.line(
        `Checkpoint of "${path}" in "${dir}": ${tables} table${
          tables === 1 ? "" : "s"
        } (${
          formatBytes(report.tableBytes)
        }, ${report.linkedTables} linked, ${report.copiedTables} copied), ${report.walFiles} WAL${
          report.walFiles === 1 ? "" : "s"
        } (${formatBytes(report.walBytes)}), up to sequence ${report.sequence}`,
      );
    }
    out.flush();
    return 0;
  },
};
