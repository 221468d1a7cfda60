/**
 * Offline verification of a database directory: every checksum of the
 * live manifest, the live WALs and every live SSTable, and the ordering
 * invariants that tie them together. It reads files only; it never opens
 * the database for writing, so it is safe on a damaged database.
 *
 * What is checked:
 *
 * - `CURRENT` names an existing `MANIFEST-NNNNNN`.
 * - The manifest: header, every record's CRC32C, every edit decodes and
 *   applies (no removal of a file the level does not hold); a torn final
 *   record is reported (recovery ignores it).
 * - Each live table: it exists, its size matches the manifest, and
 *   {@link SSTableReader.verify} passes (footer, index, filter, properties
 *   and every data block checksum; keys strictly increasing in internal
 *   order); its entry count and smallest/largest keys match the manifest;
 *   its sequence numbers do not exceed the last sequence in use.
 * - Levels 1 and deeper: files sorted by key and disjoint.
 * - Each live WAL (number >= the manifest's log number): header and every
 *   record's CRC32C (a torn or corrupt tail is reported with its offset);
 *   batch sequence numbers increase from record to record and file to file.
 *
 * Tables on disk that the manifest does not list (left by a crash before
 * cleanup) are not problems; they are listed in {@link VerifyReport.orphans}.
 *
 * @module
 */

import { join } from "node:path";
import { diskFs } from "../fs/disk_fs.ts";
import { type Fs, isNotFound } from "../fs/fs.ts";
import { compareBytes } from "../util/bytes.ts";
import { BlockCache } from "../sstable/block_cache.ts";
import { CorruptionError, NotFoundError } from "../util/errors.ts";
import {
  logFileName,
  parseFileName,
  tableFileName,
} from "../util/filenames.ts";
import { compareInternal } from "../iterator/internal_key.ts";
import { readManifest } from "../manifest/manifest.ts";
import { SSTableReader } from "../sstable/sstable_reader.ts";
import { type FileMeta, Version } from "../manifest/version.ts";
import { replayWal } from "../wal/wal.ts";

// Tables are read once each; a small cache keeps memory flat however big
// the database is.
const VERIFY_CACHE_BYTES = 1 << 20;

/** One problem {@link verifyDatabase} found. */
export interface VerifyProblem {
  /** Path of the file at fault. */
  file: string;
  /** Byte offset of the problem in `file` (0 when it concerns the whole file). */
  offset: number;
  /** What is wrong. */
  message: string;
}

/** What {@link verifyDatabase} checked and found. */
export interface VerifyReport {
  /** The database directory. */
  dir: string;
  /** True when no problem was found. */
  ok: boolean;
  /** Every problem, in the order found. */
  problems: VerifyProblem[];
  /**
   * True when another process held the database open during the check: its
   * compactions may delete or add files meanwhile, so problems may be false
   * alarms. Verify a closed database for a definite answer.
   */
  inUse: boolean;
  /** Live manifest, WALs and tables checked, and their bytes. */
  checked: { manifests: number; logs: number; tables: number; bytes: number };
  /** Entries in the live tables, plus entries in the live WALs. */
  entries: number;
  /** Table files on disk that the manifest does not list. */
  orphans: string[];
}

/** Why a reader threw, without the "Corruption in … at offset N:" prefix. */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /at offset \d+: (.*)$/s.exec(message);
  return m ? m[1]! : message.replace(/^strata: /, "");
}

// A shared lock on LOCK succeeds unless the database is open (the engine
// holds it exclusively), and keeps it from being opened while we read.
function probeLock(fs: Fs, dir: string): { inUse: boolean; release(): void } {
  const lock = fs.lockShared(join(dir, "LOCK"));
  return "release" in lock
    ? { inUse: false, release: () => lock.release() }
    : { inUse: true, release() {} };
}

/**
 * Checks every WAL, the manifest and every SSTable of a database, without
 * opening it for writing.
 *
 * @param dir The database directory.
 * @param onProgress Called after each file with bytes checked and the total.
 * @param fs The filesystem (the real one by default).
 * @returns The report; `ok` is true only when no problem was found.
 * @throws {NotFoundError} When `dir` holds no database.
 *
 * @example A fresh database is clean
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "../../mod.ts";
 * import { verifyDatabase } from "./verify.ts";
 * const dir = await Deno.makeTempDir();
 * const db = await DB.open(dir);
 * await db.put("a", "1");
 * await db.flush();
 * await db.close();
 * const report = await verifyDatabase(dir);
 * assert(report.ok && report.checked.tables === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function verifyDatabase(
  dir: string,
  onProgress?: (doneBytes: number, totalBytes: number) => void,
  fs: Fs = diskFs,
): Promise<VerifyReport> {
  // Synchronous reads throughout (as the engine's recovery does); async for
  // the caller's convenience and future streaming.
  return Promise.resolve().then(() => verifySync(dir, onProgress, fs));
}

function verifySync(
  dir: string,
  onProgress: ((doneBytes: number, totalBytes: number) => void) | undefined,
  fs: Fs,
): VerifyReport {
  const names: string[] = [];
  try {
    for (const name of fs.listSync(dir)) {
      if (fs.stat(join(dir, name))?.isFile) names.push(name);
    }
  } catch (err) {
    if (isNotFound(err) || err instanceof Deno.errors.NotADirectory) {
      throw new NotFoundError(
        `Cannot verify "${dir}": the directory does not exist`,
      );
    }
    throw err;
  }
  const parsed = names.map((name) => ({ name, parsed: parseFileName(name) }));
  if (!parsed.some((p) => p.parsed && p.parsed.kind !== "lock")) {
    throw new NotFoundError(`Cannot verify "${dir}": it holds no database`);
  }
  const report: VerifyReport = {
    dir,
    ok: false,
    problems: [],
    inUse: false,
    checked: { manifests: 0, logs: 0, tables: 0, bytes: 0 },
    entries: 0,
    orphans: [],
  };
  const problem = (file: string, offset: number, message: string) => {
    report.problems.push({ file, offset, message });
  };
  const lock = probeLock(fs, dir);
  report.inUse = lock.inUse;
  const fileSize = (path: string) => fs.stat(path)?.size;
  try {
    checkAll(dir, parsed, report, problem, onProgress, fs, fileSize);
  } finally {
    lock.release();
  }
  report.ok = report.problems.length === 0;
  return report;
}

function checkAll(
  dir: string,
  entries: { name: string; parsed: ReturnType<typeof parseFileName> }[],
  report: VerifyReport,
  problem: (file: string, offset: number, message: string) => void,
  onProgress: ((doneBytes: number, totalBytes: number) => void) | undefined,
  fs: Fs,
  fileSize: (path: string) => number | undefined,
): void {
  // CURRENT → manifest.
  const currentPath = join(dir, "CURRENT");
  let manifestPath: string | undefined;
  try {
    const text = new TextDecoder().decode(fs.readFile(currentPath));
    const m = /^(MANIFEST-\d+)\n$/.exec(text);
    if (!m) {
      problem(
        currentPath,
        0,
        `does not name a manifest: ${JSON.stringify(text.slice(0, 40))}`,
      );
    } else {
      manifestPath = join(dir, m[1]!);
      if (fileSize(manifestPath) === undefined) {
        problem(currentPath, 0, `names "${m[1]}", which does not exist`);
        manifestPath = undefined;
      }
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    problem(currentPath, 0, "CURRENT is missing: no manifest is live");
  }

  // Replay the manifest into a version, remembering where each file was added.
  let version = Version.empty();
  let logNumber = 0;
  let nextFileNumber: number | undefined;
  let lastSequence = 0;
  const addedAt = new Map<number, number>();
  if (manifestPath !== undefined) {
    report.checked.manifests++;
    report.checked.bytes += fileSize(manifestPath) ?? 0;
    try {
      const contents = readManifest(manifestPath, fs);
      for (let i = 0; i < contents.edits.length; i++) {
        const edit = contents.edits[i]!;
        const at = contents.offsets[i]!;
        try {
          version = version.apply(edit, manifestPath);
        } catch (err) {
          problem(manifestPath, at, reasonOf(err));
        }
        for (const [, f] of edit.added ?? []) addedAt.set(f.number, at);
        if (edit.logNumber !== undefined) logNumber = edit.logNumber;
        if (edit.nextFileNumber !== undefined) {
          nextFileNumber = edit.nextFileNumber;
        }
        if (edit.lastSequence !== undefined) {
          lastSequence = Math.max(lastSequence, edit.lastSequence);
        }
      }
      if (contents.droppedBytes > 0) {
        problem(
          manifestPath,
          contents.validBytes,
          `torn final record: ${contents.droppedBytes} bytes that recovery ignores`,
        );
      }
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      problem(err.file, err.offset, reasonOf(err));
    }
  }

  const liveTables: { level: number; meta: FileMeta }[] = [];
  for (let level = 0; level < 7; level++) {
    for (const meta of version.files(level)) liveTables.push({ level, meta });
  }
  const liveNumbers = new Set(liveTables.map((t) => t.meta.number));
  const logs = entries
    .filter((e) => e.parsed?.kind === "log" && e.parsed.number >= logNumber)
    .map((e) => e.parsed!.number)
    .sort((a, b) => a - b);
  for (const e of entries) {
    if (e.parsed?.kind === "table" && !liveNumbers.has(e.parsed.number)) {
      report.orphans.push(join(dir, e.name));
    }
  }
  let totalBytes = report.checked.bytes;
  for (const t of liveTables) {
    totalBytes += fileSize(tableFileName(dir, t.meta.number)) ?? 0;
  }
  for (const n of logs) totalBytes += fileSize(logFileName(dir, n)) ?? 0;
  onProgress?.(report.checked.bytes, totalBytes);

  // WALs first: their sequence numbers bound the tables' too.
  let prevLast = 0;
  let walLastSequence = 0;
  for (const n of logs) {
    const path = logFileName(dir, n);
    report.checked.logs++;
    report.checked.bytes += fileSize(path) ?? 0;
    let offset = 8; // after the file header
    let sequenceProblem = false;
    try {
      const result = replayWal(path, (first, ops) => {
        if (first <= prevLast && !sequenceProblem) {
          sequenceProblem = true;
          problem(
            path,
            offset,
            `batch starts at sequence ${first}, not after ${prevLast}`,
          );
        }
        prevLast = first + ops.length - 1;
        let size = 20;
        for (const op of ops) {
          size += 9 + op.key.length + (op.type === 1 ? op.value.length : 0);
        }
        offset += size;
      }, fs);
      report.entries += result.entries;
      walLastSequence = Math.max(walLastSequence, result.lastSequence);
      if (result.droppedBytes > 0) {
        problem(
          path,
          result.dropOffset ?? result.validBytes,
          `${
            result.dropReason ?? "torn record"
          }; recovery drops the last ${result.droppedBytes} bytes`,
        );
      }
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      problem(err.file, err.offset, reasonOf(err));
    }
    onProgress?.(report.checked.bytes, totalBytes);
  }
  const maxSequence = Math.max(lastSequence, walLastSequence);

  // Tables.
  const cache = new BlockCache(VERIFY_CACHE_BYTES);
  for (const { level, meta } of liveTables) {
    const path = tableFileName(dir, meta.number);
    const at = addedAt.get(meta.number) ?? 0;
    const size = fileSize(path);
    report.checked.tables++;
    if (size === undefined) {
      problem(
        path,
        0,
        `missing: the manifest lists it in level ${level} (edit at offset ${at})`,
      );
      continue;
    }
    report.checked.bytes += size;
    if (size !== meta.size) {
      problem(path, 0, `is ${size} bytes; the manifest says ${meta.size}`);
    }
    if (nextFileNumber !== undefined && meta.number >= nextFileNumber) {
      problem(
        path,
        0,
        `file number ${meta.number} is not below the manifest's next file number ${nextFileNumber}`,
      );
    }
    checkTable(path, meta, maxSequence, cache, report, problem, fs);
    onProgress?.(report.checked.bytes, totalBytes);
  }

  // Levels 1+: sorted by key, disjoint.
  for (let level = 1; level < 7; level++) {
    const files = version.files(level);
    for (let i = 1; i < files.length; i++) {
      const a = files[i - 1]!;
      const b = files[i]!;
      if (compareBytes(a.largestKey, b.smallestKey) >= 0) {
        problem(
          manifestPath ?? dir,
          addedAt.get(b.number) ?? 0,
          `level ${level}: tables ${a.number} and ${b.number} overlap`,
        );
      }
    }
  }
}

function checkTable(
  path: string,
  meta: FileMeta,
  maxSequence: number,
  cache: BlockCache,
  report: VerifyReport,
  problem: (file: string, offset: number, message: string) => void,
  fs: Fs,
): void {
  let reader: SSTableReader | undefined;
  try {
    reader = SSTableReader.open(path, meta.number, cache, fs);
    reader.verify();
    report.entries += reader.entries;
    if (reader.entries !== meta.entries) {
      problem(
        path,
        0,
        `holds ${reader.entries} entries; the manifest says ${meta.entries}`,
      );
    }
    if (
      compareInternal(
          reader.smallestKey,
          reader.smallestSeq,
          meta.smallestKey,
          meta.smallestSeq,
        ) !== 0 ||
      compareInternal(
          reader.largestKey,
          reader.largestSeq,
          meta.largestKey,
          meta.largestSeq,
        ) !== 0
    ) {
      problem(path, 0, "smallest or largest key differs from the manifest's");
    }
    const it = reader.iterator({ fillCache: false });
    try {
      for (it.seekToFirst(); it.valid(); it.next()) {
        if (it.seq() > maxSequence) {
          problem(
            path,
            0,
            `holds sequence ${it.seq()}, beyond the last sequence in use ${maxSequence}`,
          );
          break;
        }
      }
    } finally {
      it.close();
    }
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    problem(err.file, err.offset, reasonOf(err));
  } finally {
    reader?.close();
  }
}
