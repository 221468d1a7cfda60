/**
 * `strata repair <db>`: rebuilds a lost or damaged manifest from the
 * tables and WALs that survive (`repairDatabase`).
 *
 * @module
 */

import { repairDatabase } from "../lib/tools/repair.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";
import { formatCount } from "../lib/util/units.ts";

/** The `repair` command. */
export const repairCommand: Command = {
  name: "repair",
  args: "<db>",
  arity: [1, 1],
  summary: "rebuild a lost or damaged manifest from the files that survive",
  description: [
    "For a database whose CURRENT or manifest is missing or corrupt (open",
    "refuses it): reads every table and WAL, checking every checksum, keeps",
    "the tables that pass, writes the readable blocks of damaged tables and",
    "the valid prefix of every WAL to new tables, and writes a new manifest",
    "listing them all. Nothing is deleted: files it could not use or has",
    "used up go to <db>/lost/. Prints what became of every file. The",
    "database must not be open; run strata verify afterwards.",
  ].join("\n"),
  options: {
    json: { type: "boolean", help: "print the report as one JSON document" },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const report = await repairDatabase(path);
    const out = new Output();
    if (args.flags.has("json")) {
      out.line(JSON.stringify(report, null, 2));
      out.flush();
      return 0;
    }
    const m = report.oldManifest;
    if (m) {
      out.line(
        `old manifest ${m.file}: ${m.edits} edits read, ${m.rangeDeletes} range deletes${
          m.problem ? ` (stopped: ${m.problem})` : ""
        }`,
      );
    } else {
      out.line("old manifest: none found");
    }
    for (const t of report.keptTables) {
      out.line(`kept      ${t.file}: ${formatCount(t.entries)} entries`);
    }
    for (const t of report.salvagedTables) {
      out.line(
        `salvaged  ${t.file} -> ${t.newFile}: ${
          formatCount(t.entries)
        } entries, ${t.lostBlocks} blocks lost`,
      );
    }
    for (const l of report.logs) {
      out.line(
        `replayed  ${l.file}${l.newFile ? ` -> ${l.newFile}` : ""}: ${
          formatCount(l.entries)
        } entries${
          l.droppedBytes > 0
            ? `, ${l.droppedBytes} bytes dropped (${l.dropReason})`
            : ""
        }`,
      );
    }
    for (const s of report.setAside) {
      out.line(`set aside ${s.file} -> ${s.movedTo}: ${s.reason}`);
    }
    out.line(
      `Repaired "${path}": ${formatCount(report.entries)} entries in ${
        report.keptTables.length + report.salvagedTables.length +
        report.logs.filter((l) => l.newFile).length
      } tables, ${report.rangeDeletes} range deletes, up to sequence ${
        formatCount(report.lastSequence)
      }; new manifest ${report.manifest}`,
    );
    out.flush();
    return 0;
  },
};
