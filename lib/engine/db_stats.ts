/**
 * The figures `DB.stats()` reports, gathered from a database's state.
 *
 * @module
 */

import { maxBytesForLevel } from "../compaction/compaction.ts";
import { NUM_LEVELS } from "../manifest/version.ts";
import { join } from "node:path";
import type { EngineState } from "./engine_state.ts";

/** Per-level figures of {@link DBStats}. */
export interface LevelStats {
  /** Level number. */
  level: number;
  /** Table files in the level. */
  files: number;
  /** Bytes of those files. */
  bytes: number;
  /** The size the level is compacted down to (level 0: bytes at its trigger). */
  targetBytes: number;
}

/**
 * Figures of a database's whole life, which the manifest keeps across
 * opens: recorded with every flush and compaction and at close (after a
 * crash, they lack what happened since the last of those).
 */
export interface LifetimeStats {
  /** Compaction work. */
  compactions: { count: number; bytesRead: number; bytesWritten: number };
  /** Memtables flushed to level-0 tables. */
  flushes: number;
  /** Bytes of keys and values written by callers. */
  userBytes: number;
  /** Bytes written to disk: WALs, flushes, compactions. */
  bytesWritten: number;
  /** `bytesWritten` per byte of user data. */
  writeAmplification: number;
  /** WAL syncs (group commit shares them). */
  walSyncs: number;
}

/**
 * What `DB.stats()` reports. `compactions`, `writeAmplification`, `cache`
 * and `walSyncs` count from the time of `open`; `lifetime` holds the same
 * kind of figures over the database's whole life.
 */
export interface DBStats {
  /** One entry per level, 0 to 6. */
  levels: LevelStats[];
  /** Bytes in the mutable and immutable memtables. */
  memtableBytes: number;
  /** Bytes in the live WAL. */
  walBytes: number;
  /** Bytes of every file in the database directory. */
  diskBytes: number;
  /** The last sequence number issued. */
  sequence: number;
  /** Compaction work since open. */
  compactions: { count: number; bytesRead: number; bytesWritten: number };
  /** Memtables flushed since open, and the bytes of their tables. */
  flushes: { count: number; bytesWritten: number };
  /** Bytes written to disk (WAL, flushes, compactions) per byte of user data since open. */
  writeAmplification: number;
  /** Block cache figures. */
  cache: { hits: number; misses: number; bytes: number; capacity: number };
  /** WAL syncs issued since open (group commit shares them). */
  walSyncs: number;
  /** Range tombstones in force (in memtables and in the version). */
  rangeTombstones: number;
  /** Figures of the database's whole life (see {@link LifetimeStats}). */
  lifetime: LifetimeStats;
}

/**
 * Gathers the figures of an open database.
 *
 * @param state The database's state.
 * @returns A plain object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * await using db = await DB.open(":memory:");
 * await db.put("k", "v");
 * assert.equal(db.stats().sequence, 1); // DB.stats() calls collectStats
 * ```
 */
export function collectStats(state: EngineState): DBStats {
  const { options, fs, dir, counters } = state;
  const version = state.versions.current;
  const levels: LevelStats[] = [];
  for (let level = 0; level < NUM_LEVELS; level++) {
    levels.push({
      level,
      files: version.files(level).length,
      bytes: version.levelBytes(level),
      targetBytes: level === 0
        ? options.l0CompactionTrigger * options.memtableSize
        : maxBytesForLevel(level, options),
    });
  }
  let diskBytes = 0;
  for (const name of fs.listSync(dir)) {
    const info = fs.stat(join(dir, name));
    if (info?.isFile) diskBytes += info.size;
  }
  const written = counters.walBytesWritten + counters.flushBytesWritten +
    counters.compactionBytesWritten;
  const cache = state.blockCache.stats;
  return {
    levels,
    memtableBytes: state.imms.reduce(
      (n, imm) => n + imm.mem.approximateBytes,
      state.mem.approximateBytes,
    ),
    walBytes: state.imms.reduce(
      (n, imm) => n + imm.wal.size,
      state.wal?.size ?? 0,
    ),
    diskBytes,
    sequence: state.lastSequence,
    compactions: {
      count: counters.compactionCount,
      bytesRead: counters.compactionBytesRead,
      bytesWritten: counters.compactionBytesWritten,
    },
    flushes: {
      count: counters.flushCount,
      bytesWritten: counters.flushBytesWritten,
    },
    writeAmplification: counters.userBytes === 0
      ? 0
      : written / counters.userBytes,
    cache: {
      hits: cache.hits,
      misses: cache.misses,
      bytes: cache.bytes,
      capacity: options.blockCacheSize,
    },
    walSyncs: state.walSyncsSinceOpen(),
    rangeTombstones: state.imms.reduce(
      (n, imm) => n + imm.mem.rangeTombstones.length,
      state.mem.rangeTombstones.length + version.rangeTombstones.length,
    ),
    lifetime: lifetimeStats(state),
  };
}

function lifetimeStats(state: EngineState): LifetimeStats {
  const t = state.lifetimeTotals();
  const bytesWritten = t.walBytesWritten + t.flushBytesWritten +
    t.compactionBytesWritten;
  return {
    compactions: {
      count: t.compactionCount,
      bytesRead: t.compactionBytesRead,
      bytesWritten: t.compactionBytesWritten,
    },
    flushes: t.flushCount,
    userBytes: t.userBytes,
    bytesWritten,
    writeAmplification: t.userBytes === 0 ? 0 : bytesWritten / t.userBytes,
    walSyncs: t.walSyncs,
  };
}
