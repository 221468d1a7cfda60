/**
 * The picture `strata stats` draws: one line per level with its files,
 * bytes and a bar scaled to the level's target size, then memtable, WAL,
 * amplification and block-cache hit rate.
 *
 * ```
 * level  files       bytes    target  fill
 * L0         2    7.94 MiB  16.0 MiB  [##########..........]  50%
 * L1         4    9.71 MiB  10.0 MiB  [###################.]  97%
 * L2         0         0 B   100 MiB  [....................]   0%
 * ```
 *
 * @module
 */

import type { DBStats } from "../mod.ts";
import { formatBytes, formatCount } from "../lib/util/units.ts";

// Wide enough to show a few percent, narrow enough for an 80-column screen.
const BAR_WIDTH = 20;

/**
 * Draws a bar of `BAR_WIDTH` cells filled in proportion to `fraction`; a
 * level over its target gets a full bar ending in `!`.
 *
 * @param fraction Fill, 0 = empty, 1 = full.
 * @returns The bar between brackets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillBar } from "./stats_picture.ts";
 * assert(fillBar(0.5) === "[##########..........]");
 * assert(fillBar(2).endsWith("!]"));
 * ```
 */
export function fillBar(fraction: number): string {
  if (fraction > 1) return `[${"#".repeat(BAR_WIDTH - 1)}!]`;
  const filled = Math.round(Math.max(0, fraction) * BAR_WIDTH);
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
}

/**
 * Renders database statistics as the text of `strata stats`.
 *
 * @param stats What `db.stats()` returned.
 * @returns Lines of text (no trailing newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderStats } from "./stats_picture.ts";
 * const text = renderStats({
 *   levels: [{ level: 0, files: 1, bytes: 2048, targetBytes: 4096 }],
 *   memtableBytes: 10, walBytes: 20, diskBytes: 2068, sequence: 3,
 *   compactions: { count: 0, bytesRead: 0, bytesWritten: 0 },
 *   flushes: { count: 1, bytesWritten: 2048 },
 *   writeAmplification: 1,
 *   cache: { hits: 3, misses: 1, bytes: 100, capacity: 1000 },
 *   walSyncs: 0, rangeTombstones: 0,
 *   lifetime: {
 *     compactions: { count: 2, bytesRead: 4096, bytesWritten: 2048 },
 *     flushes: 3, userBytes: 1000, bytesWritten: 3000, writeAmplification: 3, walSyncs: 5,
 *   },
 * });
 * assert(text.includes("L0") && text.includes("75.0%"));
 * ```
 */
export function renderStats(stats: DBStats): string {
  const lines: string[] = [];
  lines.push("level  files       bytes    target  fill");
  let lastLevelBytes = 0;
  for (const l of stats.levels) {
    const target = l.targetBytes > 0 ? formatBytes(l.targetBytes) : "-";
    const fraction = l.targetBytes > 0 ? l.bytes / l.targetBytes : 0;
    const bar = l.targetBytes > 0
      ? `${fillBar(fraction)} ${(fraction * 100).toFixed(0).padStart(3)}%`
      : "";
    lines.push(
      `L${l.level}`.padEnd(5) + formatCount(l.files).padStart(7) +
        formatBytes(l.bytes).padStart(12) + target.padStart(10) + "  " + bar,
    );
    if (l.bytes > 0) lastLevelBytes = l.bytes;
  }
  lines.push("");
  lines.push(
    `memtable ${formatBytes(stats.memtableBytes)}   WAL ${
      formatBytes(stats.walBytes)
    }   disk ${formatBytes(stats.diskBytes)}   sequence ${
      formatCount(stats.sequence)
    }`,
  );
  const c = stats.compactions;
  lines.push(
    `compactions since open ${formatCount(c.count)}: read ${
      formatBytes(c.bytesRead)
    }, wrote ${formatBytes(c.bytesWritten)}`,
  );
  // Space amplification as RocksDB estimates it: all bytes on disk over the
  // bytes of the deepest non-empty level, which holds most live data.
  const space = lastLevelBytes > 0
    ? (stats.diskBytes / lastLevelBytes).toFixed(2)
    : "-";
  lines.push(
    `amplification since open: write ${
      stats.writeAmplification.toFixed(2)
    }, space ${space}`,
  );
  const life = stats.lifetime;
  lines.push(
    `over its lifetime: ${formatCount(life.flushes)} flushes, ${
      formatCount(life.compactions.count)
    } compactions (read ${formatBytes(life.compactions.bytesRead)}, wrote ${
      formatBytes(life.compactions.bytesWritten)
    }), write amplification ${life.writeAmplification.toFixed(2)}, ${
      formatCount(life.walSyncs)
    } WAL syncs`,
  );
  if (stats.rangeTombstones > 0) {
    lines.push(`range deletes in force ${formatCount(stats.rangeTombstones)}`);
  }
  const reads = stats.cache.hits + stats.cache.misses;
  const rate = reads > 0
    ? `${(stats.cache.hits / reads * 100).toFixed(1)}%`
    : "-";
  lines.push(
    `block cache since open: ${rate} hits (${
      formatCount(stats.cache.hits)
    } of ${formatCount(reads)} reads), ${formatBytes(stats.cache.bytes)} of ${
      formatBytes(stats.cache.capacity)
    }`,
  );
  return lines.join("\n");
}
