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
import { outputNumbersNeeded } from "../compaction/compaction_job.ts";
import {
  type FileMeta,
  NUM_LEVELS,
  type VersionEdit,
} from "../manifest/version.ts";
import { syncDir } from "../manifest/version_set.ts";
import type { MemTable } from "../memtable/memtable.ts";
import { ClosedError, IOError } from "../util/errors.ts";
import { failpoint } from "../util/failpoints.ts";
import type { EngineState } from "./engine_state.ts";
import type { ObsoleteFileSweeper } from "./obsolete_files.ts";

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
   * the database closes. Those left stay in their WALs: the next open
   * replays them all into one memtable and writes one level-0 table, where
   * flushing them here would leave a level-0 table each (bench:peers'
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
    const result = await state.runner.flush(mem, {
      dir: state.dir,
      blockSize: state.options.blockSize,
      bloomBitsPerKey: state.options.bloomBitsPerKey,
      outputNumber: state.newOutputNumber(),
    });
    if (result.aborted) {
      // Closing: the memtable's WAL stays, and the next open replays it.
      throw new ClosedError(`Database "${state.path}" closed during a flush`);
    }
    const meta = result.outputs[0];
    if (meta) state.counters.flushBytesWritten += meta.size;
    return meta;
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
    if (this.#compacting || state.closing || state.bgError !== undefined) {
      return;
    }
    if (state.options.readOnly || this.#manualCompactions > 0) return;
    const versions = state.versions;
    const pick = () =>
      pickCompaction(versions.current, state.options, versions.compactPointers);
    if (!pick()) return;
    this.#compacting = this.#withCompactionLock(async () => {
      while (!state.closing && this.#manualCompactions === 0) {
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
   * to yield.
   *
   * @param start Inclusive lower bound, or everything.
   * @param end Inclusive upper bound, or everything.
   */
  async compactRange(
    start: Uint8Array | undefined,
    end: Uint8Array | undefined,
  ): Promise<void> {
    const state = this.#state;
    this.#manualCompactions++;
    try {
      await this.#withCompactionLock(async () => {
        // Like LevelDB's CompactRange: push every level that holds keys in
        // the range one level down, so that even the deepest level is
        // rewritten and loses its dead entries.
        let bottom = 0;
        for (let l = 0; l < NUM_LEVELS; l++) {
          if (state.versions.current.overlapping(l, start, end).length > 0) {
            bottom = l;
          }
        }
        for (let level = 0; level <= bottom; level++) {
          state.checkWritable();
          const version = state.versions.current;
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
        targetFileSize: fileSize,
        smallestSnapshot: state.snapshots.oldest(state.lastSequence),
        deeperLevels,
        outputNumbers: reserved,
        ...(state.options.valueExpiry
          ? { expiry: { ...state.options.valueExpiry, nowMs: Date.now() } }
          : {}),
      });
      if (result.aborted) return;
      await syncDir(state.fs, state.dir);
      failpoint("compaction:outputs-synced");
      edit.added = result.outputs.map((f): [number, FileMeta] => [outLevel, f]);
      await state.versions.logAndApply(edit);
      failpoint("compaction:manifest-appended");
      const counters = state.counters;
      counters.compactionCount++;
      counters.compactionBytesRead += bytesIn;
      counters.compactionBytesWritten += result.outputs.reduce(
        (n, f) => n + f.size,
        0,
      );
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
