/**
 * The engine: {@link DB} ties the memtable, WAL, tables, manifest and
 * compaction into one key–value store.
 *
 * Write path: validate and copy → next sequence number → one WAL record
 * (handed to the OS with a sync write) → memtable; `sync: true` then waits
 * for a shared `fdatasync` (group commit). A full memtable becomes immutable
 * behind a fresh WAL and is flushed to a level-0 table in the background.
 *
 * Read path: memtable, immutable memtables, level-0 tables newest first, then
 * one table per deeper level; bloom filters skip tables that cannot hold the
 * key. Scans merge every source into one ordered stream.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import type { Fs } from "../fs/fs.ts";
import { MemFs } from "../fs/mem_fs.ts";
import { inspectDirectory } from "./database_directory.ts";
import { copyBytes, copyResult } from "../memtable/arena.ts";
import { BlockCache } from "../sstable/block_cache.ts";
import { compareBytes, hasPrefix } from "../util/bytes.ts";
import {
  type CompactionPlan,
  compactionScores,
  isTrivialMove,
  keyRange,
  l0StopWrites,
  maxBytesForLevel,
  pickCompaction,
  planForInputs,
  targetFileSize,
} from "../compaction/compaction.ts";
import {
  ClosedError,
  ExistsError,
  InvalidArgumentError,
  IOError,
  NotFoundError,
  StrataError,
} from "../util/errors.ts";
import { logFileName, parseFileName } from "../util/filenames.ts";
import {
  type EntryType,
  type InternalIterator,
  TYPE_DELETE,
  TYPE_PUT,
} from "../iterator/internal_key.ts";
import { outputNumbersNeeded } from "../compaction/compaction_job.ts";
import { CompactionRunner } from "../compaction/compaction_runner.ts";
import { failpoint } from "../util/failpoints.ts";
import { LevelIterator } from "../manifest/level_iterator.ts";
import { DirectoryLock } from "./lock.ts";
import { MemTable, MEMTABLE_CHUNK_BYTES } from "../memtable/memtable.ts";
import { MemTablePool } from "../memtable/memtable_pool.ts";
import { type RecoveryReport, replayLogs } from "./recovery.ts";
import { MergingIterator } from "../iterator/merging_iterator.ts";
import {
  describe,
  type OpenOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import { Snapshot, SnapshotList } from "./snapshot.ts";
import { TableCache } from "../sstable/table_cache.ts";
import {
  type Entry,
  planScan,
  type ScanOptions,
  type ScanPlan,
} from "./scan_plan.ts";
import { UserIterator } from "../iterator/user_iterator.ts";
import { yieldToEventLoop } from "../util/yield.ts";
import {
  type FileMeta,
  findFile,
  NUM_LEVELS,
  type Version,
  type VersionEdit,
} from "../manifest/version.ts";
import { syncDir, VersionSet } from "../manifest/version_set.ts";
import {
  forEachWalEntry,
  WAL_RECORD_HEADER_SIZE,
  WalWriter,
} from "../wal/wal.ts";
import {
  type Bytes,
  toBound,
  toLookupKey,
  toValueView,
  WriteBatch,
} from "./write_batch.ts";

export type { Bytes } from "./write_batch.ts";
export type { OpenOptions } from "./options.ts";
export type { Entry, ScanOptions } from "./scan_plan.ts";
export type { RecoveryReport } from "./recovery.ts";

/** Options of a single write. */
export interface WriteOptions {
  /**
   * Wait until the write is on stable storage (`fdatasync`) before
   * resolving. Defaults to the database's `sync` open option.
   */
  sync?: boolean;
}

/** Options of a point read. */
export interface ReadOptions {
  /** Read the database as of this snapshot. */
  snapshot?: Snapshot;
}

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

/** What {@link DB.stats} reports. Counters run from the time of `open`. */
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
  /** Bytes written to disk (WAL, flushes, compactions) per byte of user data since open. */
  writeAmplification: number;
  /** Block cache figures. */
  cache: { hits: number; misses: number; bytes: number; capacity: number };
  /** WAL syncs issued since open (group commit shares them). */
  walSyncs: number;
}

const EMPTY = new Uint8Array(0);
/** The path that opens a fresh database in memory (a new `MemFs`). */
export const MEMORY_PATH = ":memory:";
/** Tables opened by `DB.open` itself (about 1 GB at the default sizes). */
const EAGER_TABLES = 500;
const RESOLVED: Promise<void> = Promise.resolve();
/**
 * Full memtables that may wait for a flush before writes stall. Three
 * rather than two absorb the first flushes of a freshly started worker,
 * which run two to four times slower until its JIT warms up: fillbatch
 * went from about 766,000 to 835,000 entries/s (bench:peers, 3 runs each).
 */
const MAX_IMMUTABLE = 3;

/** A waitable signal that background work changed something. */
class Signal {
  #waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * A Strata database: an LSM-tree key–value store in one directory.
 *
 * @example Put, get, scan, close
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * const dir = await Deno.makeTempDir();
 * const db = await DB.open(dir);
 * await db.put("user:1", "Ada");
 * await db.put("user:2", "Grace");
 * assert(new TextDecoder().decode(await db.get("user:1")) === "Ada");
 * for await (const { key } of db.scan({ prefix: "user:" })) {
 *   console.log(new TextDecoder().decode(key));
 * }
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DB implements AsyncDisposable {
  /** The database directory, as given to {@link DB.open}. */
  readonly path: string;
  /** What recovery found when the database was opened. */
  readonly recovery: RecoveryReport;

  readonly #dir: string;
  readonly #fs: Fs;
  readonly #options: ResolvedOptions;
  readonly #lock: DirectoryLock;
  readonly #versions: VersionSet;
  readonly #blockCache: BlockCache;
  readonly #tables: TableCache;
  readonly #compactions: CompactionRunner;
  readonly #snapshots = new SnapshotList();
  /** Memory of flushed memtables, for the next ones. */
  readonly #memPool: MemTablePool;
  readonly #changed = new Signal();
  /** Table numbers being written and not yet in a version: not obsolete. */
  readonly #pendingOutputs = new Set<number>();

  #mem: MemTable;
  /**
   * Full memtables waiting to be flushed, oldest first, each with the WAL
   * that holds its entries. Up to {@link MAX_IMMUTABLE}: a burst of writes
   * rotates into a second one instead of stalling behind a flush.
   */
  #imms: { mem: MemTable; wal: WalWriter; walNumber: number }[] = [];
  #wal: WalWriter | undefined;
  #walNumber = 0;
  #lastSequence: number;
  #closed = false;
  #closing = false;
  #bgError: unknown;
  #flushing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  #compactionLock: Promise<void> = Promise.resolve();
  #manualCompactions = 0;
  #walSyncsBefore = 0;
  #opsSinceYield = 0;
  /** Writers waiting in {@link DB.#makeRoomForWrite}. */
  #stalledWriters = 0;
  /** The event-loop turn callers are waiting for, while one is due. */
  #turn: Promise<void> | undefined;
  #rotating: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #sweeps: Promise<void> = RESOLVED;
  /** The sweep waiting behind {@link DB.#sweeps}, not started yet. */
  #sweepQueued: Promise<void> | undefined;
  /**
   * What a durable write to the live WAL waits for besides that WAL's own
   * sync: the final sync of every older WAL and the new WAL's directory
   * entry. Recovery stops at the first torn record and drops the logs after
   * it, so a durable write must never be acknowledged while a log it
   * follows could still be torn by a power loss.
   */
  #walReady: Promise<void> = RESOLVED;

  #userBytes = 0;
  #walBytesWritten = 0;
  #flushBytesWritten = 0;
  #compactionCount = 0;
  #compactionBytesRead = 0;
  #compactionBytesWritten = 0;

  private constructor(
    path: string,
    dir: string,
    options: ResolvedOptions,
    lock: DirectoryLock,
    versions: VersionSet,
    blockCache: BlockCache,
    memPool: MemTablePool,
    mem: MemTable,
    recovery: RecoveryReport,
  ) {
    this.path = path;
    this.#dir = dir;
    this.#options = options;
    this.#lock = lock;
    this.#versions = versions;
    this.#blockCache = blockCache;
    this.#fs = options.fs;
    this.#tables = new TableCache(dir, blockCache, options.fs);
    this.#compactions = new CompactionRunner(this.#tables, {
      spareImageBytes: 2 * options.memtableSize,
      useWorker: options.backgroundWorker,
      fs: options.fs,
    });
    this.#memPool = memPool;
    this.#mem = mem;
    this.#lastSequence = versions.lastSequence;
    this.recovery = recovery;
  }

  /**
   * Opens (or creates) the database in directory `path`. Recovery replays
   * the WALs that no table covers yet, keeping everything up to the first
   * torn or corrupt record (see {@link DB.recovery}).
   *
   * @param path Database directory.
   * @param options Open options.
   * @returns The open database.
   * @throws {NotFoundError} No database there and `createIfMissing` is false
   * (or `readOnly` is true).
   * @throws {ExistsError} A database is there and `errorIfExists` is true.
   * @throws {LockedError} Another handle or process has it open.
   * @throws {CorruptionError} The manifest or a table is damaged.
   * @throws {InvalidArgumentError} Bad options.
   */
  static async open(path: string, options?: OpenOptions): Promise<DB> {
    if (typeof path !== "string" || path.length === 0) {
      throw new InvalidArgumentError(
        `Invalid database path ${describe(path)}: expected a non-empty string`,
      );
    }
    const opts = resolveOptions(options);
    let dir: string;
    if (path === MEMORY_PATH) {
      if (options?.fs !== undefined) {
        throw new InvalidArgumentError(
          `Invalid option "fs": a "${MEMORY_PATH}" database makes its own`,
        );
      }
      opts.fs = new MemFs();
      dir = "/memory";
    } else {
      dir = resolve(path);
    }
    try {
      return await DB.#open(path, dir, opts);
    } catch (err) {
      if (err instanceof StrataError) throw err;
      // A filesystem error nothing above expected: say where it happened.
      throw new StrataError(
        "IO_ERROR",
        `Cannot open database "${path}": ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  static async #open(
    path: string,
    dir: string,
    opts: ResolvedOptions,
  ): Promise<DB> {
    const fs = opts.fs;
    // Decide before touching the directory, so a refused open changes nothing.
    const before = inspectDirectory(fs, dir);
    if (
      before.kind !== "database" && (!opts.createIfMissing || opts.readOnly)
    ) {
      throw new NotFoundError(
        `Cannot open database "${path}": it does not exist` +
          (opts.readOnly
            ? " (readOnly never creates one)"
            : " and createIfMissing is false"),
      );
    }
    if (before.kind === "database" && opts.errorIfExists) {
      throw new ExistsError(
        `Cannot create database "${path}": it exists already`,
      );
    }
    if (!fs.stat(dir)?.isDirectory) {
      await fs.mkdir(dir);
      // The new directory's name is durable only once its parent is synced.
      await syncDir(fs, dirname(dir));
    }
    const lock = DirectoryLock.acquire(dir, fs);
    let versions: VersionSet | undefined;
    try {
      // Re-check under the lock: another process may have created it.
      const state = inspectDirectory(fs, dir);
      if (state.kind === "database" && opts.errorIfExists) {
        throw new ExistsError(
          `Cannot create database "${path}": it exists already`,
        );
      }
      if (state.kind === "unfinished") {
        // A crash cut a creation short: nothing in it was ever acknowledged.
        for (const name of state.leftovers) await fs.remove(join(dir, name));
        await syncDir(fs, dir);
      }
      versions = state.kind === "database"
        ? await VersionSet.recover(dir, { readOnly: opts.readOnly, fs })
        : await VersionSet.create(dir, fs);
      const blockCache = new BlockCache(opts.blockCacheSize);
      const memPool = new MemTablePool(opts.memtableSize, MEMTABLE_CHUNK_BYTES);
      const { mem, report, lastSequence } = await replayLogs(
        dir,
        versions,
        memPool,
      );
      const db = new DB(
        path,
        dir,
        opts,
        lock,
        versions,
        blockCache,
        memPool,
        mem,
        report,
      );
      db.#lastSequence = Math.max(lastSequence, versions.lastSequence);
      if (!opts.readOnly) await db.#finishRecovery();
      db.#openTables();
      return db;
    } catch (err) {
      versions?.close();
      lock.release();
      throw err;
    }
  }

  /**
   * Opens the live tables now (footer, index, filter), as RocksDB does
   * with `max_open_files = -1`: the first reads after an open then cost
   * what later ones do (the first 20,000 reads of bench:peers' readrandom
   * took 190 ms, now 150). Up to {@link EAGER_TABLES}, shallow levels first,
   * so that opening a large database stays well under a second. A table
   * that fails to open is left for the read that needs it, which reports
   * the corruption.
   */
  #openTables(): void {
    let n = 0;
    for (const number of this.#versions.current.allFileNumbers()) {
      if (n++ === EAGER_TABLES) break;
      try {
        this.#tables.get(number);
      } catch {
        // Reported by the first read of this table.
      }
    }
  }

  /**
   * After replay: write what the old WALs held to a level-0 table, start a
   * fresh WAL, record both, and delete the old WALs and any debris.
   */
  async #finishRecovery(): Promise<void> {
    const edit: VersionEdit = {};
    if (this.#mem.count > 0) {
      // On the worker, though open waits for it and the main thread would
      // open faster (190 ms instead of 235 for bench:peers' database of
      // 83,000 recovered entries, and no image to copy): the compaction
      // that often follows a reopen then finds the worker's JIT warm, and
      // the reads meanwhile ran about 5% faster (10 runs each).
      const meta = await this.#writeLevel0(this.#mem);
      if (meta) edit.added = [[0, meta]];
      this.#mem.retire();
      this.#mem = new MemTable(this.#memPool);
    }
    this.#walNumber = this.#versions.newFileNumber();
    this.#wal = await WalWriter.create(
      logFileName(this.#dir, this.#walNumber),
      this.#fs,
    );
    await syncDir(this.#fs, this.#dir);
    edit.logNumber = this.#walNumber;
    edit.lastSequence = this.#lastSequence;
    await this.#versions.logAndApply(edit);
    for (const f of edit.added ?? []) this.#pendingOutputs.delete(f[1].number);
    await this.#deleteObsoleteFiles();
    this.#scheduleCompaction();
  }

  // ---------------------------------------------------------------- writes

  /**
   * Sets `key` to `value`.
   *
   * @param key 1 byte to 64 KiB (strings are UTF-8 encoded).
   * @param value Up to 256 MiB.
   * @param options `sync: true` waits until the write is durable.
   * @throws {InvalidArgumentError} Bad key or value.
   * @throws {ClosedError} The database is closed.
   * @throws {StrataError} The database is read-only, or a background error
   * stopped writes.
   */
  put(key: Bytes, value: Bytes, options?: WriteOptions): Promise<void> {
    try {
      // No copies: the WAL and the memtable consume the caller's bytes
      // before this returns (the memtable keeps a copy of its own).
      const k = toLookupKey(key);
      const v = toValueView(value);
      return this.#applySingle(TYPE_PUT, k, v, this.#syncOption(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Removes `key` (writes a tombstone; deleting an absent key is fine).
   *
   * @param key The key.
   * @param options `sync: true` waits until the delete is durable.
   */
  delete(key: Bytes, options?: WriteOptions): Promise<void> {
    try {
      const k = toLookupKey(key);
      return this.#applySingle(
        TYPE_DELETE,
        k,
        EMPTY,
        this.#syncOption(options),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The hot path of every put and delete. Not `async`: the common case
   * (room in the memtable, no sync) does its work synchronously and returns
   * one shared resolved promise, allocating none.
   */
  #applySingle(
    type: EntryType,
    key: Uint8Array,
    value: Uint8Array,
    sync: boolean,
    owned = false,
  ): Promise<void> {
    this.#checkWritable();
    if (this.#needsRoom()) {
      // The write waits: keep private copies (once), as the caller may
      // reuse its buffers as soon as this returns.
      const k = owned ? key : copyBytes(key);
      const v = owned ? value : copyBytes(value);
      return this.#makeRoomForWrite().then(() =>
        this.#applySingle(type, k, v, sync, true)
      );
    }
    const wal = this.#wal!;
    const seq = this.#lastSequence + 1;
    const before = wal.size;
    try {
      wal.appendSingle(seq, type, key, value);
    } catch (err) {
      if (err instanceof IOError) this.#setBackgroundError(err);
      throw err;
    }
    this.#lastSequence = seq;
    this.#mem.add(seq, type, key, value);
    this.#walBytesWritten += wal.size - before;
    this.#userBytes += key.length + value.length;
    if (sync) return this.#syncWal(wal);
    return this.#pace(1);
  }

  /**
   * Makes a WAL's bytes durable: its data (group commit), and, for a WAL
   * created by a rotation, what {@link DB.#walReady} waits for.
   */
  #syncWal(wal: WalWriter): Promise<void> {
    const ready = this.#walReady;
    const synced = ready === RESOLVED
      ? wal.sync()
      : wal.sync().then(() => ready);
    return synced.catch((err) => {
      if (err instanceof IOError) this.#setBackgroundError(err);
      throw err;
    });
  }

  /**
   * A caller awaiting only resolved promises runs in microtasks and would
   * starve everything else: background work (flush and compaction slices
   * are timer tasks, a worker's result is a message) until the memtable
   * fills and writes stall, and the rest of the program too. So every few
   * hundred operations a read or write resolves through the event loop,
   * letting other tasks run (about 4 µs each time): flushing overlaps
   * writing, compactions finish during reads, and others never wait long.
   */
  #pace(ops: number): Promise<void> {
    // Until the turn comes, every caller waits for it: one loop parked
    // while three others spin in microtasks would give the event loop no
    // turn at all (four get loops used to starve flushes and compactions
    // and stall a writer for half a second).
    if (this.#turn !== undefined) return this.#turn;
    this.#opsSinceYield += ops;
    // A writer waiting for a flush or compaction needs event-loop turns
    // (each step of installing one is an I/O callback): give them often.
    const every = this.#stalledWriters > 0 ? 16 : 256;
    if (this.#opsSinceYield < every) return RESOLVED;
    this.#opsSinceYield = 0;
    // A flush is coming: have its worker ready (start-up takes ~20 ms).
    if (this.#mem.approximateBytes * 2 >= this.#options.memtableSize) {
      this.#compactions.warmUp();
    }
    const turn = yieldToEventLoop().then(() => {
      this.#turn = undefined;
    });
    this.#turn = turn;
    return turn;
  }

  /**
   * A new, empty batch (same as `new WriteBatch()`).
   *
   * @returns The batch.
   */
  batch(): WriteBatch {
    return new WriteBatch();
  }

  /**
   * Applies a batch atomically: after any crash, all of it or none of it.
   * Later operations on the same key win.
   *
   * @param batch The batch.
   * @param options `sync: true` waits until the batch is durable.
   */
  async write(batch: WriteBatch, options?: WriteOptions): Promise<void> {
    if (!(batch instanceof WriteBatch)) {
      throw new InvalidArgumentError(
        `Invalid batch ${
          describe(batch)
        }: expected a WriteBatch from db.batch()`,
      );
    }
    const sync = this.#syncOption(options);
    this.#checkWritable();
    const count = batch.length;
    if (count === 0) return;
    let record = batch.encodedRecord();
    if (this.#needsRoom()) {
      // The write waits: the caller may change the batch meanwhile.
      record = record.slice();
      await this.#makeRoomForWrite();
    }
    const wal = this.#wal!;
    const first = this.#lastSequence + 1;
    const before = wal.size;
    try {
      wal.appendEncoded(first, count, record);
    } catch (err) {
      if (err instanceof IOError) this.#setBackgroundError(err);
      throw err;
    }
    this.#lastSequence = first + count - 1;
    const mem = this.#mem;
    let seq = first;
    forEachWalEntry(
      record,
      WAL_RECORD_HEADER_SIZE,
      record.length,
      (type, key, value) => mem.add(seq++, type, key, value),
    );
    this.#walBytesWritten += wal.size - before;
    this.#userBytes += batch.byteSize;
    if (sync) await this.#syncWal(wal);
    else await this.#pace(count);
  }

  #syncOption(options: WriteOptions | undefined): boolean {
    if (options === undefined) return this.#options.sync;
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(
        `Invalid write options ${describe(options)}: expected an object`,
      );
    }
    for (const name of Object.keys(options)) {
      if (name !== "sync") {
        throw new InvalidArgumentError(`Unknown write option "${name}"`);
      }
    }
    if (options.sync === undefined) return this.#options.sync;
    if (typeof options.sync !== "boolean") {
      throw new InvalidArgumentError(
        `Invalid write option "sync": ${
          describe(options.sync)
        } is not a boolean`,
      );
    }
    return options.sync;
  }

  #checkOpen(): void {
    if (this.#closed || this.#closing) {
      throw new ClosedError(`Database "${this.path}" is closed`);
    }
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#options.readOnly) {
      throw new StrataError(
        "READ_ONLY",
        `Cannot write to database "${this.path}": it was opened readOnly`,
      );
    }
    if (this.#bgError !== undefined) {
      throw new StrataError(
        "BACKGROUND_ERROR",
        `Database "${this.path}" refuses writes after a failure: ${
          errorMessage(this.#bgError).replace(/^strata: /, "")
        } (reads still work; reopen the database to recover)`,
        { cause: this.#bgError },
      );
    }
  }

  #needsRoom(): boolean {
    return this.#mem.approximateBytes >= this.#options.memtableSize ||
      this.#versions.current.files(0).length >= l0StopWrites(this.#options);
  }

  /**
   * Waits until the write may go ahead: swaps a full memtable for a fresh
   * one behind a new WAL, and holds writes while {@link MAX_IMMUTABLE} full
   * memtables wait for their flush or level 0 has piled up (backpressure).
   */
  async #makeRoomForWrite(): Promise<void> {
    this.#stalledWriters++;
    try {
      await this.#waitForRoom();
    } finally {
      this.#stalledWriters--;
    }
  }

  async #waitForRoom(): Promise<void> {
    while (true) {
      this.#checkWritable();
      if (
        this.#versions.current.files(0).length >= l0StopWrites(this.#options)
      ) {
        this.#scheduleCompaction();
        await this.#changed.wait();
      } else if (this.#mem.approximateBytes < this.#options.memtableSize) {
        return;
      } else if (this.#imms.length >= MAX_IMMUTABLE) {
        await this.#changed.wait();
      } else {
        await this.#rotate(false);
      }
    }
  }

  /**
   * Rotates the memtable ({@link DB.#rotateMemtable}), one rotation at a
   * time: concurrent writers share it rather than each creating (and
   * syncing, and discarding) a WAL of their own, and `close()` waits for
   * the one in flight. None starts once closing has begun.
   */
  #rotate(force: boolean): Promise<void> {
    if (this.#closing) return RESOLVED;
    this.#rotating ??= this.#rotateMemtable(force).catch((err) => {
      // A WAL that cannot be created or synced: stop taking writes.
      if (err instanceof IOError) this.#setBackgroundError(err);
      throw err;
    }).finally(() => {
      this.#rotating = undefined;
    });
    return this.#rotating;
  }

  /**
   * Makes the memtable immutable behind a new WAL and starts its flush.
   * `force` rotates a memtable that is not full yet (`flush()`).
   */
  async #rotateMemtable(force: boolean): Promise<void> {
    const number = this.#versions.newFileNumber();
    const wal = await WalWriter.create(
      logFileName(this.#dir, number),
      this.#fs,
    );
    // Another writer may have rotated while we awaited.
    const rotatedMeanwhile = force
      ? this.#mem.count === 0
      : this.#mem.approximateBytes < this.#options.memtableSize;
    if (
      this.#closing || this.#imms.length >= MAX_IMMUTABLE || rotatedMeanwhile
    ) {
      await wal.close();
      await this.#fs.remove(logFileName(this.#dir, number)).catch(() => {});
      return;
    }
    const older = this.#wal!;
    this.#walSyncsBefore += older.syncCount;
    this.#imms.push({
      mem: this.#mem,
      wal: older,
      walNumber: this.#walNumber,
    });
    this.#mem = new MemTable(this.#memPool);
    this.#wal = wal;
    this.#walNumber = number;
    // The older WAL takes no more appends: sync its tail now, in the
    // background. Durable writes to the new WAL wait for it (and for the
    // new WAL's directory entry); writes that need no sync do not.
    const ready = Promise.all([
      this.#walReady,
      older.sync(),
      syncDir(this.#fs, this.#dir),
    ]).then(() => {});
    this.#walReady = ready;
    ready.then(() => {
      if (this.#walReady === ready) this.#walReady = RESOLVED;
    }, (err) => this.#setBackgroundError(err));
    this.#startFlush();
  }

  /** Flushes the immutable memtables in the background, unless it runs. */
  #startFlush(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flushImmutables().catch((err) =>
      this.#setBackgroundError(err)
    ).finally(() => {
      this.#flushing = undefined;
      this.#changed.notify();
      // A rotation after the loop's last look, before this ran, found the
      // flush still running and left its memtable to it.
      if (
        this.#imms.length > 0 && !this.#closing &&
        this.#bgError === undefined
      ) {
        this.#startFlush();
      }
    });
  }

  /**
   * Flushes the immutable memtables, oldest first, until none is left or
   * the database closes. Those left stay in their WALs: the next open
   * replays them all into one memtable and writes one level-0 table, where
   * flushing them here would leave a level-0 table each (bench:peers'
   * reopened database had 9 level-0 tables instead of 6, and its reads ran
   * 15% slower until the compaction that follows had merged them).
   */
  async #flushImmutables(): Promise<void> {
    while (this.#imms.length > 0 && !this.#closing) {
      const { mem, wal } = this.#imms[0]!;
      const meta = await this.#writeLevel0(mem);
      await wal.close(); // waits for sync writers still queued on it
      await syncDir(this.#fs, this.#dir); // the new WALs' and the table's entries
      failpoint("flush:table-synced");
      const edit: VersionEdit = {
        // The oldest WAL still needed: the next immutable's, or the live one.
        logNumber: this.#imms[1]?.walNumber ?? this.#walNumber,
        lastSequence: this.#lastSequence,
      };
      if (meta) edit.added = [[0, meta]];
      await this.#versions.logAndApply(edit);
      failpoint("flush:manifest-appended");
      if (meta) this.#pendingOutputs.delete(meta.number);
      this.#imms.shift();
      mem.retire(); // its memory serves the next memtables
      this.#changed.notify();
      await this.#deleteObsoleteFiles();
      this.#scheduleCompaction();
    }
  }

  /** Writes a memtable to one new level-0 table (synced, not yet recorded). */
  async #writeLevel0(mem: MemTable): Promise<FileMeta | undefined> {
    // On the worker: the memtable is packed into one buffer (about a
    // millisecond for 4 MiB) that is transferred to it rather than cloned,
    // and comes back to hold the next flush's image; building the table
    // costs the main thread nothing.
    const result = await this.#compactions.flush(mem, {
      dir: this.#dir,
      blockSize: this.#options.blockSize,
      bloomBitsPerKey: this.#options.bloomBitsPerKey,
      outputNumber: this.#newOutputNumber(),
    });
    if (result.aborted) {
      // Closing: the memtable's WAL stays, and the next open replays it.
      throw new ClosedError(`Database "${this.path}" closed during a flush`);
    }
    const meta = result.outputs[0];
    if (meta) this.#flushBytesWritten += meta.size;
    return meta;
  }

  #newOutputNumber(): number {
    const n = this.#versions.newFileNumber();
    this.#pendingOutputs.add(n);
    return n;
  }

  #setBackgroundError(err: unknown): void {
    if (this.#closing) return;
    this.#bgError ??= err;
  }

  // ----------------------------------------------------------------- reads

  /**
   * Reads the value of `key`.
   *
   * @param key The key.
   * @param options `snapshot` reads as of that snapshot.
   * @returns A fresh copy of the value, or `undefined` when absent.
   * @throws {CorruptionError} A table block on the way failed its checksum.
   */
  get(key: Bytes, options?: ReadOptions): Promise<Uint8Array | undefined> {
    try {
      const value = this.#getSync(
        toLookupKey(key),
        this.#readSequence(options),
      );
      // Readers are paced like writers: a loop of gets must not keep a
      // finished compaction from being installed.
      const paced = this.#pace(1);
      return paced === RESOLVED
        ? Promise.resolve(value)
        : paced.then(() => value);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #getSync(key: Uint8Array, seq: number): Uint8Array | undefined {
    this.#checkOpen();
    // The hot path of every read: no allocation until the result's copy.
    let hit = this.#mem.count > 0 ? this.#mem.get(key, seq) : undefined;
    for (let i = this.#imms.length - 1; !hit && i >= 0; i--) {
      hit = this.#imms[i]!.mem.get(key, seq);
    }
    if (!hit) {
      const version = this.#versions.current;
      for (const f of version.files(0)) { // newest first
        if (
          compareBytes(key, f.smallestKey) >= 0 &&
          compareBytes(key, f.largestKey) <= 0
        ) {
          hit = this.#tables.get(f.number).get(key, seq);
          if (hit) break;
        }
      }
      for (let level = 1; !hit && level < NUM_LEVELS; level++) {
        const files = version.files(level);
        const f = files[findFile(files, key)];
        if (f && compareBytes(key, f.smallestKey) >= 0) {
          hit = this.#tables.get(f.number).get(key, seq);
        }
      }
    }
    return hit && hit.type === TYPE_PUT ? copyResult(hit.value) : undefined;
  }

  #readSequence(options: ReadOptions | undefined): number {
    if (options === undefined) return this.#lastSequence;
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(
        `Invalid read options ${describe(options)}: expected an object`,
      );
    }
    for (const name of Object.keys(options)) {
      if (name !== "snapshot") {
        throw new InvalidArgumentError(`Unknown read option "${name}"`);
      }
    }
    return this.#snapshotSequence(options.snapshot);
  }

  #snapshotSequence(snapshot: unknown): number {
    if (snapshot === undefined) return this.#lastSequence;
    if (
      !(snapshot instanceof Snapshot) || !snapshot.belongsTo(this.#snapshots)
    ) {
      throw new InvalidArgumentError(
        `Invalid snapshot ${
          describe(snapshot)
        }: expected a snapshot of this database`,
      );
    }
    return snapshot.sequence;
  }

  /**
   * Streams the entries in a key range, in key order (or reverse), each key
   * once with its newest value visible to the read.
   *
   * @param options Bounds, prefix, direction, limit, snapshot, keysOnly.
   * @returns An async iterator of fresh `{ key, value }` pairs.
   *
   * @example Reverse scan with a limit
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * const dir = await Deno.makeTempDir();
   * await using db = await DB.open(dir);
   * for (const k of ["a", "b", "c"]) await db.put(k, k);
   * const keys = [];
   * for await (const e of db.scan({ reverse: true, limit: 2 })) keys.push(e.key[0]);
   * assert(keys.join() === [99, 98].join());
   * ```
   */
  scan(options: ScanOptions = {}): AsyncIterableIterator<Entry> {
    this.#checkOpen();
    const plan = planScan(options, (snap) => this.#snapshotSequence(snap));
    return this.#scanEntries(plan);
  }

  async *#scanEntries(plan: ScanPlan): AsyncGenerator<Entry> {
    if (plan.limit === 0) return;
    const version = this.#versions.current;
    this.#versions.pin(version);
    let source: MergingIterator | undefined;
    try {
      source = new MergingIterator(this.#sources(version));
      const iterOptions: ConstructorParameters<typeof UserIterator>[1] = {
        snapshot: plan.sequence,
        reverse: plan.reverse,
        lowerInclusive: plan.lowerInclusive,
        upperInclusive: plan.upperInclusive,
      };
      if (plan.lower) iterOptions.lower = plan.lower;
      if (plan.upper) iterOptions.upper = plan.upper;
      const it = new UserIterator(source, iterOptions);
      let count = 0;
      while (count < plan.limit) {
        this.#checkOpen();
        const e = it.next();
        if (!e) break;
        if (plan.prefix && !hasPrefix(e.key, plan.prefix)) break;
        count++;
        yield {
          key: copyResult(e.key),
          value: copyResult(plan.keysOnly ? EMPTY : e.value),
        };
        const paced = this.#pace(1);
        if (paced !== RESOLVED) await paced;
      }
      // A scan that found nothing paces too (a loop of empty scans).
      if (count === 0) await this.#pace(1);
    } finally {
      source?.close(); // unpins the blocks the scan stands on
      this.#versions.unpin(version);
      // Only a replaced version can have held the last claim on a file.
      if (version.refs === 0 && version !== this.#versions.current) {
        this.#deleteObsoleteFiles().catch(() => {});
      }
    }
  }

  /** Every source of entries, newest first: memtables, level 0, levels. */
  #sources(version: Version): InternalIterator[] {
    const sources: InternalIterator[] = [this.#mem.iterator()];
    for (let i = this.#imms.length - 1; i >= 0; i--) {
      sources.push(this.#imms[i]!.mem.iterator());
    }
    for (const f of version.files(0)) {
      sources.push(this.#tables.get(f.number).iterator());
    }
    for (let level = 1; level < NUM_LEVELS; level++) {
      const files = version.files(level);
      if (files.length > 0) {
        sources.push(new LevelIterator(files, this.#tables));
      }
    }
    return sources;
  }

  /**
   * Pins the current state for consistent reads across calls. Release it
   * when done (or declare it with `using`).
   *
   * @returns The snapshot.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * const dir = await Deno.makeTempDir();
   * await using db = await DB.open(dir);
   * await db.put("k", "old");
   * using snap = db.snapshot();
   * await db.put("k", "new");
   * const v = await db.get("k", { snapshot: snap });
   * assert(new TextDecoder().decode(v) === "old");
   * ```
   */
  snapshot(): Snapshot {
    this.#checkOpen();
    return this.#snapshots.acquire(this.#lastSequence);
  }

  // ------------------------------------------------- flush and compaction

  /**
   * Writes the memtable to a level-0 table now and waits for it.
   */
  async flush(): Promise<void> {
    this.#checkWritable();
    while (this.#imms.length > 0) {
      await this.#changed.wait();
      this.#checkWritable();
    }
    // A rotation in flight (a writer's) may have taken the memtable.
    await this.#rotating;
    if (this.#mem.count > 0) await this.#rotate(true);
    this.#checkWritable(); // closing stops a flush: it did not happen
    while (this.#imms.length > 0) {
      await this.#changed.wait();
      this.#checkWritable();
    }
    // With nothing to flush, this resolved in microtasks: a loop of such
    // calls must leave the event loop its turns like any other.
    await this.#pace(1);
  }

  /**
   * Compacts every key in `[start, end]` (default: everything) down to the
   * deepest level that holds data, dropping overwritten versions and
   * tombstones that no snapshot needs.
   *
   * @param range Optional inclusive bounds.
   */
  async compact(range: { start?: Bytes; end?: Bytes } = {}): Promise<void> {
    if (typeof range !== "object" || range === null) {
      throw new InvalidArgumentError(
        `Invalid compact range ${describe(range)}: expected an object`,
      );
    }
    const start = range.start === undefined
      ? undefined
      : toBound(range.start, "start");
    const end = range.end === undefined ? undefined : toBound(range.end, "end");
    await this.flush();
    this.#manualCompactions++;
    try {
      await this.#withCompactionLock(async () => {
        // Like LevelDB's CompactRange: push every level that holds keys in
        // the range one level down, so that even the deepest level is
        // rewritten and loses its dead entries.
        let bottom = 0;
        for (let l = 0; l < NUM_LEVELS; l++) {
          if (this.#versions.current.overlapping(l, start, end).length > 0) {
            bottom = l;
          }
        }
        for (let level = 0; level <= bottom; level++) {
          this.#checkWritable();
          const version = this.#versions.current;
          const inputs = level === 0
            ? version.files(0).slice()
            : version.overlapping(level, start, end);
          if (inputs.length === 0) continue;
          await this.#runCompaction(
            planForInputs(version, level, inputs),
            false,
          );
        }
      });
    } catch (err) {
      // A disk error stops writes, as it does in a background compaction.
      if (err instanceof IOError) this.#setBackgroundError(err);
      throw err;
    } finally {
      this.#manualCompactions--;
    }
    this.#scheduleCompaction();
  }

  #withCompactionLock<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#compactionLock.then(work);
    this.#compactionLock = run.then(() => {}, () => {});
    return run;
  }

  /** Starts background compaction if a level needs it and none runs. */
  #scheduleCompaction(): void {
    if (this.#compacting || this.#closing || this.#bgError !== undefined) {
      return;
    }
    if (this.#options.readOnly || this.#manualCompactions > 0) return;
    if (
      !pickCompaction(
        this.#versions.current,
        this.#options,
        this.#versions.compactPointers,
      )
    ) {
      return;
    }
    this.#compacting = this.#withCompactionLock(async () => {
      while (!this.#closing && this.#manualCompactions === 0) {
        const plan = pickCompaction(
          this.#versions.current,
          this.#options,
          this.#versions.compactPointers,
        );
        if (!plan) break;
        await this.#runCompaction(plan, true);
      }
    }).catch((err) => this.#setBackgroundError(err)).finally(() => {
      this.#compacting = undefined;
      this.#changed.notify();
      // A flush after the loop's last look may have made level 0 need one.
      this.#scheduleCompaction();
    });
  }

  async #runCompaction(
    plan: CompactionPlan,
    allowTrivialMove: boolean,
  ): Promise<void> {
    const { level, inputs, overlaps, outputLevel: outLevel } = plan;
    const [, largest] = keyRange([...inputs, ...overlaps]);
    const edit: VersionEdit = {
      deleted: [
        ...inputs.map((f): [number, number] => [level, f.number]),
        ...overlaps.map((f): [number, number] => [outLevel, f.number]),
      ],
      compactPointers: [[level, largest]],
    };
    if (allowTrivialMove && isTrivialMove(plan)) {
      edit.added = inputs.map((f): [number, FileMeta] => [outLevel, f]);
      await this.#versions.logAndApply(edit);
      this.#changed.notify();
      return;
    }
    const version = this.#versions.current;
    this.#versions.pin(version);
    const bytesIn = [...inputs, ...overlaps].reduce((n, f) => n + f.size, 0);
    const fileSize = targetFileSize(this.#options);
    const reserved = Array.from(
      { length: outputNumbersNeeded(bytesIn, fileSize) },
      () => this.#newOutputNumber(),
    );
    try {
      const deeperLevels: FileMeta[][] = [];
      for (let l = outLevel + 1; l < NUM_LEVELS; l++) {
        deeperLevels.push(version.files(l).slice());
      }
      const result = await this.#compactions.run({
        kind: "compaction",
        dir: this.#dir,
        inputs, // newest first, so equal (key, seq) pairs keep their order
        overlaps,
        blockSize: this.#options.blockSize,
        bloomBitsPerKey: this.#options.bloomBitsPerKey,
        targetFileSize: fileSize,
        smallestSnapshot: this.#snapshots.oldest(this.#lastSequence),
        deeperLevels,
        outputNumbers: reserved,
      });
      if (result.aborted) return;
      await syncDir(this.#fs, this.#dir);
      failpoint("compaction:outputs-synced");
      edit.added = result.outputs.map((f): [number, FileMeta] => [outLevel, f]);
      await this.#versions.logAndApply(edit);
      failpoint("compaction:manifest-appended");
      this.#compactionCount++;
      this.#compactionBytesRead += bytesIn;
      this.#compactionBytesWritten += result.outputs.reduce(
        (n, f) => n + f.size,
        0,
      );
    } finally {
      this.#versions.unpin(version);
      // Outputs are live in the version now, or (aborted, failed) orphans
      // for the next sweep to delete.
      for (const n of reserved) this.#pendingOutputs.delete(n);
    }
    this.#changed.notify();
    await this.#deleteObsoleteFiles();
  }

  /**
   * Deletes files no live version, WAL or manifest needs. Runs after the
   * manifest edit that dropped them is durable.
   */
  #deleteObsoleteFiles(): Promise<void> {
    // A sweep that has not started yet lists the directory later than this
    // call, so it covers this caller too: requests coalesce instead of
    // queueing one directory listing each.
    if (this.#sweepQueued) return this.#sweepQueued;
    // One sweep at a time, and close() waits for the last one.
    const run = this.#sweeps.then(() => {
      this.#sweepQueued = undefined;
      return this.#sweepObsoleteFiles();
    });
    this.#sweepQueued = run;
    this.#sweeps = run.catch(() => {});
    return run;
  }

  async #sweepObsoleteFiles(final = false): Promise<void> {
    // Closing: close() runs the last sweep itself, once background work
    // has stopped.
    if (this.#options.readOnly || this.#closed) return;
    if (this.#closing && !final) return;
    // After a disk error nothing on disk may be taken as obsolete: a
    // manifest edit that failed may still be there for the next open.
    if (this.#bgError !== undefined || this.#versions.failure !== undefined) {
      return;
    }
    const names = await this.#fs.list(this.#dir);
    if (this.#bgError !== undefined || this.#versions.failure !== undefined) {
      return;
    }
    // Decide in one synchronous step after listing: the live set must not
    // go stale while outputs in flight move from pending to live.
    const live = this.#versions.liveTableNumbers();
    const logNumber = this.#versions.logNumber;
    const doomed = names.filter((name) => {
      const parsed = parseFileName(name);
      switch (parsed?.kind) {
        case "table":
          return !live.has(parsed.number) &&
            !this.#pendingOutputs.has(parsed.number);
        case "log":
          return parsed.number < logNumber && parsed.number !== this.#walNumber;
        // A manifest rewrite writes a higher-numbered manifest and temp file
        // before CURRENT moves to them: only lower numbers are obsolete.
        case "manifest":
        case "temp":
          return parsed.number < this.#versions.manifestNumber;
        default:
          return false;
      }
    });
    for (const name of doomed) {
      const parsed = parseFileName(name)!;
      if (parsed.kind === "table") this.#tables.evict(parsed.number);
      await this.#fs.remove(join(this.#dir, name)).catch(() => {});
      failpoint("obsolete:deleted-one");
    }
    if (doomed.length > 0) await syncDir(this.#fs, this.#dir);
  }

  // ----------------------------------------------------------------- stats

  /**
   * Figures about the database: levels, memory, disk, compaction work,
   * write amplification and cache effectiveness.
   *
   * @returns A plain object (see {@link DBStats}).
   */
  stats(): DBStats {
    this.#checkOpen();
    const version = this.#versions.current;
    const levels: LevelStats[] = [];
    for (let level = 0; level < NUM_LEVELS; level++) {
      levels.push({
        level,
        files: version.files(level).length,
        bytes: version.levelBytes(level),
        targetBytes: level === 0
          ? this.#options.l0CompactionTrigger * this.#options.memtableSize
          : maxBytesForLevel(level, this.#options),
      });
    }
    let diskBytes = 0;
    for (const name of this.#fs.listSync(this.#dir)) {
      const info = this.#fs.stat(join(this.#dir, name));
      if (info?.isFile) diskBytes += info.size;
    }
    const written = this.#walBytesWritten + this.#flushBytesWritten +
      this.#compactionBytesWritten;
    const cache = this.#blockCache.stats;
    return {
      levels,
      memtableBytes: this.#imms.reduce(
        (n, imm) => n + imm.mem.approximateBytes,
        this.#mem.approximateBytes,
      ),
      walBytes: this.#imms.reduce(
        (n, imm) => n + imm.wal.size,
        this.#wal?.size ?? 0,
      ),
      diskBytes,
      sequence: this.#lastSequence,
      compactions: {
        count: this.#compactionCount,
        bytesRead: this.#compactionBytesRead,
        bytesWritten: this.#compactionBytesWritten,
      },
      writeAmplification: this.#userBytes === 0 ? 0 : written / this.#userBytes,
      cache: {
        hits: cache.hits,
        misses: cache.misses,
        bytes: cache.bytes,
        capacity: this.#options.blockCacheSize,
      },
      walSyncs: this.#walSyncsBefore + (this.#wal?.syncCount ?? 0),
    };
  }

  /**
   * @internal Compaction scores per level, for tests and tools.
   * @returns One score per level.
   */
  compactionScores(): number[] {
    return compactionScores(this.#versions.current, this.#options);
  }

  /**
   * @internal The key ranges of every table per level, for invariant checks.
   * @returns Per level, the files' metadata.
   */
  levelFiles(): FileMeta[][] {
    const version = this.#versions.current;
    return Array.from(
      { length: NUM_LEVELS },
      (_, l) => version.files(l).slice(),
    );
  }

  /**
   * @internal Waits until no flush or compaction is running or needed.
   */
  async waitForBackgroundWork(): Promise<void> {
    while (this.#flushing || this.#compacting) {
      await Promise.all([this.#flushing, this.#compacting]);
    }
    if (this.#bgError !== undefined) this.#checkWritable();
  }

  // ----------------------------------------------------------------- close

  /**
   * Closes the database: lets a flush in progress finish, abandons a
   * compaction in progress (the next open resumes it), makes the WALs
   * durable and releases the directory. Memtables not flushed yet are
   * replayed from their WALs by the next open. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#changed.notify();
    try {
      // No rotation starts from now on; the one in flight finishes (or
      // removes the WAL it made) before anything closes.
      while (this.#rotating) await this.#rotating.catch(() => {});
      await this.#walReady.catch(() => {});
      await this.#flushing; // a flush in progress finishes: it frees a WAL
      await this.#compactions.stop(); // a merge in flight is abandoned
      await this.#compacting;
      await this.#compactionLock;
      await this.#sweeps;
      // What the last flush or compaction made obsolete.
      await this.#sweepObsoleteFiles(true).catch(() => {});
      // Memtables not flushed yet stay in their WALs: the next open replays.
      // Every WAL is closed even if syncing one fails.
      let failure: unknown;
      for (const wal of [...this.#imms.map((imm) => imm.wal), this.#wal]) {
        await wal?.close().catch((err) => failure ??= err);
      }
      await this.#versions.drain();
      // A failure the writers were told of already (a background error) is
      // not news; one that only the last sync met is.
      if (failure !== undefined && this.#bgError === undefined) throw failure;
    } finally {
      this.#versions.close();
      this.#tables.closeAll();
      this.#lock.release();
      this.#closed = true;
    }
  }

  /** Same as {@link DB.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
