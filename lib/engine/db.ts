/**
 * The engine: {@link DB} ties the memtable, WAL, tables, manifest and
 * compaction into one key–value store. This file is the public face and
 * the life cycle (open, close); the work is done by its parts, each in a
 * file of its own around one shared {@link EngineState}:
 *
 * - lib/engine/write_path.ts: WAL append, memtable, group commit, rotation
 *   and backpressure;
 * - lib/engine/read_path.ts: point reads and scans;
 * - lib/engine/background_work.ts: flush and compaction scheduling;
 * - lib/engine/obsolete_files.ts: deleting what no version needs;
 * - lib/engine/recovery.ts: WAL replay at open;
 * - lib/engine/pacer.ts: event-loop turns for tight loops of calls.
 *
 * @module
 */

import { resolve } from "node:path";
import { compactionScores } from "../compaction/compaction.ts";
import { MemFs } from "../fs/mem_fs.ts";
import { TYPE_DELETE, TYPE_PUT } from "../iterator/internal_key.ts";
import { type FileMeta, NUM_LEVELS } from "../manifest/version.ts";
import { InvalidArgumentError, StrataError } from "../util/errors.ts";
import { BackgroundWork, type CompactionProgress } from "./background_work.ts";
import {
  type CheckpointOptions,
  type CheckpointReport,
  writeCheckpoint,
} from "./checkpoint.ts";
import { collectStats, type DBStats } from "./db_stats.ts";
import {
  type EngineState,
  errorMessage,
  type LifetimeCounters,
} from "./engine_state.ts";
import type { DirectoryLock } from "./lock.ts";
import { ObsoleteFileSweeper } from "./obsolete_files.ts";
import {
  describe,
  type OpenOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import { Pacer } from "./pacer.ts";
import { readOptionsSnapshot, ReadPath } from "./read_path.ts";
import { finishRecovery, type RecoveryReport } from "./recovery.ts";
import { openEngine } from "./open_engine.ts";
import { type Entry, planScan, type ScanOptions } from "./scan_plan.ts";
import type { Snapshot } from "./snapshot.ts";
import {
  type Bytes,
  toBound,
  toLookupKey,
  toValueView,
  WriteBatch,
} from "./write_batch.ts";
import { WritePath } from "./write_path.ts";

export type { Bytes } from "./write_batch.ts";
export type { OpenOptions } from "./options.ts";
export type { Entry, ScanOptions } from "./scan_plan.ts";
export type { RecoveryReport } from "./recovery.ts";
export type { DBStats, LevelStats, LifetimeStats } from "./db_stats.ts";
export type { CompactionProgress } from "./background_work.ts";
export type {
  CheckpointOptions,
  CheckpointProgress,
  CheckpointReport,
} from "./checkpoint.ts";

/** Options of {@link DB.compact}. */
export interface CompactOptions {
  /** First key to compact (inclusive); absent: from the first key. */
  start?: Bytes;
  /** Last key to compact (inclusive); absent: to the last key. */
  end?: Bytes;
  /** Told after each compaction job, and once at the end. */
  onProgress?: (progress: CompactionProgress) => void;
}

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

const EMPTY = new Uint8Array(0);
/** The path that opens a fresh database in memory (a new `MemFs`). */
export const MEMORY_PATH = ":memory:";
/**
 * How long close() lets the automatic compactions under way go on: enough
 * to finish a level-0 compaction of a few tens of megabytes, so the next
 * open starts on a settled tree, without making close slow behind a large
 * backlog (what is left is resumed by the next open).
 */
const CLOSE_COMPACTION_BUDGET_MS = 1000;
/** Tables opened by `DB.open` itself (about 1 GB at the default sizes). */
const EAGER_TABLES = 500;

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

  readonly #state: EngineState;
  readonly #lock: DirectoryLock;
  readonly #sweeper: ObsoleteFileSweeper;
  readonly #background: BackgroundWork;
  readonly #writes: WritePath;
  readonly #reads: ReadPath;
  readonly #pacer: Pacer;
  #closePromise: Promise<void> | undefined;

  private constructor(
    state: EngineState,
    lock: DirectoryLock,
    recovery: RecoveryReport,
  ) {
    this.path = state.path;
    this.recovery = recovery;
    this.#state = state;
    this.#lock = lock;
    const pacer = new Pacer(state);
    this.#pacer = pacer;
    this.#sweeper = new ObsoleteFileSweeper(state);
    this.#background = new BackgroundWork(state, this.#sweeper);
    this.#writes = new WritePath(state, this.#background, pacer);
    this.#reads = new ReadPath(state, pacer, this.#sweeper);
  }

  /**
   * Opens (or creates) the database in directory `path`; `":memory:"`
   * opens a fresh database in memory, gone when it is closed. Recovery
   * replays the WALs that no table covers yet, keeping everything up to the
   * first torn or corrupt record (see {@link DB.recovery}).
   *
   * @param path Database directory, or `":memory:"`.
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
    const { state, lock, report } = await openEngine(path, dir, opts);
    try {
      const db = new DB(state, lock, report);
      if (!opts.readOnly) {
        await finishRecovery(state, db.#background, db.#sweeper);
      }
      db.#openTables();
      return db;
    } catch (err) {
      state.versions.close();
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
    const state = this.#state;
    for (const number of state.versions.current.allFileNumbers()) {
      if (n++ === EAGER_TABLES) break;
      try {
        state.tables.get(number);
      } catch {
        // Reported by the first read of this table.
      }
    }
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
   * @throws {StrataError} The database is read-only, or a disk failure
   * stopped writes.
   */
  put(key: Bytes, value: Bytes, options?: WriteOptions): Promise<void> {
    try {
      // No copies: the WAL and the memtable consume the caller's bytes
      // before this returns (the memtable keeps a copy of its own).
      const k = toLookupKey(key);
      const v = toValueView(value);
      return this.#writes.applySingle(
        TYPE_PUT,
        k,
        v,
        this.#syncOption(options),
      );
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
      return this.#writes.applySingle(
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
   * Deletes every key in `[start, end)` at once: one range tombstone, so
   * it costs the same for ten keys or ten million. Reads (gets, scans
   * both ways, snapshots taken after it) no longer see those keys;
   * snapshots taken before still do. Compaction drops the data it covers,
   * and the space comes back (`compact()` to force it now).
   *
   * @param start First key to delete ("" deletes from the first key).
   * @param end First key to keep; omitted, every key from `start` on.
   * @param options `sync: true` waits until the delete is durable.
   * @throws {InvalidArgumentError} When `end` does not come after `start`.
   *
   * @example Drop a prefix
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * await using db = await DB.open(":memory:");
   * await db.put("user/1", "a");
   * await db.put("user/2", "b");
   * await db.put("video/1", "c");
   * await db.deleteRange("user/", "user0"); // "0" follows "/"
   * assert.equal(await db.get("user/1"), undefined);
   * assert.equal([...db.scanSync()].length, 1);
   * ```
   */
  deleteRange(
    start: Bytes,
    end?: Bytes,
    options?: WriteOptions,
  ): Promise<void> {
    try {
      return this.write(new WriteBatch().deleteRange(start, end), options);
    } catch (err) {
      return Promise.reject(err);
    }
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
    this.#state.checkWritable();
    if (batch.length === 0) return;
    await this.#writes.writeBatch(
      batch.encodedRecord(),
      batch.length,
      batch.byteSize,
      sync,
    );
  }

  /**
   * Makes every write that has resolved so far durable, as if each had
   * been written with `sync: true`: one `fdatasync` that concurrent
   * callers share (group commit). A layer above that applies writes in a
   * critical section and then waits for durability outside it calls this
   * (`openKv` does).
   *
   * @returns Resolves once those writes are on stable storage.
   * @throws {StrataError} After a disk failure.
   *
   * @example
   * ```ts
   * import { DB } from "./db.ts";
   * await using db = await DB.open(":memory:");
   * await db.put("a", "1"); // applied, handed to the OS
   * await db.sync(); // and now durable
   * ```
   */
  sync(): Promise<void> {
    return this.#writes.sync();
  }

  #syncOption(options: WriteOptions | undefined): boolean {
    const fallback = this.#state.options.sync;
    if (options === undefined) return fallback;
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
    if (options.sync === undefined) return fallback;
    if (typeof options.sync !== "boolean") {
      throw new InvalidArgumentError(
        `Invalid write option "sync": ${
          describe(options.sync)
        } is not a boolean`,
      );
    }
    return options.sync;
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
      const reads = this.#reads;
      const k = toLookupKey(key);
      const seq = options === undefined
        ? this.#state.lastSequence
        : reads.snapshotSequence(readOptionsSnapshot(options));
      return reads.get(k, seq);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The synchronous form of {@link DB.get}: the same read, returned rather
   * than resolved, for callers that want LMDB's calling convention (no
   * promise to allocate and await). A loop of these never yields to the
   * event loop: the caller decides when it does.
   *
   * @param key The key.
   * @param options `snapshot` reads as of that snapshot.
   * @returns A fresh copy of the value, or `undefined` when absent.
   * @throws {CorruptionError} A table block on the way failed its checksum.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * await using db = await DB.open(":memory:");
   * await db.put("k", "v");
   * assert.equal(new TextDecoder().decode(db.getSync("k")), "v");
   * assert.equal(db.getSync("missing"), undefined);
   * ```
   */
  getSync(key: Bytes, options?: ReadOptions): Uint8Array | undefined {
    const reads = this.#reads;
    const k = toLookupKey(key);
    const seq = options === undefined
      ? this.#state.lastSequence
      : reads.snapshotSequence(readOptionsSnapshot(options));
    return reads.getSync(k, seq);
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
    this.#state.checkOpen();
    const plan = planScan(
      options,
      (snap) => this.#reads.snapshotSequence(snap),
    );
    return this.#reads.scan(plan);
  }

  /**
   * The synchronous form of {@link DB.scan}: an ordinary iterator, no
   * promise per entry, for callers that want LMDB's calling convention. It
   * reads one consistent state, pinned until the iterator finishes or is
   * returned (a `for…of` that breaks returns it), and never yields to the
   * event loop: keep such scans short, or pace them yourself.
   *
   * @param options As for {@link DB.scan}.
   * @returns An iterator of fresh `{ key, value }` pairs.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * await using db = await DB.open(":memory:");
   * for (const k of ["a", "b", "c"]) await db.put(k, k);
   * const keys = [...db.scanSync({ gte: "b" })].map((e) => e.key[0]);
   * assert.deepEqual(keys, [98, 99]);
   * ```
   */
  scanSync(options: ScanOptions = {}): IterableIterator<Entry> {
    this.#state.checkOpen();
    const plan = planScan(
      options,
      (snap) => this.#reads.snapshotSequence(snap),
    );
    return this.#reads.scanSync(plan);
  }

  /**
   * @internal {@link DB.scanSync} without the copies: each key and value is
   * a view of the engine's memory, valid only until the iterator moves on.
   * For layers that decode every entry at once (`openKv`'s list).
   * @param options As for {@link DB.scanSync}.
   * @returns An iterator of views.
   */
  scanViews(options: ScanOptions = {}): IterableIterator<Entry> {
    this.#state.checkOpen();
    const plan = planScan(
      options,
      (snap) => this.#reads.snapshotSequence(snap),
    );
    return this.#reads.scanSync(plan, false);
  }

  /**
   * @internal {@link DB.getSync} without the copy: a view of the engine's
   * memory, valid only until the next read of this database (decode it at
   * once). For layers above the engine (`openKv`).
   * @param key The key.
   * @returns The value's view, or undefined.
   */
  getView(key: Bytes): Uint8Array | undefined {
    return this.#reads.getSync(
      toLookupKey(key),
      this.#state.lastSequence,
      false,
    );
  }

  /**
   * @internal Counts `ops` reads or writes done by a layer above through the
   * synchronous calls, and gives the event loop its turn when one is due,
   * as the engine's own calls do.
   * @param ops How many.
   * @returns Resolves at once, or after the event loop's turn.
   */
  pace(ops: number): Promise<void> {
    return this.#pacer.pace(ops);
  }

  /**
   * Reads several keys at once, all as of one moment (the latest, or a
   * snapshot): one promise for all of them.
   *
   * @param keys The keys.
   * @param options `snapshot` reads as of that snapshot.
   * @returns The values, in the order of `keys` (`undefined` when absent).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * await using db = await DB.open(":memory:");
   * await db.put("a", "1");
   * const [a, b] = await db.getMany(["a", "b"]);
   * assert.equal(new TextDecoder().decode(a), "1");
   * assert.equal(b, undefined);
   * ```
   */
  getMany(
    keys: readonly Bytes[],
    options?: ReadOptions,
  ): Promise<(Uint8Array | undefined)[]> {
    try {
      if (!Array.isArray(keys)) {
        throw new InvalidArgumentError(
          `Invalid keys ${describe(keys)}: expected an array`,
        );
      }
      const reads = this.#reads;
      const lookups = keys.map((k) => toLookupKey(k));
      const seq = options === undefined
        ? this.#state.lastSequence
        : reads.snapshotSequence(readOptionsSnapshot(options));
      // One synchronous pass: no write lands between two of the reads.
      const values = lookups.map((k) => reads.getSync(k, seq));
      return this.#pacer.pace(keys.length).then(() => values);
    } catch (err) {
      return Promise.reject(err);
    }
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
    const state = this.#state;
    state.checkOpen();
    return state.snapshots.acquire(state.lastSequence);
  }

  // ------------------------------------------------- flush and compaction

  /**
   * Writes the memtable to a level-0 table now and waits for it.
   */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  /**
   * Compacts every key in `[start, end]` (default: everything) down to the
   * deepest level that holds data, dropping overwritten versions,
   * tombstones and what range deletes cover, where no snapshot needs them.
   *
   * @param options Optional inclusive bounds, and `onProgress`, told after
   * each compaction job how many bytes were read of about how many (see
   * {@link CompactionProgress}).
   *
   * @example Watch a compaction
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * await using db = await DB.open(":memory:", { memtableSize: 4096 });
   * for (let i = 0; i < 500; i++) await db.put(`k${i}`, "v".repeat(40));
   * const reports: number[] = [];
   * await db.compact({ onProgress: (p) => reports.push(p.bytesRead / p.totalBytes) });
   * assert.equal(reports.at(-1), 1);
   * ```
   */
  async compact(options: CompactOptions = {}): Promise<void> {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(
        `Invalid compact options ${describe(options)}: expected an object`,
      );
    }
    for (const name of Object.keys(options)) {
      if (name !== "start" && name !== "end" && name !== "onProgress") {
        throw new InvalidArgumentError(`Unknown compact option "${name}"`);
      }
    }
    const start = options.start === undefined
      ? undefined
      : toBound(options.start, "start");
    const end = options.end === undefined
      ? undefined
      : toBound(options.end, "end");
    const onProgress = options.onProgress;
    if (onProgress !== undefined && typeof onProgress !== "function") {
      throw new InvalidArgumentError(
        `Invalid onProgress ${describe(onProgress)}: expected a function`,
      );
    }
    await this.flush();
    await this.#background.compactRange(start, end, onProgress);
  }

  // ----------------------------------------------------------- checkpoint

  /**
   * Writes an online, consistent copy of the database into `dir` (which
   * must not exist, or be empty), openable on its own: every write
   * acknowledged before the call is in it, none made after it resolves
   * is. Tables are hard-linked (copied across filesystems), the WALs'
   * prefixes copied, a fresh manifest written; writers and readers go on
   * meanwhile. To back up, copy the checkpoint anywhere with any tool.
   *
   * @param dir Where to write the checkpoint.
   * @param options `onProgress`, told after each file.
   * @returns What the checkpoint holds.
   * @throws {ExistsError} When `dir` holds anything.
   *
   * @example Back up while serving
   * ```ts
   * import assert from "node:assert/strict";
   * import { DB } from "./db.ts";
   * const root = await Deno.makeTempDir();
   * const db = await DB.open(`${root}/live`);
   * await db.put("k", "v");
   * const report = await db.checkpoint(`${root}/backup`);
   * assert.equal(report.walFiles, 1);
   * await db.put("later", "not in the checkpoint");
   * await db.close();
   * const backup = await DB.open(`${root}/backup`, { readOnly: true });
   * assert.equal(new TextDecoder().decode(await backup.get("k")), "v");
   * assert.equal(await backup.get("later"), undefined);
   * await backup.close();
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async checkpoint(
    dir: string,
    options: CheckpointOptions = {},
  ): Promise<CheckpointReport> {
    if (typeof dir !== "string" || dir === "") {
      throw new InvalidArgumentError(
        `Invalid checkpoint directory ${describe(dir)}: expected a path`,
      );
    }
    if (
      typeof options !== "object" || options === null ||
      (options.onProgress !== undefined &&
        typeof options.onProgress !== "function")
    ) {
      throw new InvalidArgumentError(
        `Invalid checkpoint options ${describe(options)}`,
      );
    }
    const state = this.#state;
    return await writeCheckpoint(state, dir, options, () => {
      // Only a replaced version can have held the last claim on a file.
      this.#sweeper.request().catch(() => {});
    });
  }

  // ----------------------------------------------------------------- stats

  /**
   * Figures about the database: levels, memory, disk, compaction work,
   * write amplification and cache effectiveness.
   *
   * @returns A plain object (see {@link DBStats}).
   */
  stats(): DBStats {
    this.#state.checkOpen();
    return collectStats(this.#state);
  }

  /**
   * @internal Compaction scores per level, for tests and tools.
   * @returns One score per level.
   */
  compactionScores(): number[] {
    const state = this.#state;
    return compactionScores(state.versions.current, state.options);
  }

  /**
   * @internal The key ranges of every table per level, for invariant checks.
   * @returns Per level, the files' metadata.
   */
  levelFiles(): FileMeta[][] {
    const version = this.#state.versions.current;
    return Array.from(
      { length: NUM_LEVELS },
      (_, l) => version.files(l).slice(),
    );
  }

  /**
   * @internal Waits until no flush or compaction is running or needed.
   */
  async waitForBackgroundWork(): Promise<void> {
    await this.#background.idle();
    if (this.#state.bgError !== undefined) this.#state.checkWritable();
  }

  // ----------------------------------------------------------------- close

  /**
   * Closes the database: refuses new writes, writes the memtables to
   * level-0 tables (so the next open replays no log), gives the compactions
   * due up to a second to finish (then abandons the one in flight; the
   * next open resumes it), makes the WALs durable and releases the
   * directory. After a disk failure the memtables stay in their WALs for
   * the next open to replay. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    const state = this.#state;
    state.closing = true;
    state.changed.notify();
    try {
      // No rotation starts from now on; the one in flight finishes (or
      // removes the WAL it made) before anything closes.
      await this.#writes.settle();
      await this.#background.flushForClose();
      await this.#background.drainCompactions(CLOSE_COMPACTION_BUDGET_MS);
      await this.#background.stop();
      await this.#sweeper.idle;
      // What the last flush or compaction made obsolete.
      await this.#sweeper.sweep(true).catch(() => {});
      // Memtables not flushed yet stay in their WALs: the next open replays.
      // Every WAL is closed even if syncing one fails.
      let failure: unknown;
      for (const wal of [...state.imms.map((imm) => imm.wal), state.wal]) {
        await wal?.close().catch((err) => failure ??= err);
      }
      await state.versions.drain();
      // The lifetime counters as they stand (the last edit recorded them
      // as of the last flush or compaction). Not after a failure: no edit
      // may follow one.
      if (
        !state.options.readOnly && state.bgError === undefined &&
        state.versions.failure === undefined && failure === undefined &&
        !sameCounters(state.versions.lifetime, state.lifetimeTotals())
      ) {
        // Best effort: a torn record here is dropped by the next open, and
        // only counters would be lost.
        await state.versions.logAndApply({}).catch(() => {});
      }
      // A failure the writers were told of already (a background error) is
      // not news; one that only the last sync met is.
      if (failure !== undefined && state.bgError === undefined) throw failure;
    } finally {
      state.versions.close();
      state.tables.closeAll();
      this.#lock.release();
      state.closed = true;
    }
  }

  /** Same as {@link DB.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function sameCounters(
  recorded: Record<string, number>,
  now: LifetimeCounters,
): boolean {
  return Object.entries(now).every(([key, n]) => recorded[key] === n);
}
