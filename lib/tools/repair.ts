/**
 * Repair: rebuilds a database's manifest from the files that survive, for
 * when `CURRENT` or the manifest is missing or damaged (LevelDB's
 * `RepairDB` is the model). It never deletes: whatever it cannot use, or
 * has used up, goes into `lost/` inside the database directory.
 *
 * 1. The old manifest (the one `CURRENT` names, else the newest) is read
 *    up to its first bad record, for what only it knows: the range
 *    tombstones of flushed memtables and the lifetime counters.
 * 2. Every table is read whole, every checksum checked. A table that
 *    passes is kept as it is; one with bad blocks has its good blocks
 *    written to a new table, and goes to `lost/`; one that cannot be read
 *    at all goes to `lost/`.
 * 3. Every WAL is replayed up to its first bad record (point-in-time, as
 *    recovery does) and written to a new table; the WAL goes to `lost/`.
 * 4. The old manifests, `CURRENT` and temp files go to `lost/`, and a new
 *    manifest lists every table in level 0. Level 0 may overlap in keys
 *    and in sequence numbers; point reads there take the newest version
 *    (see `newestFirst` in lib/manifest/version.ts), and the first
 *    compaction after the repair merges level 0 down.
 *
 * What cannot come back: the entries of unreadable blocks, the records of
 * a WAL after its first bad one, and range deletes recorded only in edits
 * of the manifest past its first bad record (keys they deleted may show
 * again). The report names each file and what became of it.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { diskFs } from "../fs/disk_fs.ts";
import type { Fs } from "../fs/fs.ts";
import { flushMemTable } from "../compaction/compaction_job.ts";
import { DirectoryLock } from "../engine/lock.ts";
import type { RangeTombstone } from "../iterator/range_tombstones.ts";
import { readManifest } from "../manifest/manifest.ts";
import type { FileMeta, VersionEdit } from "../manifest/version.ts";
import { syncDir, writeManifest } from "../manifest/version_set.ts";
import { MemTable } from "../memtable/memtable.ts";
import { BlockIterator } from "../sstable/block.ts";
import { BlockCache } from "../sstable/block_cache.ts";
import { SSTableReader } from "../sstable/sstable_reader.ts";
import { SSTableWriter } from "../sstable/sstable_writer.ts";
import { IOError, NotFoundError, StrataError } from "../util/errors.ts";
import {
  type ParsedFileName,
  parseFileName,
  tableFileName,
} from "../util/filenames.ts";
import { replayWal, TYPE_RANGE_DELETE } from "../wal/wal.ts";

/** What {@link repairDatabase} did, file by file. */
export interface RepairReport {
  /** The database directory. */
  dir: string;
  /** Tables that passed every check, kept as they are. */
  keptTables: { file: string; entries: number; bytes: number }[];
  /** Damaged tables whose readable blocks were written to a new table. */
  salvagedTables: {
    file: string;
    newFile: string;
    entries: number;
    lostBlocks: number;
  }[];
  /** WALs replayed into new tables (up to their first bad record). */
  logs: {
    file: string;
    newFile?: string;
    entries: number;
    rangeDeletes: number;
    droppedBytes: number;
    dropReason?: string;
  }[];
  /** Files moved to `lost/`, and why. */
  setAside: { file: string; movedTo: string; reason: string }[];
  /** What the old manifest gave, if one could be read. */
  oldManifest?: {
    file: string;
    edits: number;
    rangeDeletes: number;
    problem?: string;
  };
  /** Range tombstones in the new manifest. */
  rangeDeletes: number;
  /** Entries in the tables of the repaired database. */
  entries: number;
  /** The highest sequence number found. */
  lastSequence: number;
  /** The new manifest's file name. */
  manifest: string;
}

/** Options of {@link repairDatabase}. */
export interface RepairOptions {
  /** The filesystem (the real one by default). */
  fs?: Fs;
  /** Block size of the tables repair writes (default 4 KiB). */
  blockSize?: number;
  /** Bloom bits per key of the tables repair writes (default 10). */
  bloomBitsPerKey?: number;
}

interface Entry {
  name: string;
  parsed: ParsedFileName;
}

/**
 * Rebuilds the manifest of the database in `dir` from its tables and
 * WALs (see the module documentation). The database must not be open.
 *
 * @param dir The database directory.
 * @param options Filesystem and the shape of new tables.
 * @returns What became of every file.
 * @throws {NotFoundError} When `dir` does not exist or holds no database.
 * @throws {LockedError} When the database is open.
 * @throws {IOError} When a file cannot be read, written or moved.
 *
 * @example A lost CURRENT
 * ```ts
 * import assert from "node:assert/strict";
 * import { repairDatabase } from "./repair.ts";
 * import { DB } from "../engine/db.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * const fs = new MemFs();
 * const db = await DB.open("/db", { fs, flushOnClose: false });
 * await db.put("k", "v"); // left in the WAL, as a crash leaves it
 * await db.close();
 * await fs.remove("/db/CURRENT");
 * const report = await repairDatabase("/db", { fs });
 * assert.equal(report.logs[0]?.entries, 1);
 * const again = await DB.open("/db", { fs });
 * assert.equal(new TextDecoder().decode(await again.get("k")), "v");
 * await again.close();
 * ```
 */
export async function repairDatabase(
  dir: string,
  options: RepairOptions = {},
): Promise<RepairReport> {
  const fs = options.fs ?? diskFs;
  const root = resolve(dir);
  if (!fs.stat(root)?.isDirectory) {
    throw new NotFoundError(
      `Cannot repair "${dir}": the directory does not exist`,
    );
  }
  const entries: Entry[] = [];
  for (const name of fs.listSync(root)) {
    const parsed = parseFileName(name);
    if (parsed && fs.stat(join(root, name))?.isFile) {
      entries.push({ name, parsed });
    }
  }
  if (!entries.some((e) => e.parsed.kind !== "lock")) {
    throw new NotFoundError(`Cannot repair "${dir}": it holds no database`);
  }
  const lock = DirectoryLock.acquire(root, fs);
  try {
    return await repairLocked(root, entries, options, fs);
  } finally {
    lock.release();
  }
}

async function repairLocked(
  dir: string,
  entries: Entry[],
  options: RepairOptions,
  fs: Fs,
): Promise<RepairReport> {
  const blockSize = options.blockSize ?? 4096;
  const bloomBitsPerKey = options.bloomBitsPerKey ?? 10;
  const report: RepairReport = {
    dir,
    keptTables: [],
    salvagedTables: [],
    logs: [],
    setAside: [],
    rangeDeletes: 0,
    entries: 0,
    lastSequence: 0,
    manifest: "",
  };
  const lost = new LostFolder(dir, fs, report);
  let nextNumber = 1;
  for (const e of entries) {
    nextNumber = Math.max(nextNumber, e.parsed.number + 1);
  }
  const newNumber = () => nextNumber++;
  const of = (kind: ParsedFileName["kind"]) =>
    entries.filter((e) => e.parsed.kind === kind).sort((a, b) =>
      a.parsed.number - b.parsed.number
    );

  // 1. What only the old manifest knows.
  const tombstones = new Map<number, RangeTombstone>();
  let lifetime: Record<string, number> | undefined;
  const old = pickManifest(dir, of("manifest"), fs);
  if (old) {
    const path = join(dir, old);
    try {
      const contents = readManifest(path, fs, { salvage: true });
      for (const edit of contents.edits) {
        for (const t of edit.rangeTombstonesAdded ?? []) {
          tombstones.set(t.seq, t);
        }
        for (const seq of edit.rangeTombstonesRetired ?? []) {
          tombstones.delete(seq);
        }
        if (edit.lifetime) lifetime = edit.lifetime;
        report.lastSequence = Math.max(
          report.lastSequence,
          edit.lastSequence ?? 0,
        );
      }
      report.oldManifest = {
        file: old,
        edits: contents.edits.length,
        rangeDeletes: tombstones.size,
        ...(contents.dropReason ? { problem: contents.dropReason } : {}),
      };
    } catch (err) {
      report.oldManifest = {
        file: old,
        edits: 0,
        rangeDeletes: 0,
        problem: err instanceof Error ? err.message : String(err),
      };
    }
  }

  // 2. Tables.
  const files: FileMeta[] = [];
  const cache = new BlockCache(0);
  for (const e of of("table")) {
    const path = join(dir, e.name);
    const checked = checkTable(path, e.parsed.number, cache, fs);
    if (checked.meta) {
      files.push(checked.meta);
      report.keptTables.push({
        file: e.name,
        entries: checked.meta.entries,
        bytes: checked.meta.size,
      });
      continue;
    }
    const number = newNumber();
    const salvaged = await salvageTable(
      path,
      e.parsed.number,
      tableFileName(dir, number),
      { blockSize, bloomBitsPerKey },
      cache,
      fs,
    );
    if (salvaged) {
      files.push({ ...salvaged.meta, number });
      report.salvagedTables.push({
        file: e.name,
        newFile: basename(tableFileName(dir, number)),
        entries: salvaged.meta.entries,
        lostBlocks: salvaged.lostBlocks,
      });
    }
    await lost.take(
      e.name,
      salvaged
        ? `damaged (${checked.problem}); its ${salvaged.meta.entries} readable entries are in ${
          basename(tableFileName(dir, number))
        }, ${salvaged.lostBlocks} blocks lost`
        : `unreadable: ${checked.problem}`,
    );
  }

  // 3. WALs, oldest first, each into a table of its own.
  for (const e of of("log")) {
    const path = join(dir, e.name);
    const mem = new MemTable();
    const log: RepairReport["logs"][number] = {
      file: e.name,
      entries: 0,
      rangeDeletes: 0,
      droppedBytes: 0,
    };
    try {
      const result = replayWal(path, (first, ops) => {
        for (let i = 0; i < ops.length; i++) {
          const op = ops[i]!;
          if (op.type === TYPE_RANGE_DELETE) {
            mem.addRangeTombstone(first + i, op.key, op.value);
          } else {
            mem.add(first + i, op.type, op.key, op.value);
          }
        }
      }, fs);
      log.entries = result.entries;
      log.droppedBytes = result.droppedBytes;
      if (result.dropReason) log.dropReason = result.dropReason;
      report.lastSequence = Math.max(report.lastSequence, result.lastSequence);
    } catch (err) {
      log.dropReason = err instanceof Error ? err.message : String(err);
      log.droppedBytes = fs.stat(path)?.size ?? 0;
      report.logs.push(log);
      await lost.take(e.name, `unreadable: ${log.dropReason}`);
      continue;
    }
    for (const t of mem.rangeTombstones) tombstones.set(t.seq, t);
    log.rangeDeletes = mem.rangeTombstones.length;
    if (mem.count > 0) {
      const number = newNumber();
      const written = await flushMemTable(
        mem,
        {
          dir,
          blockSize,
          bloomBitsPerKey,
          outputNumber: number,
        },
        () => false,
        fs,
      );
      const meta = written.outputs[0];
      if (meta) {
        files.push(meta);
        log.newFile = basename(tableFileName(dir, number));
      }
    }
    report.logs.push(log);
    await lost.take(
      e.name,
      log.newFile
        ? `replayed into ${log.newFile}`
        : "replayed: it held no entries",
    );
  }

  // 4. The old manifests, CURRENT and temp files.
  for (const e of [...of("manifest"), ...of("current"), ...of("temp")]) {
    await lost.take(e.name, "replaced by the repaired manifest");
  }

  for (const f of files) {
    report.entries += f.entries;
    report.lastSequence = Math.max(report.lastSequence, f.maxSeq ?? 0);
  }
  const number = newNumber();
  const edit: VersionEdit = {
    logNumber: number,
    nextFileNumber: number + 2,
    lastSequence: report.lastSequence,
    added: files.map((f): [number, FileMeta] => [0, f]),
  };
  if (tombstones.size > 0) {
    edit.rangeTombstonesAdded = [...tombstones.values()].sort((a, b) =>
      a.seq - b.seq
    );
  }
  if (lifetime) edit.lifetime = lifetime;
  report.rangeDeletes = tombstones.size;
  // Every new table and every move is durable before CURRENT names them.
  await lost.sync();
  await syncDir(fs, dir);
  await writeManifest(dir, number, edit, fs);
  report.manifest = `MANIFEST-${String(number).padStart(6, "0")}`;
  return report;
}

/** The manifest `CURRENT` names, if it exists, else the newest one. */
function pickManifest(
  dir: string,
  manifests: Entry[],
  fs: Fs,
): string | undefined {
  try {
    const named = new TextDecoder().decode(fs.readFile(join(dir, "CURRENT")))
      .trim();
    if (manifests.some((m) => m.name === named)) return named;
  } catch {
    // No CURRENT, or unreadable: fall back to the newest manifest.
  }
  return manifests.at(-1)?.name;
}

/**
 * Reads a table whole, checking every checksum, and describes it.
 */
function checkTable(
  path: string,
  number: number,
  cache: BlockCache,
  fs: Fs,
): { meta?: FileMeta; problem: string } {
  let reader: SSTableReader | undefined;
  try {
    reader = SSTableReader.open(path, number, cache, fs);
    reader.verify();
    if (reader.entries === 0) return { problem: "it holds no entries" };
    let minSeq = Infinity, maxSeq = 0;
    const it = reader.iterator({ fillCache: false });
    try {
      for (it.seekToFirst(); it.valid(); it.next()) {
        const seq = it.seq();
        if (seq < minSeq) minSeq = seq;
        if (seq > maxSeq) maxSeq = seq;
      }
    } finally {
      it.close();
    }
    return {
      meta: {
        number,
        size: fs.stat(path)?.size ?? 0,
        entries: reader.entries,
        smallestKey: reader.smallestKey,
        smallestSeq: reader.smallestSeq,
        largestKey: reader.largestKey,
        largestSeq: reader.largestSeq,
        minSeq,
        maxSeq,
      },
      problem: "",
    };
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  } finally {
    reader?.close();
  }
}

/**
 * Writes the readable blocks of a damaged table to a new one. Undefined
 * when nothing can be read (no footer or index, or no good block).
 */
async function salvageTable(
  path: string,
  number: number,
  to: string,
  shape: { blockSize: number; bloomBitsPerKey: number },
  cache: BlockCache,
  fs: Fs,
): Promise<{ meta: Omit<FileMeta, "number">; lostBlocks: number } | undefined> {
  let reader: SSTableReader;
  try {
    reader = SSTableReader.open(path, number, cache, fs);
  } catch {
    return undefined; // footer or index unreadable: nothing to go by
  }
  let writer: SSTableWriter | undefined;
  let lostBlocks = 0;
  let last: { key: Uint8Array; seq: number } | undefined;
  try {
    const it = new BlockIterator();
    for (let i = 0; i < reader.blockCount; i++) {
      let block;
      try {
        block = reader.acquireBlock(i, false);
      } catch {
        lostBlocks++;
        continue;
      }
      try {
        it.reset(block);
        for (it.seekToFirst(); it.valid(); it.next()) {
          const key = it.key();
          const seq = it.seq();
          // A block that passed its checksum but breaks the order is
          // not trusted past that point.
          if (last && !after(key, seq, last.key, last.seq)) break;
          writer ??= SSTableWriter.create(to, shape, fs);
          writer.add(key, seq, it.type(), it.value());
          last = { key: key.slice(), seq };
        }
      } catch {
        lostBlocks++;
      } finally {
        reader.releaseBlock(block);
      }
    }
    if (!writer) return undefined;
    const info = await writer.finish();
    return {
      meta: {
        size: info.fileSize,
        entries: info.entries,
        smallestKey: info.smallestKey,
        smallestSeq: info.smallestSeq,
        largestKey: info.largestKey,
        largestSeq: info.largestSeq,
        minSeq: info.minSeq,
        maxSeq: info.maxSeq,
      },
      lostBlocks,
    };
  } catch (err) {
    writer?.abandon();
    if (err instanceof StrataError) throw err;
    throw new IOError("write", to, err);
  } finally {
    reader.close();
  }
}

/** Whether (key, seq) sorts after (lastKey, lastSeq) in internal order. */
function after(
  key: Uint8Array,
  seq: number,
  lastKey: Uint8Array,
  lastSeq: number,
): boolean {
  const n = Math.min(key.length, lastKey.length);
  for (let i = 0; i < n; i++) {
    if (key[i] !== lastKey[i]) return key[i]! > lastKey[i]!;
  }
  if (key.length !== lastKey.length) return key.length > lastKey.length;
  return seq < lastSeq;
}

/** `lost/` in the database directory, made on first use. */
class LostFolder {
  readonly #dir: string;
  readonly #fs: Fs;
  readonly #report: RepairReport;
  #made = false;

  constructor(dir: string, fs: Fs, report: RepairReport) {
    this.#dir = dir;
    this.#fs = fs;
    this.#report = report;
  }

  get path(): string {
    return join(this.#dir, "lost");
  }

  /** Moves `name` into `lost/` (under a fresh name if it is taken). */
  async take(name: string, reason: string): Promise<void> {
    const fs = this.#fs;
    if (!this.#made) {
      await fs.mkdir(this.path).catch((err) => {
        throw new IOError("create directory", this.path, err);
      });
      this.#made = true;
    }
    let target = name;
    for (let n = 1; fs.stat(join(this.path, target)) !== undefined; n++) {
      target = `${name}.${n}`;
    }
    const from = join(this.#dir, name);
    try {
      await fs.rename(from, join(this.path, target));
    } catch (err) {
      throw new IOError("rename", from, err);
    }
    this.#report.setAside.push({
      file: name,
      movedTo: `lost/${target}`,
      reason,
    });
  }

  /** Makes the moves durable. */
  async sync(): Promise<void> {
    if (this.#made) await syncDir(this.#fs, this.path);
  }
}
