/**
 * `strata compact <db>`: a full (or ranged) manual compaction.
 *
 * @module
 */

import { bytesArg } from "./args.ts";
import type { Command } from "./command.ts";
import { openDatabase } from "./open_database.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { formatBytes } from "./units.ts";

// How often the bar polls the engine's counters while compaction runs.
const POLL_MS = 100;

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
      // The engine reports no progress of its own; the bytes compaction has
      // read, against what is on disk, are a fair estimate of a full one.
      const total = before.diskBytes + before.memtableBytes;
      const bar = new ProgressBar("compact", total, "bytes", interactive);
      const timer = interactive
        ? setInterval(() => {
          const read = db.stats().compactions.bytesRead -
            before.compactions.bytesRead;
          bar.update(Math.min(read, total));
        }, POLL_MS)
        : undefined;
      const t0 = performance.now();
      try {
        await db.compact(range);
      } finally {
        clearInterval(timer);
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
