/**
 * Background work of one database: flushing full memtables to level-0
 * tables and compacting levels, scheduled here, run by the
 * {@link CompactionRunner} (on the Worker, or on the main thread in
 * slices), and installed here with a manifest edit each.
 *
 * @module
 */

import {
  type CompactionPlan,
  isTrivialMove,
  keyRange,
  pickCompaction,
  planForInputs,
  targetFileSize,
} from "../compaction/compaction.ts";
import {
  type FlushSettings,
  outputNumbersNeeded,
} from "../compaction/compaction_job.ts";
import type { RangeTombstone } from "../iterator/range_tombstones.ts";
import {
  type FileMeta,
  NUM_LEVELS,
  type VersionEdit,
} from "../manifest/version.ts";
import { syncDir } from "../manifest/version_set.ts";
import type { MemTable } from "../memtable/memtable.ts";
import { logFileName } from "../util/filenames.ts";
import { WalWriter } from "../wal/wal.ts";
import { ClosedError, IOError } from "../util/errors.ts";
import { failpoint } from "../util/failpoints.ts";
import type { EngineState } from "./engine_state.ts";
import type { ObsoleteFileSweeper } from "./obsolete_files.ts";

/**
 * Input tables of one job of a manual compaction below level 0: about
 * 64 MiB of tables at the default size, a few seconds of work.
 */
export const MANUAL_JOB_FILES = 32;

/** What `DB.compact({ onProgress })` is told after each job. */
export interface CompactionProgress {
  /** Bytes of tables the jobs so far have read. */
  bytesRead: number;
  /**
   * An estimate of the bytes all jobs will read (what compaction drops
   * makes it smaller; it is exact in the last report).
   */
  totalBytes: number;
  /** The level being compacted into the next. */
  level: number;
  /** The deepest level the compaction reaches. */
  bottomLevel: number;
  /** True in the last report, once everything is compacted. */
  done: boolean;
}

/**
 * Flush and compaction scheduling of one database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * // Internal: flushes and compactions happen as writes fill memtables.
 * await using db = await DB.open(":memory:", { memtableSize: 1024, l0CompactionTrigger: 2 });
 * for (let i = 0; i < 2000; i++) await db.put(`k${i % 300}`, "v".repeat(30));
 * await db.waitForBackgroundWork();
 * assert(db.stats().compactions.count > 0);
 * ```
 */
// The most bytes (level-0 tables and the level-1 tables they overlap) that
// close merges to leave level 0 empty: about what one merge here does in
// close's budget of a second (20 MB took 650-730 ms on bench:peers' machine).
const CLOSE_SETTLE_BYTES = 32 * 1024 * 1024;

export class BackgroundWork {
  readonly #state: EngineState;
  readonly #sweeper: ObsoleteFileSweeper;
  #flushing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  #compactionLock: Promise<void> = Promise.resolve();
  #manualCompactions = 0;

  /**
   * @param state The database's state.
   * @param sweeper Deletes what a flush or compaction made obsolete.
   */
  constructor(state: EngineState, sweeper: ObsoleteFileSweeper) {
    this.#state = state;
    this.#sweeper = sweeper;
  }

  // ---------------------------------------------------------------- flush

  /** Flushes the immutable memtables in the background, unless it runs. */
  startFlush(): void {
    if (this.#flushing) return;
    const state = this.#state;
    this.#flushing = this.#flushImmutables().catch((err) =>
      state.setBackgroundError(err)
    ).finally(() => {
      this.#flushing = undefined;
      state.changed.notify();
      // A rotation after the loop's last look, before this ran, found the
      // flush still running and left its memtable to it.
      if (
        state.imms.length > 0 && !state.closing &&
        state.bgError === undefined
      ) {
        this.startFlush();
      }
    });
  }

  /**
   * Flushes the immutable memtables, oldest first, until none is left or
   * the database closes. Those left are for close to write (see
   * {@link BackgroundWork.flushForClose}), or stay in their WALs: the next
   * open replays them all into one memtable and writes one level-0 table,
   * where flushing them here would leave a level-0 table each (bench:peers'
   * reopened database had 9 level-0 tables instead of 6, and its reads ran
   * 15% slower until the compaction that follows had merged them).
   */
  async #flushImmutables(): Promise<void> {
    const state = this.#state;
    while (state.imms.length > 0 && !state.closing) {
      const { mem, wal } = state.imms[0]!;
      const meta = await this.writeLevel0(mem);
      await wal.close(); // waits for sync writers still queued on it
      await syncDir(state.fs, state.dir); // the new WALs' and the table's entries
      failpoint("flush:table-synced");
      const edit: VersionEdit = {
        // The oldest WAL still needed: the next immutable's, or the live one.
        logNumber: state.imms[1]?.walNumber ?? state.walNumber,
        lastSequence: state.lastSequence,
      };
      if (meta) edit.added = [[0, meta]];
      if (mem.rangeTombstones.length > 0) {
        edit.rangeTombstonesAdded = mem.rangeTombstones.slice();
      }
      await state.versions.logAndApply(edit);
      failpoint("flush:manifest-appended");
      if (meta) state.pendingOutputs.delete(meta.number);
      state.imms.shift();
      mem.retire(); // its memory serves the next memtables
      state.changed.notify();
      await this.#sweeper.request();
      this.scheduleCompaction();
    }
  }

  /**
   * Writes a memtable to one new level-0 table (synced, not yet recorded).
   *
   * @param mem The memtable.
   * @returns The table, or undefined when the memtable was empty.
   */
  async writeLevel0(mem: MemTable): Promise<FileMeta | undefined> {
    const state = this.#state;
    // On the worker: the memtable is packed into one buffer (about a
    // millisecond for 4 MiB) that is transferred to it rather than cloned,
    // and comes back to hold the next flush's image; building the table
    // costs the main thread nothing.
    const settings = this.#flushSettings(mem.rangeTombstones);
    const result = await state.runner.flush(mem, settings);
    if (result.aborted) {
      // Closing: the memtable's WAL stays, and the next open replays it.
      throw new ClosedError(`Database "${state.path}" closed during a flush`);
    }
    const meta = result.outputs[0];
    if (meta) state.counters.flushBytesWritten += meta.size;
    state.counters.flushCount++;
    return meta;
  }

  /** How a flush writes its table, with the range deletes it must see. */
  #flushSettings(memTombstones: readonly RangeTombstone[]): FlushSettings {
    const state = this.#state;
    const settings: FlushSettings = {
      dir: state.dir,
      blockSize: state.options.blockSize,
      bloomBitsPerKey: state.options.bloomBitsPerKey,
      compression: state.options.compression,
      outputNumber: state.newOutputNumber(),
    };
    const tombstones = [
      ...state.versions.current.rangeTombstones,
      ...memTombstones,
    ];
    if (tombstones.length > 0) settings.rangeTombstones = tombstones;
    return settings;
  }

  // ----------------------------------------------------------- compaction

  #withCompactionLock<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#compactionLock.then(work);
    this.#compactionLock = run.then(() => {}, () => {});
    return run;
  }

  /** Starts background compaction if a level needs it and none runs. */
  scheduleCompaction(): void {
    const state = this.#state;
    if (
      this.#compacting || state.compactionsStopped ||
      state.bgError !== undefined
    ) {
      return;
    }
    if (state.options.readOnly || this.#manualCompactions > 0) return;
    const versions = state.versions;
    const pick = () =>
      pickCompaction(versions.current, state.options, versions.compactPointers);
    if (!pick()) return;
    this.#compacting = this.#withCompactionLock(async () => {
      while (!state.compactionsStopped && this.#manualCompactions === 0) {
        const plan = pick();
        if (!plan) break;
        await this.#runCompaction(plan, true);
      }
    }).catch((err) => state.setBackgroundError(err)).finally(() => {
      this.#compacting = undefined;
      state.changed.notify();
      // A flush after the loop's last look may have made level 0 need one.
      this.scheduleCompaction();
    });
  }

  /**
   * Compacts every key in `[start, end]` down to the deepest level that
   * holds data (a manual compaction), waiting for background compactions
   * to yield. Below level 0 it works in jobs of about
   * {@link MANUAL_JOB_FILES} input tables, so that each job is short and
   * progress can be told.
   *
   * @param start Inclusive lower bound, or everything.
   * @param end Inclusive upper bound, or everything.
   * @param onProgress Told after each job (see {@link CompactionProgress}).
   */
  async compactRange(
    start: Uint8Array | undefined,
    end: Uint8Array | undefined,
    onProgress?: (progress: CompactionProgress) => void,
  ): Promise<void> {
    const state = this.#state;
    this.#manualCompactions++;
    try {
      await this.#withCompactionLock(async () => {
        // Like LevelDB's CompactRange: push every level that holds keys in
        // the range one level down, so that even the deepest level is
        // rewritten and loses its dead entries.
        const version = state.versions.current;
        let bottom = 0;
        const bytes: number[] = [];
        for (let l = 0; l < NUM_LEVELS; l++) {
          const files = version.overlapping(l, start, end);
          bytes.push(files.reduce((n, f) => n + f.size, 0));
          if (files.length > 0) bottom = l;
        }
        // What the jobs will read if little is dropped: at each level,
        // everything pushed down from above, and what it lands on below.
        let above = 0;
        let totalBytes = 0;
        for (let l = 0; l <= bottom; l++) {
          above += bytes[l]!;
          totalBytes += above + (bytes[l + 1] ?? 0);
        }
        const progress: CompactionProgress = {
          bytesRead: 0,
          totalBytes,
          level: 0,
          bottomLevel: bottom,
          done: false,
        };
        for (let level = 0; level <= bottom; level++) {
          progress.level = level;
          while (true) {
            state.checkWritable();
            const current = state.versions.current;
            let inputs = level === 0
              ? current.files(0).slice()
              : current.overlapping(level, start, end);
            // Each pass takes the first files left; a rewritten last level
            // gets new numbers, so it is taken once, whole.
            if (level > 0 && level < NUM_LEVELS - 1) {
              inputs = inputs.slice(0, MANUAL_JOB_FILES);
            }
            if (inputs.length === 0) break;
            const plan = planForInputs(current, level, inputs);
            await this.#runCompaction(plan, false);
            for (const f of [...plan.inputs, ...plan.overlaps]) {
              progress.bytesRead += f.size;
            }
            progress.totalBytes = Math.max(
              progress.totalBytes,
              progress.bytesRead,
            );
            onProgress?.({ ...progress });
            if (level === 0 || level === NUM_LEVELS - 1) break;
          }
        }
        progress.totalBytes = progress.bytesRead;
        progress.done = true;
        onProgress?.({ ...progress });
      });
    } catch (err) {
      // A disk error stops writes, as it does in a background compaction.
      if (err instanceof IOError) state.setBackgroundError(err);
      throw err;
    } finally {
      this.#manualCompactions--;
    }
    this.scheduleCompaction();
  }

  async #runCompaction(
    plan: CompactionPlan,
    allowTrivialMove: boolean,
  ): Promise<void> {
    const state = this.#state;
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
      await state.versions.logAndApply(edit);
      state.changed.notify();
      return;
    }
    const version = state.versions.current;
    state.versions.pin(version);
    const bytesIn = [...inputs, ...overlaps].reduce((n, f) => n + f.size, 0);
    const fileSize = targetFileSize(state.options);
    const reserved = Array.from(
      { length: outputNumbersNeeded(bytesIn, fileSize) },
      () => state.newOutputNumber(),
    );
    try {
      const deeperLevels: FileMeta[][] = [];
      for (let l = outLevel + 1; l < NUM_LEVELS; l++) {
        deeperLevels.push(version.files(l).slice());
      }
      const result = await state.runner.run({
        kind: "compaction",
        dir: state.dir,
        inputs, // newest first, so equal (key, seq) pairs keep their order
        overlaps,
        blockSize: state.options.blockSize,
        bloomBitsPerKey: state.options.bloomBitsPerKey,
        compression: state.options.compression,
        targetFileSize: fileSize,
        smallestSnapshot: state.snapshots.oldest(state.lastSequence),
        deeperLevels,
        outputNumbers: reserved,
        ...(state.options.valueExpiry
          ? { expiry: { ...state.options.valueExpiry, nowMs: Date.now() } }
          : {}),
        ...(version.rangeTombstones.length > 0
          ? { rangeTombstones: version.rangeTombstones.slice() }
          : {}),
      });
      if (result.aborted) return;
      await syncDir(state.fs, state.dir);
      failpoint("compaction:outputs-synced");
      edit.added = result.outputs.map((f): [number, FileMeta] => [outLevel, f]);
      // Counted before the edit, which records the lifetime totals.
      const counters = state.counters;
      counters.compactionCount++;
      counters.compactionBytesRead += bytesIn;
      counters.compactionBytesWritten += result.outputs.reduce(
        (n, f) => n + f.size,
        0,
      );
      await state.versions.logAndApply(edit);
      failpoint("compaction:manifest-appended");
    } finally {
      state.versions.unpin(version);
      // Outputs are live in the version now, or (aborted, failed) orphans
      // for the next sweep to delete.
      for (const n of reserved) state.pendingOutputs.delete(n);
    }
    state.changed.notify();
    await this.#sweeper.request();
  }

  // ------------------------------------------------------------ lifecycle

  /** Resolves once no flush or compaction is running or needed. */
  async idle(): Promise<void> {
    while (this.#flushing || this.#compacting) {
      await Promise.all([this.#flushing, this.#compacting]);
    }
  }

  /**
   * For close(), once writes have stopped: writes what the memtables hold,
   * the immutable ones and the live one, to level-0 tables, and records
   * that their WALs are no longer needed. The next open then
   * replays no log, and the compactions close lets run (see
   * {@link BackgroundWork.drainCompactions}) see every table: bench:peers'
   * readrandom after a reopen ran 203k/s with 5 level-0 tables and a
   * compaction at open, 253-280k/s on the settled tree. Nothing is done
   * after a disk failure: the WALs keep what they hold for the next open.
   */
  async flushForClose(): Promise<void> {
    const state = this.#state;
    await this.#flushing;
    const mems = [...state.imms.map((imm) => imm.mem), state.mem].filter((
      m,
    ) => !m.isEmpty || m.rangeTombstones.length > 0);
    if (
      mems.length === 0 || state.options.readOnly ||
      !state.options.flushOnClose || state.bgError !== undefined ||
      state.versions.failure !== undefined
    ) {
      return;
    }
    // One table per memtable, each on the worker through the image buffer
    // the flushes share: merging them into one table on the main thread
    // (fewer level-0 tables) raised bench:peers' peak RSS from 193 to 202
    // MiB, and copying them into one memtable for the worker to 225 MiB.
    // The compactions close lets run merge the tables anyway.
    const added: [number, FileMeta][] = [];
    for (const mem of mems) {
      const meta = await this.writeLevel0(mem);
      if (meta) added.push([0, meta]);
    }
    const rangeTombstones = mems.flatMap((m) => m.rangeTombstones);
    // The recovered state must start from a WAL that exists (an edit whose
    // WAL is gone reads as one acted on): an empty one, after every WAL of
    // this open, which the next open replays as nothing.
    const number = state.versions.newFileNumber();
    const empty = await WalWriter.create(
      logFileName(state.dir, number),
      state.fs,
    );
    await empty.close();
    await syncDir(state.fs, state.dir); // the table's and the WAL's entries
    const edit: VersionEdit = {
      logNumber: number,
      lastSequence: state.lastSequence,
    };
    if (added.length > 0) edit.added = added;
    if (rangeTombstones.length > 0) edit.rangeTombstonesAdded = rangeTombstones;
    await state.versions.logAndApply(edit);
    state.walRetired = true;
    for (const [, meta] of added) state.pendingOutputs.delete(meta.number);
  }

  /**
   * For close(), once writes have stopped: lets the automatic compactions
   * go on (no new flush starts) until no level needs one or `budgetMs` has
   * passed, whichever comes first. Finishing them here, rather than
   * abandoning the one in flight, leaves the next open a settled tree: no
   * compaction competing with its first reads, and the space of
   * overwritten versions given back.
   *
   * @param budgetMs The longest close waits for compactions.
   */
  async drainCompactions(budgetMs: number): Promise<void> {
    const state = this.#state;
    if (!state.options.readOnly && budgetMs > 0) {
      this.scheduleCompaction();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeUp = new Promise<false>((r) =>
        timer = setTimeout(r, budgetMs, false)
      );
      try {
        let settled = false;
        while (state.bgError === undefined) {
          if (this.#compacting === undefined) {
            // The due compactions are done: settle level 0, once, then
            // see whether that made a deeper level due.
            if (!settled) {
              settled = true;
              if (!this.#settleLevel0()) continue;
            } else this.scheduleCompaction();
          }
          const compacting = this.#compacting;
          if (compacting === undefined) break;
          const done = await Promise.race([
            compacting.then(() => true),
            timeUp,
          ]);
          if (!done) break;
        }
      } finally {
        clearTimeout(timer);
      }
    }
    state.compactionsStopped = true;
  }

  /**
   * For close(), once the due compactions are done: merges what level 0
   * still holds into level 1, when that merge is small enough to finish in
   * close's budget. Every read probes each level-0 table, so a reopen that
   * finds none reads faster (200,000 random keys after fillrandom +
   * overwrite, three level-0 tables: readrandom after the reopen 265-308k/s
   * -> 328-426k/s, warm getSync 410-430k -> 540-680k/s). It is about the
   * work the level-0 trigger would soon do anyway: tables made by closes
   * are small, and four of them would be merged with the same level-1
   * files.
   *
   * @returns Whether a compaction started.
   */
  #settleLevel0(): boolean {
    const state = this.#state;
    const current = state.versions.current;
    const files = current.files(0);
    if (
      files.length === 0 || this.#compacting !== undefined ||
      !state.options.flushOnClose || this.#manualCompactions > 0
    ) {
      return false;
    }
    const plan = planForInputs(current, 0, files.slice());
    let bytes = 0;
    for (const f of [...plan.inputs, ...plan.overlaps]) bytes += f.size;
    if (bytes > CLOSE_SETTLE_BYTES) return false;
    this.#compacting = this.#withCompactionLock(() =>
      this.#runCompaction(plan, true)
    ).catch((err) => state.setBackgroundError(err)).finally(() => {
      this.#compacting = undefined;
      state.changed.notify();
    });
    return true;
  }

  /**
   * For close(): lets a flush in progress finish (it frees a WAL), aborts
   * a compaction in flight (the next open resumes it) and waits until no
   * job touches a file.
   */
  async stop(): Promise<void> {
    await this.#flushing;
    await this.#state.runner.stop(); // a merge in flight is abandoned
    await this.#compacting;
    await this.#compactionLock;
  }
}
