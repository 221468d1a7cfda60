/**
 * Opening a database directory, up to the point where the engine's parts
 * can run: decide what the directory holds (and refuse before touching it
 * when the options say so), create it, lock it, recover or create the
 * version set, replay the WALs, and assemble the shared state.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { CompactionRunner } from "../compaction/compaction_runner.ts";
import { syncDir, VersionSet } from "../manifest/version_set.ts";
import { MEMTABLE_CHUNK_BYTES } from "../memtable/memtable.ts";
import { MemTablePool } from "../memtable/memtable_pool.ts";
import { BlockCache } from "../sstable/block_cache.ts";
import { TableCache } from "../sstable/table_cache.ts";
import { ExistsError, NotFoundError } from "../util/errors.ts";
import { inspectDirectory } from "./database_directory.ts";
import { EngineState } from "./engine_state.ts";
import { DirectoryLock } from "./lock.ts";
import type { ResolvedOptions } from "./options.ts";
import { type RecoveryReport, replayLogs } from "./recovery.ts";

/** What {@link openEngine} hands the {@link DB} it becomes. */
export interface OpenedEngine {
  /** The shared state, its memtable holding what replay found. */
  state: EngineState;
  /** The held directory lock. */
  lock: DirectoryLock;
  /** What replay found and dropped. */
  report: RecoveryReport;
}

/**
 * Opens (or creates) the database in `dir` up to a recovered state.
 *
 * @param path The path as the caller gave it (for messages).
 * @param dir The absolute directory.
 * @param opts The checked options.
 * @returns The state, the lock and the recovery report.
 * @throws {NotFoundError} No database and creation not allowed.
 * @throws {ExistsError} A database and `errorIfExists`.
 * @throws {LockedError} The directory is held.
 * @throws {CorruptionError} The manifest, CURRENT or a WAL is damaged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEngine } from "./open_engine.ts";
 * import { resolveOptions } from "./options.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * const opts = resolveOptions({ fs: new MemFs() });
 * const { state, lock, report } = await openEngine("/db", "/db", opts);
 * assert.equal(report.droppedBytes, 0);
 * state.versions.close();
 * lock.release();
 * ```
 */
export async function openEngine(
  path: string,
  dir: string,
  opts: ResolvedOptions,
): Promise<OpenedEngine> {
  const fs = opts.fs;
  // Decide before touching the directory, so a refused open changes nothing.
  const before = inspectDirectory(fs, dir);
  if (before.kind !== "database" && (!opts.createIfMissing || opts.readOnly)) {
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
    const found = inspectDirectory(fs, dir);
    if (found.kind === "database" && opts.errorIfExists) {
      throw new ExistsError(
        `Cannot create database "${path}": it exists already`,
      );
    }
    if (found.kind === "unfinished") {
      // A crash cut a creation short: nothing in it was ever acknowledged.
      for (const name of found.leftovers) await fs.remove(join(dir, name));
      await syncDir(fs, dir);
    }
    versions = found.kind === "database"
      ? await VersionSet.recover(dir, { readOnly: opts.readOnly, fs })
      : await VersionSet.create(dir, fs);
    const blockCache = new BlockCache(opts.blockCacheSize);
    const memPool = new MemTablePool(opts.memtableSize, MEMTABLE_CHUNK_BYTES);
    const { mem, report, lastSequence, recyclableLog } = await replayLogs(
      dir,
      versions,
      memPool,
    );
    const tables = new TableCache(dir, blockCache, fs);
    const state = new EngineState({
      path,
      dir,
      options: opts,
      versions,
      blockCache,
      tables,
      runner: new CompactionRunner(tables, {
        spareImageBytes: 2 * opts.memtableSize,
        useWorker: opts.backgroundWorker,
        fs,
      }),
      memPool,
      mem,
    });
    state.lastSequence = Math.max(lastSequence, versions.lastSequence);
    state.recyclableLog = recyclableLog;
    versions.lifetimeSource = () => ({ ...state.lifetimeTotals() });
    return { state, lock, report };
  } catch (err) {
    versions?.close();
    lock.release();
    throw err;
  }
}
