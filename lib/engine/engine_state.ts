/**
 * The state one open database shares between its parts: the write path
 * (lib/engine/write_path.ts), the read path (read_path.ts), background
 * work (background_work.ts), the obsolete-file sweeper (obsolete_files.ts)
 * and the {@link DB} facade. LevelDB keeps the same in one `DBImpl`; here
 * it is one plain object that each part is handed, so that each part can
 * live in a file of its own.
 *
 * @module
 */

import type { Fs } from "../fs/fs.ts";
import type { CompactionRunner } from "../compaction/compaction_runner.ts";
import type { VersionSet } from "../manifest/version_set.ts";
import type { MemTable } from "../memtable/memtable.ts";
import type { MemTablePool } from "../memtable/memtable_pool.ts";
import type { BlockCache } from "../sstable/block_cache.ts";
import type { TableCache } from "../sstable/table_cache.ts";
import { ClosedError, StrataError } from "../util/errors.ts";
import { Signal } from "../util/signal.ts";
import type { WalWriter } from "../wal/wal.ts";
import type { ResolvedOptions } from "./options.ts";
import { SnapshotList } from "./snapshot.ts";

/** A promise that is already resolved, shared so hot paths allocate none. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A full memtable waiting for its flush, with the WAL that holds it. */
export interface ImmutableMemTable {
  /** The memtable. */
  mem: MemTable;
  /** Its WAL, closed (and so synced) once the memtable is flushed. */
  wal: WalWriter;
  /** That WAL's file number. */
  walNumber: number;
}

/** Byte and event counters since open, for `stats()`. */
export interface EngineCounters {
  /** Bytes of keys and values written by callers. */
  userBytes: number;
  /** Bytes appended to WALs. */
  walBytesWritten: number;
  /** Bytes of level-0 tables written by flushes. */
  flushBytesWritten: number;
  /** Compactions that wrote tables. */
  compactionCount: number;
  /** Bytes those compactions read. */
  compactionBytesRead: number;
  /** Bytes those compactions wrote. */
  compactionBytesWritten: number;
  /** WAL syncs of WALs retired since open. */
  walSyncsBefore: number;
  /** Memtables flushed to level-0 tables. */
  flushCount: number;
}

/**
 * The counters of a database's whole life, as the manifest keeps them
 * (names are the manifest's `lifetime` keys).
 */
export interface LifetimeCounters {
  /** Bytes of keys and values written by callers. */
  userBytes: number;
  /** Bytes appended to WALs. */
  walBytesWritten: number;
  /** WAL syncs. */
  walSyncs: number;
  /** Memtables flushed. */
  flushCount: number;
  /** Bytes of level-0 tables written by flushes. */
  flushBytesWritten: number;
  /** Compactions that wrote tables. */
  compactionCount: number;
  /** Bytes those compactions read. */
  compactionBytesRead: number;
  /** Bytes those compactions wrote. */
  compactionBytesWritten: number;
}

const LIFETIME_KEYS: readonly (keyof LifetimeCounters)[] = [
  "userBytes",
  "walBytesWritten",
  "walSyncs",
  "flushCount",
  "flushBytesWritten",
  "compactionCount",
  "compactionBytesRead",
  "compactionBytesWritten",
];

/** Everything the engine's parts need to build a {@link EngineState}. */
export interface EngineParts {
  /** The path as the caller gave it (for messages). */
  path: string;
  /** The absolute directory. */
  dir: string;
  /** The checked open options. */
  options: ResolvedOptions;
  /** The recovered version set. */
  versions: VersionSet;
  /** The block cache. */
  blockCache: BlockCache;
  /** The open table readers. */
  tables: TableCache;
  /** Where flushes and compactions run. */
  runner: CompactionRunner;
  /** Memory for memtables. */
  memPool: MemTablePool;
  /** The memtable recovery filled. */
  mem: MemTable;
}

/**
 * The shared state of one open database (see the module documentation).
 * Internal: fields are read and written by the engine's parts directly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * await using db = await DB.open(":memory:");
 * assert.equal(db.stats().sequence, 0); // the state behind the facade
 * ```
 */
export class EngineState {
  /** The path as the caller gave it. */
  readonly path: string;
  /** The absolute database directory. */
  readonly dir: string;
  /** The filesystem it lives on. */
  readonly fs: Fs;
  /** The checked open options. */
  readonly options: ResolvedOptions;
  /** Versions, counters and the manifest. */
  readonly versions: VersionSet;
  /** The block cache. */
  readonly blockCache: BlockCache;
  /** Open table readers. */
  readonly tables: TableCache;
  /** Where flushes and compactions run (the Worker, or the main thread). */
  readonly runner: CompactionRunner;
  /** Live snapshots. */
  readonly snapshots: SnapshotList = new SnapshotList();
  /** Memory of flushed memtables, for the next ones. */
  readonly memPool: MemTablePool;
  /** Background work changed something: waiting writers look again. */
  readonly changed: Signal = new Signal();
  /** Table numbers being written and not yet in a version: not obsolete. */
  readonly pendingOutputs: Set<number> = new Set();
  /** Counters since open. */
  readonly counters: EngineCounters = {
    userBytes: 0,
    walBytesWritten: 0,
    flushBytesWritten: 0,
    compactionCount: 0,
    compactionBytesRead: 0,
    compactionBytesWritten: 0,
    walSyncsBefore: 0,
    flushCount: 0,
  };
  /** The lifetime counters as the manifest had them at open. */
  readonly lifetimeAtOpen: LifetimeCounters;

  /** The memtable writes go to. */
  mem: MemTable;
  /**
   * Full memtables waiting to be flushed, oldest first: a burst of writes
   * rotates into another one instead of stalling behind a flush.
   */
  imms: ImmutableMemTable[] = [];
  /** The live WAL (undefined until recovery made one; readOnly: never). */
  wal: WalWriter | undefined = undefined;
  /** The live WAL's file number. */
  walNumber = 0;
  /**
   * A log file recovery replayed whole, which the first WAL of this open
   * may reuse (`WalWriter.recycle`) once it is obsolete.
   */
  recyclableLog: string | undefined = undefined;
  /**
   * close() wrote the live memtable to a table: the live WAL holds nothing
   * needed, and the final sweep deletes it too.
   */
  walRetired = false;
  /** The last sequence number issued. */
  lastSequence: number;
  /**
   * What a durable write to the live WAL waits for besides that WAL's own
   * sync: the final sync of every older WAL and the new WAL's directory
   * entry. Recovery stops at the first torn record and drops the logs after
   * it, so a durable write must never be acknowledged while a log it
   * follows could still be torn by a power loss.
   */
  walReady: Promise<void> = RESOLVED;
  /** close() has begun. */
  closing = false;
  /**
   * No compaction starts or continues (set by close once it has given the
   * compactions under way their time, or at once for a read-only close).
   */
  compactionsStopped = false;
  /** close() has finished. */
  closed = false;
  /** The first disk failure: writes are refused from then on. */
  bgError: unknown = undefined;

  /**
   * @param parts What the open assembled.
   */
  constructor(parts: EngineParts) {
    this.path = parts.path;
    this.dir = parts.dir;
    this.fs = parts.options.fs;
    this.options = parts.options;
    this.versions = parts.versions;
    this.blockCache = parts.blockCache;
    this.tables = parts.tables;
    this.runner = parts.runner;
    this.memPool = parts.memPool;
    this.mem = parts.mem;
    this.lastSequence = parts.versions.lastSequence;
    const recorded = parts.versions.lifetime;
    const base = {} as LifetimeCounters;
    for (const key of LIFETIME_KEYS) base[key] = recorded[key] ?? 0;
    this.lifetimeAtOpen = base;
  }

  /** WAL syncs since open: of the retired WALs and of the live one. */
  walSyncsSinceOpen(): number {
    return this.counters.walSyncsBefore + (this.wal?.syncCount ?? 0);
  }

  /**
   * The database's lifetime counters now: those recorded at open plus
   * what happened since.
   *
   * @returns Fresh totals.
   */
  lifetimeTotals(): LifetimeCounters {
    const c = this.counters;
    const since: LifetimeCounters = {
      userBytes: c.userBytes,
      walBytesWritten: c.walBytesWritten,
      walSyncs: this.walSyncsSinceOpen(),
      flushCount: c.flushCount,
      flushBytesWritten: c.flushBytesWritten,
      compactionCount: c.compactionCount,
      compactionBytesRead: c.compactionBytesRead,
      compactionBytesWritten: c.compactionBytesWritten,
    };
    const totals = {} as LifetimeCounters;
    for (const key of LIFETIME_KEYS) {
      totals[key] = this.lifetimeAtOpen[key] + since[key];
    }
    return totals;
  }

  /** Throws {@link ClosedError} once closing has begun. */
  checkOpen(): void {
    if (this.closed || this.closing) {
      throw new ClosedError(`Database "${this.path}" is closed`);
    }
  }

  /** Throws unless writes are allowed: open, not readOnly, no disk failure. */
  checkWritable(): void {
    this.checkOpen();
    if (this.options.readOnly) {
      throw new StrataError(
        "READ_ONLY",
        `Cannot write to database "${this.path}": it was opened readOnly`,
      );
    }
    if (this.bgError !== undefined) {
      throw new StrataError(
        "BACKGROUND_ERROR",
        `Database "${this.path}" refuses writes after a failure: ${
          errorMessage(this.bgError).replace(/^strata: /, "")
        } (reads still work; reopen the database to recover)`,
        { cause: this.bgError },
      );
    }
  }

  /** Records the first failure of background work (or of a WAL). */
  setBackgroundError(err: unknown): void {
    if (this.closing) return;
    this.bgError ??= err;
  }

  /** A new file number for a table being written, kept from the sweeper. */
  newOutputNumber(): number {
    const n = this.versions.newFileNumber();
    this.pendingOutputs.add(n);
    return n;
  }
}

/**
 * The message of anything thrown.
 *
 * @param err What was caught.
 * @returns Its message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorMessage } from "./engine_state.ts";
 * assert.equal(errorMessage(new Error("x")), "x");
 * assert.equal(errorMessage("y"), "y");
 * ```
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
