/**
 * `strata verify <db>`: checks every checksum and ordering invariant.
 *
 * @module
 */

import { verifyDatabase } from "../lib/tools/verify.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { formatBytes, formatCount } from "../lib/util/units.ts";

/** The `verify` command. */
export const verifyCommand: Command = {
  name: "verify",
  args: "<db>",
  arity: [1, 1],
  summary: "check every checksum and invariant (exit 0 = clean)",
  description: [
    "Reads the live manifest, every live WAL and every live SSTable and checks",
    "every checksum and ordering invariant, without opening the database for",
    "writing. Prints each problem as <file> at offset <n>: <what>, then a",
    "summary. Exits 0 only when the database is clean, 2 otherwise.",
  ].join("\n"),
  options: {
    json: { type: "boolean", help: "print the report as one JSON document" },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const bar = new ProgressBar(
      "verify",
      undefined,
      "bytes",
      progressAllowed(false),
    );
    let report;
    try {
      report = await verifyDatabase(
        path,
        (done, total) => bar.update(done, total),
      );
    } finally {
      bar.finish();
    }
    const out = new Output();
    if (args.flags.has("json")) {
      out.line(JSON.stringify(report, null, 2));
    } else {
      for (const p of report.problems) {
        out.line(`${p.file} at offset ${p.offset}: ${p.message}`);
      }
      const c = report.checked;
      const what = `${c.manifests} manifest, ${c.logs} WAL${
        c.logs === 1 ? "" : "s"
      }, ${c.tables} table${c.tables === 1 ? "" : "s"} (${
        formatBytes(c.bytes)
      }, ${formatCount(report.entries)} entries)`;
      const n = report.problems.length;
      out.line(
        report.ok
          ? `OK: ${what}`
          : `${n} problem${n === 1 ? "" : "s"} in ${what}`,
      );
      if (report.orphans.length > 0) {
        out.line(
          `note: ${report.orphans.length} table file(s) not in the manifest (left over, harmless)`,
        );
      }
      if (report.inUse) {
        out.line(
          "note: the database is open in another process; verify it closed for a definite answer",
        );
      }
    }
    out.flush();
    return report.ok ? 0 : 2;
  },
};
