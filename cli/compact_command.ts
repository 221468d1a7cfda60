/**
 * `strata compact <db>`: a full (or ranged) manual compaction.
 *
 * @module
 */

import { bytesArg } from "./args.ts";
import type { Command } from "./command.ts";
import { openDatabase } from "./open_database.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { formatBytes } from "../lib/util/units.ts";

/** The `compact` command. */
export const compactCommand: Command = {
  name: "compact",
  args: "<db>",
  arity: [1, 1],
  summary: "compact the whole database (or a key range)",
  description: [
    "Flushes the memtable and merges every level down, dropping overwritten",
    "versions and deleted keys, so reads touch fewer files and the disk holds",
    "less. --start and --end limit the work to a key range.",
  ].join("\n"),
  options: {
    start: { type: "string", value: "K", help: "first key of the range" },
    end: { type: "string", value: "K", help: "last key of the range" },
    hex: { type: "boolean", help: "--start and --end are hex digits" },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const hex = args.flags.has("hex");
    const range: { start?: Uint8Array; end?: Uint8Array } = {};
    const start = args.strings.get("start");
    const end = args.strings.get("end");
    if (start !== undefined) range.start = bytesArg(start, hex, "--start");
    if (end !== undefined) range.end = bytesArg(end, hex, "--end");
    const interactive = progressAllowed(false);
    const db = await openDatabase(path, "write");
    try {
      const before = db.stats();
      // Until the first report, the bytes on disk are the estimate.
      const bar = new ProgressBar(
        "compact",
        before.diskBytes + before.memtableBytes,
        "bytes",
        interactive,
      );
      const t0 = performance.now();
      try {
        await db.compact({
          ...range,
          onProgress: (p) => bar.update(p.bytesRead, p.totalBytes),
        });
      } finally {
        bar.finish();
      }
      if (interactive) {
        const after = db.stats();
        console.error(
          `Compacted "${path}": ${formatBytes(before.diskBytes)} -> ${
            formatBytes(after.diskBytes)
          } on disk in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
    } finally {
      await db.close();
    }
    return 0;
  },
};
