/**
 * Deleting the files no live version, WAL or manifest needs any more:
 * compaction inputs, flushed WALs, old manifests, leftovers of a crash.
 * A file is deleted only once the manifest edit that dropped it is
 * durable, and never after a disk failure (a failed edit may still be on
 * disk for the next open to read).
 *
 * @module
 */

import { join } from "node:path";
import { syncDir } from "../manifest/version_set.ts";
import { failpoint } from "../util/failpoints.ts";
import { parseFileName } from "../util/filenames.ts";
import { type EngineState, RESOLVED } from "./engine_state.ts";

/**
 * One database's sweeps of its directory, one at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * // The sweeper is internal: after a compaction, only live tables remain.
 * await using db = await DB.open(":memory:", { memtableSize: 1024 });
 * for (let i = 0; i < 500; i++) await db.put(`k${i % 50}`, "v".repeat(40));
 * await db.compact();
 * assert.equal(db.stats().levels.reduce((n, l) => n + l.files, 0) > 0, true);
 * ```
 */
export class ObsoleteFileSweeper {
  readonly #state: EngineState;
  #sweeps: Promise<void> = RESOLVED;
  /** The sweep waiting behind {@link ObsoleteFileSweeper.#sweeps}, not started yet. */
  #queued: Promise<void> | undefined;

  /**
   * @param state The database's state.
   */
  constructor(state: EngineState) {
    this.#state = state;
  }

  /**
   * Asks for a sweep, after a manifest edit made files obsolete.
   *
   * @returns Resolves once a sweep that started after this call finished.
   */
  request(): Promise<void> {
    // A sweep that has not started yet lists the directory later than this
    // call, so it covers this caller too: requests coalesce instead of
    // queueing one directory listing each.
    if (this.#queued) return this.#queued;
    const run = this.#sweeps.then(() => {
      this.#queued = undefined;
      return this.sweep();
    });
    this.#queued = run;
    this.#sweeps = run.catch(() => {});
    return run;
  }

  /** Resolves once no sweep is running or queued (close waits for it). */
  get idle(): Promise<void> {
    return this.#sweeps;
  }

  /**
   * Lists the directory and deletes what is obsolete.
   *
   * @param final The last sweep, which close() runs once background work
   * has stopped; other sweeps do nothing once closing has begun.
   */
  async sweep(final = false): Promise<void> {
    const state = this.#state;
    if (state.options.readOnly || state.closed) return;
    if (state.closing && !final) return;
    const versions = state.versions;
    // After a disk failure nothing on disk may be taken as obsolete: a
    // manifest edit that failed may still be there for the next open.
    const failed = () =>
      state.bgError !== undefined || versions.failure !== undefined;
    if (failed()) return;
    const names = await state.fs.list(state.dir);
    if (failed()) return;
    // Decide in one synchronous step after listing: the live set must not
    // go stale while outputs in flight move from pending to live.
    const live = versions.liveTableNumbers();
    const logNumber = versions.logNumber;
    const doomed = names.filter((name) => {
      const parsed = parseFileName(name);
      switch (parsed?.kind) {
        case "table":
          return !live.has(parsed.number) &&
            !state.pendingOutputs.has(parsed.number);
        case "log":
          return parsed.number < logNumber &&
            (parsed.number !== state.walNumber || state.walRetired);
        // A manifest rewrite writes a higher-numbered manifest and temp file
        // before CURRENT moves to them: only lower numbers are obsolete.
        case "manifest":
        case "temp":
          return parsed.number < versions.manifestNumber;
        default:
          return false;
      }
    });
    for (const name of doomed) {
      const parsed = parseFileName(name)!;
      if (parsed.kind === "table") state.tables.evict(parsed.number);
      await state.fs.remove(join(state.dir, name)).catch(() => {});
      failpoint("obsolete:deleted-one");
    }
    if (doomed.length > 0) await syncDir(state.fs, state.dir);
  }
}
