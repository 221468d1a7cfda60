/**
 * Recovery: rebuilding the memtable from the write-ahead logs that no table
 * covers yet, and reporting what could not be replayed.
 *
 * @module
 */

import type { Fs } from "../fs/fs.ts";
import { StrataError } from "../util/errors.ts";
import { logFileName, parseFileName } from "../util/filenames.ts";
import { MAX_SEQUENCE } from "../iterator/internal_key.ts";
import { MemTable } from "../memtable/memtable.ts";
import type { MemTablePool } from "../memtable/memtable_pool.ts";
import { syncDir, type VersionSet } from "../manifest/version_set.ts";
import type { VersionEdit } from "../manifest/version.ts";
import type { BackgroundWork } from "./background_work.ts";
import type { EngineState } from "./engine_state.ts";
import type { ObsoleteFileSweeper } from "./obsolete_files.ts";
import {
  replayWal,
  TYPE_RANGE_DELETE,
  WAL_MAGIC,
  WAL_VERSION,
  WalWriter,
} from "../wal/wal.ts";

/** What recovery found in the WALs when the database was opened. */
export interface RecoveryReport {
  /** WAL files replayed. */
  logFiles: number;
  /** Write batches replayed. */
  batches: number;
  /** Entries replayed. */
  entries: number;
  /**
   * Bytes of torn or corrupt WAL tail, and of a manifest's torn final
   * record, that were dropped (0 when clean).
   */
  droppedBytes: number;
  /** Why bytes were dropped, with the file and offset. */
  dropReasons: string[];
}

/**
 * Replays every WAL the manifest does not cover, oldest first, into a new
 * memtable. Stops at the first torn or corrupt record: later records, and
 * later logs, would leave a gap in history, so they are dropped and
 * reported (point-in-time recovery). Also moves the version set's next file
 * number past every file on disk.
 *
 * @param dir Database directory.
 * @param versions The recovered version set.
 * @param pool Memory for the recovered memtable to fill.
 * @returns The memtable, what was replayed or dropped, and the last
 * sequence number seen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayLogs } from "./recovery.ts";
 * import { VersionSet } from "../manifest/version_set.ts";
 * const dir = await Deno.makeTempDir();
 * const versions = await VersionSet.create(dir);
 * const { mem, report } = await replayLogs(dir, versions);
 * assert.equal(mem.count, 0);
 * assert.equal(report.droppedBytes, 0);
 * versions.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replayLogs(
  dir: string,
  versions: VersionSet,
  pool?: MemTablePool,
): Promise<
  {
    mem: MemTable;
    report: RecoveryReport;
    lastSequence: number;
    recyclableLog: string | undefined;
  }
> {
  const fs = versions.fs;
  const logs: number[] = [];
  // The largest log file in the layout whose records carry their log
  // number, and that holds nothing the tables do not (an obsolete one, as
  // a clean close leaves, or one replayed whole below): the new WAL can
  // reuse it (see finishRecovery).
  let recyclableLog: string | undefined;
  let recyclableSize = 0;
  for (const name of await fs.list(dir)) {
    const parsed = parseFileName(name);
    if (parsed?.kind === "log" && parsed.number >= versions.logNumber) {
      logs.push(parsed.number);
    } else if (parsed?.kind === "log") {
      const path = logFileName(dir, parsed.number);
      const size = walVersionAndSize(fs, path);
      if (size?.version === WAL_VERSION && size.bytes > recyclableSize) {
        recyclableLog = path;
        recyclableSize = size.bytes;
      }
    }
    // Never reuse the number of a file on disk, even one the manifest does
    // not know (a table written just before a crash).
    if (parsed && parsed.number >= versions.nextFileNumber) {
      versions.nextFileNumber = parsed.number + 1;
    }
  }
  logs.sort((a, b) => a - b);
  const mem = new MemTable(pool);
  const report: RecoveryReport = {
    logFiles: 0,
    batches: 0,
    entries: 0,
    droppedBytes: 0,
    dropReasons: [],
  };
  const tail = versions.droppedTail;
  if (tail) {
    report.droppedBytes += tail.bytes;
    report.dropReasons.push(
      `"${tail.file}" at offset ${tail.offset}: ${tail.reason} (an edit that never took effect)`,
    );
  }
  let lastSequence = versions.lastSequence;
  let stopped = false;
  for (const number of logs) {
    const path = logFileName(dir, number);
    if (stopped) {
      const size = fs.stat(path)?.size ?? 0;
      report.droppedBytes += size;
      report.dropReasons.push(`"${path}": follows a damaged log`);
      continue;
    }
    report.logFiles++;
    const result = replayWal(path, (first, ops) => {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        if (op.type === TYPE_RANGE_DELETE) {
          mem.addRangeTombstone(first + i, op.key, op.value);
        } else {
          mem.add(first + i, op.type, op.key, op.value);
        }
      }
      lastSequence = Math.max(lastSequence, first + ops.length - 1);
    }, fs);
    report.batches += result.batches;
    report.entries += result.entries;
    const size = result.validBytes + result.tailBytes;
    if (
      result.version === WAL_VERSION && result.droppedBytes === 0 &&
      size > recyclableSize
    ) {
      recyclableLog = path;
      recyclableSize = size;
    }
    if (result.droppedBytes > 0) {
      report.droppedBytes += result.droppedBytes;
      report.dropReasons.push(
        `"${path}" at offset ${result.dropOffset ?? result.validBytes}: ${
          result.dropReason ?? "torn record"
        }`,
      );
      stopped = true;
    }
    versions.nextFileNumber = Math.max(versions.nextFileNumber, number + 1);
  }
  if (lastSequence > MAX_SEQUENCE) {
    throw new StrataError("SEQUENCE", "Sequence numbers exhausted");
  }
  return { mem, report, lastSequence, recyclableLog };
}

/** A log file's header version and length; undefined when unreadable. */
function walVersionAndSize(
  fs: Fs,
  path: string,
): { version: number; bytes: number } | undefined {
  try {
    const file = fs.openReadable(path);
    try {
      const header = new Uint8Array(8);
      if (file.readAt(header, 0, 8, 0) < 8) return undefined;
      const view = new DataView(header.buffer);
      if (view.getUint32(0, true) !== WAL_MAGIC) return undefined;
      return { version: view.getUint32(4, true), bytes: file.size };
    } finally {
      file.close();
    }
  } catch {
    return undefined; // not worth reusing; the sweep deals with it
  }
}

/**
 * After replay, on a writable open: writes what the old WALs held to a
 * level-0 table, starts a fresh WAL, records both in the manifest, deletes
 * the old WALs and any debris, and lets compaction start.
 *
 * @param state The database's state, its memtable holding what replay found.
 * @param background Writes the level-0 table and schedules compaction.
 * @param sweeper Deletes what the new state makes obsolete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * const fs = new MemFs();
 * // Without flushOnClose, close leaves the write in the WAL alone.
 * const db = await DB.open("/db", { fs, flushOnClose: false });
 * await db.put("k", "v");
 * await db.close();
 * // Reopening replays the WAL into a table (finishRecovery) and starts a new WAL.
 * const again = await DB.open("/db", { fs });
 * assert.equal(again.stats().levels[0]!.files, 1);
 * await again.close();
 * ```
 */
export async function finishRecovery(
  state: EngineState,
  background: BackgroundWork,
  sweeper: ObsoleteFileSweeper,
): Promise<void> {
  const edit: VersionEdit = {};
  if (!state.mem.isEmpty) {
    // On the worker, though open waits for it and the main thread would
    // open faster (190 ms instead of 235 for bench:peers' database of
    // 83,000 recovered entries, and no image to copy): the compaction
    // that often follows a reopen then finds the worker's JIT warm, and
    // the reads meanwhile ran about 5% faster (10 runs each).
    const meta = await background.writeLevel0(state.mem);
    if (meta) edit.added = [[0, meta]];
    if (state.mem.rangeTombstones.length > 0) {
      edit.rangeTombstonesAdded = state.mem.rangeTombstones.slice();
    }
    state.mem.retire();
    state.mem = new MemTable(state.memPool);
  }
  state.walNumber = state.versions.newFileNumber();
  edit.logNumber = state.walNumber;
  edit.lastSequence = state.lastSequence;
  const walPath = logFileName(state.dir, state.walNumber);
  const old = state.recyclableLog;
  state.recyclableLog = undefined;
  if (old !== undefined) {
    // Reuse the old log file: its blocks are allocated, so durable writes
    // overwrite them. Only once the edit that makes it obsolete (its
    // records are in the table just written) is durable: a crash before
    // that replays it under its old name. A crash after the edit, before
    // or after the rename, finds no log or one whose records carry the
    // old number, which replay takes as the end of the new log.
    await state.versions.logAndApply(edit);
    state.wal = await WalWriter.recycle(old, walPath, state.fs);
    await syncDir(state.fs, state.dir);
  } else {
    state.wal = await WalWriter.create(walPath, state.fs);
    await syncDir(state.fs, state.dir);
    await state.versions.logAndApply(edit);
  }
  for (const f of edit.added ?? []) state.pendingOutputs.delete(f[1].number);
  await sweeper.request();
  background.scheduleCompaction();
}
