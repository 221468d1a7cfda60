/**
 * `strata stats <db>`: levels, sizes, amplification and cache.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { openDatabase } from "./open_database.ts";
import { Output } from "./output.ts";
import { renderStats } from "./stats_picture.ts";

/** The `stats` command. */
export const statsCommand: Command = {
  name: "stats",
  args: "<db>",
  arity: [1, 1],
  summary: "show levels, sizes, amplification and cache",
  description: [
    "Shows one line per level (files, bytes, and a bar of the level's size",
    "against its target), then the memtable, the WAL, write and space",
    "amplification and the block cache hit rate. --json prints the",
    "statistics as one JSON document.",
  ].join("\n"),
  options: {
    json: { type: "boolean", help: "print one JSON document" },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const db = await openDatabase(path, "read");
    let stats;
    try {
      stats = db.stats();
    } finally {
      await db.close();
    }
    const out = new Output();
    if (args.flags.has("json")) {
      out.line(JSON.stringify(stats, null, 2));
    } else {
      out.line(`Database "${path}"`);
      out.line("");
      out.line(renderStats(stats));
    }
    out.flush();
    return 0;
  },
};
