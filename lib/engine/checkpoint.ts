/**
 * Checkpoints: an online, consistent copy of a database that opens on its
 * own (RocksDB's `Checkpoint::CreateCheckpoint` does the same).
 *
 * At the call, synchronously, so that no write can slip in between: the
 * current version is pinned (its tables stay on disk), and the length of
 * every WAL it still needs is taken. Every write acknowledged before the
 * call is in those tables or in those WAL prefixes (an append is handed to
 * the OS before its promise resolves); nothing written later is, since
 * later records lie past the lengths taken. Then, while writers and
 * readers go on:
 *
 * 1. each table is hard-linked into the new directory (copied when the
 *    link fails, as across filesystems): tables never change, so a link
 *    is a copy that costs nothing;
 * 2. each WAL's prefix is copied and synced;
 * 3. the directory is synced, a fresh manifest describing the pinned
 *    version is written, and `CURRENT` is pointed at it last, so that a
 *    checkpoint cut short by a crash has no `CURRENT` and does not open
 *    as a database (its files are creation leftovers to `DB.open`).
 *
 * Opening the checkpoint replays the WAL prefixes, as recovery after a
 * crash would.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { type Fs, type ReadableFile, writeAll } from "../fs/fs.ts";
import { syncDir, writeManifest } from "../manifest/version_set.ts";
import { ExistsError, InvalidArgumentError, IOError } from "../util/errors.ts";
import {
  logFileName,
  parseFileName,
  tableFileName,
} from "../util/filenames.ts";
import type { EngineState } from "./engine_state.ts";

/** What `DB.checkpoint` reports as it goes. */
export interface CheckpointProgress {
  /** Bytes linked or copied so far. */
  bytesDone: number;
  /** Bytes of every table and WAL prefix the checkpoint holds. */
  totalBytes: number;
  /** True in the last report. */
  done: boolean;
}

/** What a finished checkpoint holds. */
export interface CheckpointReport {
  /** The checkpoint's directory (absolute). */
  dir: string;
  /** Tables hard-linked. */
  linkedTables: number;
  /** Tables copied (a link failed: another filesystem). */
  copiedTables: number;
  /** Bytes of those tables. */
  tableBytes: number;
  /** WALs whose prefix was copied. */
  walFiles: number;
  /** Bytes of those prefixes. */
  walBytes: number;
  /** The last sequence number issued when the checkpoint was taken. */
  sequence: number;
}

/** Options of `DB.checkpoint`. */
export interface CheckpointOptions {
  /** Told after each file, and once at the end. */
  onProgress?: (progress: CheckpointProgress) => void;
}

// Copies go through a buffer of this size.
const COPY_CHUNK = 1 << 20;

interface LogPrefix {
  number: number;
  size: number;
  reader: ReadableFile;
}

/**
 * Writes a checkpoint of the database behind `state` into `target`, which
 * must not exist or be an empty directory (see the module documentation).
 *
 * @param state The open database.
 * @param target Where to write it.
 * @param options Progress reports.
 * @param released Called once the pinned version is let go (so that the
 * files only it kept can be swept).
 * @returns What the checkpoint holds.
 * @throws {ExistsError} When `target` holds anything.
 * @throws {InvalidArgumentError} When `target` is the database itself or
 * lies inside it.
 * @throws {IOError} When a file cannot be linked, copied or synced; what
 * was written of the checkpoint is removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * const fs = new MemFs();
 * const db = await DB.open("/db", { fs });
 * await db.put("k", "v");
 * await db.checkpoint("/backup"); // DB.checkpoint comes here
 * await db.close();
 * const copy = await DB.open("/backup", { fs });
 * assert.equal(new TextDecoder().decode(await copy.get("k")), "v");
 * await copy.close();
 * ```
 */
export async function writeCheckpoint(
  state: EngineState,
  target: string,
  options: CheckpointOptions,
  released: () => void,
): Promise<CheckpointReport> {
  state.checkOpen();
  const fs = state.fs;
  const dir = resolve(target);
  if (dir === state.dir || dir.startsWith(state.dir + "/")) {
    throw new InvalidArgumentError(
      `Invalid checkpoint directory "${target}": it is inside the database "${state.path}"`,
    );
  }
  const existing = fs.stat(dir);
  if (existing && (!existing.isDirectory || fs.listSync(dir).length > 0)) {
    throw new ExistsError(
      `Cannot write a checkpoint to "${target}": it exists and is not an empty directory`,
    );
  }

  // ---- the moment of the checkpoint: nothing below awaits
  const versions = state.versions;
  const version = versions.current;
  versions.pin(version);
  const edit = versions.snapshotEdit(version);
  const sequence = state.lastSequence;
  let logs: LogPrefix[];
  try {
    logs = captureLogs(state, versions.logNumber);
  } catch (err) {
    versions.unpin(version);
    released();
    throw err;
  }
  // ----

  const report: CheckpointReport = {
    dir,
    linkedTables: 0,
    copiedTables: 0,
    tableBytes: 0,
    walFiles: logs.length,
    walBytes: logs.reduce((n, l) => n + l.size, 0),
    sequence,
  };
  const tables = edit.added ?? [];
  const progress: CheckpointProgress = {
    bytesDone: 0,
    totalBytes: tables.reduce((n, [, f]) => n + f.size, 0) + report.walBytes,
    done: false,
  };
  let created = false;
  let pinned = true;
  try {
    await fs.mkdir(dir).catch((err) => {
      throw new IOError("create directory", dir, err);
    });
    created = true;
    for (const [, f] of tables) {
      const from = tableFileName(state.dir, f.number);
      const to = tableFileName(dir, f.number);
      if (await linkOrCopy(fs, from, to, f.size)) report.linkedTables++;
      else report.copiedTables++;
      report.tableBytes += f.size;
      progress.bytesDone += f.size;
      options.onProgress?.({ ...progress });
    }
    // Linked: the tables no longer need the pin.
    versions.unpin(version);
    pinned = false;
    released();
    for (const log of logs) {
      await copyPrefix(fs, log, logFileName(dir, log.number));
      progress.bytesDone += log.size;
      options.onProgress?.({ ...progress });
    }
    await syncDir(fs, dir);
    await syncDir(fs, dirname(dir));
    // Free numbers for the manifest and CURRENT's temp file: past every
    // file the checkpoint holds.
    const number = edit.nextFileNumber ?? versions.nextFileNumber;
    edit.nextFileNumber = number + 2;
    if (logs.length > 0) edit.logNumber = logs[0]!.number;
    await writeManifest(dir, number, edit, fs);
  } catch (err) {
    if (created) await fs.removeAll(dir).catch(() => {});
    throw err;
  } finally {
    for (const log of logs) log.reader.close();
    if (pinned) {
      versions.unpin(version);
      released();
    }
  }
  progress.done = true;
  options.onProgress?.({ ...progress });
  return report;
}

/**
 * The WALs recovery of the checkpoint needs, each opened now (a flush may
 * delete it meanwhile) with the length it has now.
 */
function captureLogs(state: EngineState, logNumber: number): LogPrefix[] {
  const fs = state.fs;
  const wanted: { number: number; size: number }[] = [];
  if (state.wal) {
    for (const imm of state.imms) {
      wanted.push({ number: imm.walNumber, size: imm.wal.size });
    }
    wanted.push({ number: state.walNumber, size: state.wal.size });
  } else {
    // Read-only: the logs on disk are all there is, and do not grow.
    for (const name of fs.listSync(state.dir)) {
      const parsed = parseFileName(name);
      if (parsed?.kind !== "log") continue;
      const size = fs.stat(join(state.dir, name))?.size ?? 0;
      wanted.push({ number: parsed.number, size });
    }
  }
  const logs: LogPrefix[] = [];
  try {
    // A memtable flushed a moment ago may still be listed: its WAL is
    // older than the version's log number and holds nothing it needs.
    for (const w of wanted.filter((w) => w.number >= logNumber)) {
      const path = logFileName(state.dir, w.number);
      logs.push({ ...w, reader: fs.openReadable(path) });
    }
  } catch (err) {
    for (const log of logs) log.reader.close();
    throw new IOError("open", state.dir, err);
  }
  return logs.sort((a, b) => a.number - b.number);
}

/** Hard-links `from` to `to`, or copies it; true when linked. */
async function linkOrCopy(
  fs: Fs,
  from: string,
  to: string,
  size: number,
): Promise<boolean> {
  try {
    await fs.link(from, to);
    return true;
  } catch {
    // EXDEV (another filesystem), or links not supported: copy.
  }
  const reader = fs.openReadable(from);
  try {
    await copyPrefix(fs, { number: 0, size, reader }, to);
  } finally {
    reader.close();
  }
  return false;
}

/** Copies the first `size` bytes of `src.reader` to a new synced file. */
async function copyPrefix(
  fs: Fs,
  src: LogPrefix,
  to: string,
): Promise<void> {
  let step = "create";
  try {
    const out = await fs.create(to);
    try {
      const buf = new Uint8Array(Math.min(COPY_CHUNK, Math.max(1, src.size)));
      for (let at = 0; at < src.size;) {
        step = "read";
        const want = Math.min(buf.length, src.size - at);
        const n = src.reader.readAt(buf, 0, want, at);
        if (n <= 0) {
          throw new Error(`the file ended at ${at} of ${src.size} bytes`);
        }
        step = "write";
        writeAll(out, buf.subarray(0, n));
        at += n;
      }
      step = "sync";
      await out.syncData();
    } finally {
      out.close();
    }
  } catch (err) {
    throw new IOError(step, to, err);
  }
}
