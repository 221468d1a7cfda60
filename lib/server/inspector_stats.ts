/**
 * The inspector's figures: one snapshot of the engine's state, shaped for
 * the page (labelled, formatted figures) and for `GET /inspector/stats`
 * (the same, as JSON, with the raw `DB.stats()` beside them). The server
 * formats every figure, so the page's script only places text and never
 * needs a copy of the formatting rules.
 *
 * @module
 */

import type { DBStats } from "../engine/db_stats.ts";
import type { Kv } from "../kv/kv.ts";
import { coreOf } from "../kv/kv.ts";
import { formatBytes, formatCount } from "./inspector_html.ts";
import {
  fileRows,
  levelPicture,
  type LevelTables,
  levelTables,
  shapeVersion,
} from "./inspector_levels.ts";

/**
 * One labelled figure of the page's header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Figure } from "./inspector_stats.ts";
 * const f: Figure = {
 *   id: "sequence",
 *   label: "Sequence",
 *   value: "1,024",
 *   detail: "last sequence number",
 * };
 * assert.ok(f.value);
 * ```
 */
export interface Figure {
  /** Stable name, the page's `data-figure` attribute. */
  id: string;
  /** What it is, for people. */
  label: string;
  /** The figure, formatted. */
  value: string;
  /** A line of detail under it. */
  detail: string;
}

/**
 * What `GET /inspector/stats` answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "../kv/open_kv.ts";
 * import { type StatsSnapshot, statsSnapshot } from "./inspector_stats.ts";
 * await using kv = await openKv(":memory:");
 * const s: StatsSnapshot = statsSnapshot(kv);
 * assert.equal(s.path, ":memory:");
 * ```
 */
export interface StatsSnapshot {
  /** The database directory. */
  path: string;
  /** When the figures were taken, in ms since the epoch (server clock). */
  time: number;
  /** Fingerprint of the live files (see `shapeVersion`). */
  version: string;
  /** `DB.stats()`, as the engine reports it. */
  stats: DBStats;
  /** The figures, formatted for the page. */
  figures: Figure[];
  /** Per level, the tables with decoded key ranges (only when asked). */
  tables?: LevelTables;
  /** The level picture, SVG (only when asked). */
  picture?: string;
  /** The file table's rows, HTML (only when asked). */
  files?: string;
}

/**
 * Takes one snapshot of the database's figures.
 *
 * @param kv The served database.
 * @param knownVersion The shape the page already draws: when it is still
 *   current, the picture, the file rows and the tables are left out (they
 *   are the bulk of the answer and change only with flushes and
 *   compactions).
 * @returns The snapshot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "../kv/open_kv.ts";
 * import { statsSnapshot } from "./inspector_stats.ts";
 * await using kv = await openKv(":memory:");
 * await kv.set(["a"], 1);
 * const s = statsSnapshot(kv);
 * assert(s.stats.sequence >= 1);
 * assert.match(s.picture!, /^<svg/);
 * assert.equal(statsSnapshot(kv, s.version).picture, undefined);
 * ```
 */
export function statsSnapshot(kv: Kv, knownVersion?: string): StatsSnapshot {
  const db = coreOf(kv).db;
  const stats = db.stats();
  const version = shapeVersion(db);
  const snapshot: StatsSnapshot = {
    path: db.path,
    time: Date.now(),
    version,
    stats,
    figures: figures(stats),
  };
  if (knownVersion !== version) {
    const tables = levelTables(db.levelFiles());
    snapshot.tables = tables;
    snapshot.picture = levelPicture(stats.levels, tables);
    snapshot.files = fileRows(tables);
  }
  return snapshot;
}

/**
 * The header's figures, formatted.
 *
 * @param stats `DB.stats()`.
 * @returns One figure each for writes, sequence, disk, memtable, WAL,
 *   WAL syncs, compactions, write amplification and cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "../engine/db.ts";
 * import { figures } from "./inspector_stats.ts";
 * await using db = await DB.open(":memory:");
 * const f = figures(db.stats());
 * assert.equal(f.find((x) => x.id === "cache")?.value, "—");
 * ```
 */
export function figures(stats: DBStats): Figure[] {
  const { cache, compactions } = stats;
  const lookups = cache.hits + cache.misses;
  const tables = stats.levels.reduce((n, l) => n + l.files, 0);
  const tableBytes = stats.levels.reduce((n, l) => n + l.bytes, 0);
  return [
    // Filled in by the page's script, from the change in sequence numbers.
    {
      id: "rate",
      label: "Writes/s",
      value: "—",
      detail: "live, from the sequence",
    },
    {
      id: "sequence",
      label: "Sequence",
      value: formatCount(stats.sequence),
      detail: "last sequence number",
    },
    {
      id: "disk",
      label: "On disk",
      value: formatBytes(stats.diskBytes),
      detail: `${formatCount(tables)} tables, ${formatBytes(tableBytes)}`,
    },
    {
      id: "memtable",
      label: "Memtable",
      value: formatBytes(stats.memtableBytes),
      detail: "mutable and immutable",
    },
    {
      id: "wal",
      label: "WAL",
      value: formatBytes(stats.walBytes),
      detail: "in the live log",
    },
    {
      id: "walSyncs",
      label: "WAL syncs",
      value: formatCount(stats.walSyncs),
      detail: "since open",
    },
    {
      id: "compactions",
      label: "Compactions",
      value: formatCount(compactions.count),
      detail: `read ${formatBytes(compactions.bytesRead)}, wrote ${
        formatBytes(compactions.bytesWritten)
      }`,
    },
    {
      id: "amplification",
      label: "Write amplification",
      value: stats.writeAmplification.toFixed(2) + "×",
      detail: "disk bytes per user byte",
    },
    {
      id: "cache",
      label: "Cache hit rate",
      value: lookups === 0
        ? "—"
        : `${(100 * cache.hits / lookups).toFixed(1)}%`,
      detail: `${formatCount(cache.hits)} hits, ${
        formatCount(cache.misses)
      } misses; ${formatBytes(cache.bytes)} of ${formatBytes(cache.capacity)}`,
    },
  ];
}
