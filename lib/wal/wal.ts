/**
 * The write-ahead log: every write batch is appended here, and handed to
 * the OS, before it reaches the memtable; recovery replays it.
 *
 * Layout (version 4), every integer little-endian:
 *
 * ```
 * file    := header record* tail
 * header  := MAGIC u32 = 0x4C415753 ("SWAL") | VERSION u32 = 4         8 bytes
 *
 * record  := +---------+---------+---------------+-------------------+-----------+---------------+
 *            | crc u32 | len u32 | logNumber u32 | firstSequence u64 | count u32 | entry × count |
 *            +---------+---------+---------------+-------------------+-----------+---------------+
 *                      |<------------------ crc32c covers these bytes ---------------------->|
 *                                |<-------------------- len bytes -------------------------->|
 *
 * tail    := zeros (space preallocated ahead of the records), or records of
 *            an earlier use of the file (another logNumber), or nothing
 *
 * entry   := +------------+-----+---------+------------+-------+
 *            | keyLen u32 | key | type u8 | valLen u32 | value |
 *            +------------+-----+---------+------------+-------+
 *            type 1 = PUT, 2 = DEL (a DEL has valLen 0),
 *                 3 = RANGE_DEL: key = first key deleted, value = first key
 *                     not deleted (valLen 0: every key from `key` on)
 * ```
 *
 * Version 4 added `logNumber` (the low 32 bits of the file's number, as in
 * `000042.log`): a log file is reused, its old bytes overwritten in place
 * (an `fdatasync` of overwritten blocks commits no file-size change, so a
 * durable write costs less than an append that grows the file, which is
 * why SQLite reuses its WAL and RocksDB recycles logs). Records left from
 * the file's earlier use carry their old number and end replay as
 * cleanly as the zeros of preallocated space do: a valid-looking stale
 * record is never replayed. Version 3 added RANGE_DEL; version 2 and 3
 * files (20-byte record headers without `logNumber`) are replayed too. An
 * older Strata refuses version 4 files.
 *
 * One record holds one write batch (a single put is a batch of one), so a
 * batch is replayed whole or not at all. Entry i of a record has sequence
 * number `firstSequence + i`. The CRC starts at `len`, so a flipped length
 * is caught too. Version 1 was the original project's layout: the same
 * entry fields, one per record, without CRC, batch framing or sequence.
 *
 * Recovery is point-in-time: {@link replayWal} stops at the first torn or
 * corrupt record and keeps the consistent prefix before it.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { readU64, writeU64 } from "../util/bytes.ts";
import { diskFs } from "../fs/disk_fs.ts";
import {
  type Fs,
  type ReadableFile,
  type WritableFile,
  writeAll,
} from "../fs/fs.ts";
import { crc32c } from "../util/crc32c.ts";
import {
  ClosedError,
  CorruptionError,
  InvalidArgumentError,
  IOError,
  type StrataError,
} from "../util/errors.ts";
import {
  type EntryType,
  MAX_SEQUENCE,
  TYPE_DELETE,
  TYPE_PUT,
} from "../iterator/internal_key.ts";

/** "SWAL" read as a little-endian u32: a log file announces itself. */
export const WAL_MAGIC = 0x4c415753;
/** Layout version; 1 was the original project's unchecksummed layout. */
export const WAL_VERSION = 4;
/**
 * The WAL's entry type of a range deletion (`DB.deleteRange`); tables
 * never hold it (range tombstones live in memtables and versions).
 */
export const TYPE_RANGE_DELETE = 3;
/** A WAL entry's type: a table entry's, or {@link TYPE_RANGE_DELETE}. */
export type WalEntryType = EntryType | typeof TYPE_RANGE_DELETE;
/** Bytes of the file header (MAGIC + VERSION). */
export const WAL_HEADER_SIZE = 8;
/**
 * Bytes of a record before its entries: crc, len, logNumber,
 * firstSequence, count.
 */
export const WAL_RECORD_HEADER_SIZE = 24;
// The record header of versions 2 and 3, which had no logNumber.
const V3_RECORD_HEADER_SIZE = 20;

/**
 * Bytes of a record header in a log of layout `version`.
 *
 * @param version 2, 3 or 4.
 * @returns 20 before version 4, {@link WAL_RECORD_HEADER_SIZE} from it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walRecordHeaderSize } from "./wal.ts";
 * assert.equal(walRecordHeaderSize(3), 20);
 * assert.equal(walRecordHeaderSize(4), 24);
 * ```
 */
export function walRecordHeaderSize(version: number): number {
  return version >= 4 ? WAL_RECORD_HEADER_SIZE : V3_RECORD_HEADER_SIZE;
}

// Bytes of an entry besides its key and value: keyLen, type, valLen.
const ENTRY_OVERHEAD = 9;
// `len` is a u32, so a record body may not exceed it.
const MAX_RECORD_LEN = 0xffff_ffff;
// The writer keeps a scratch buffer up to this size between appends; a
// bigger record (a huge value) gets a one-off buffer so it is not retained.
const MAX_RETAINED_SCRATCH = 1 << 20;
// Replay reads the file in chunks of this size (or one record, if bigger).
const READ_CHUNK = 1 << 20;
// Zeros are written ahead of the records in steps that double from the
// first to the last size: a durable append then overwrites allocated
// blocks (no size change to commit) except once per step, and a small
// database does not carry a large empty tail.
const FIRST_ZERO_STEP = 64 << 10;
const MAX_ZERO_STEP = 1 << 20;
// A lone durable writer syncs without leaving the thread (see
// WalWriter.sync); every this-many such syncs, it first lets pending I/O
// callbacks run, so writers arriving over the network are seen and the
// writer goes back to group commit.
const LONE_SYNC_PROBE_EVERY = 16;

/** Resolves after the event loop's pending I/O callbacks have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let zeros: Uint8Array | undefined;
/** A shared buffer of at least `n` zero bytes (never written to). */
function zeroBytes(n: number): Uint8Array {
  if (zeros === undefined || zeros.length < n) zeros = new Uint8Array(n);
  return zeros.subarray(0, n);
}

/**
 * The number a log file's name carries (`000042.log` → 42), which its
 * records must carry.
 *
 * @param path Path of a log file.
 * @returns The number, or undefined for another kind of name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logNumberOf } from "./wal.ts";
 * assert.equal(logNumberOf("/db/000042.log"), 42);
 * assert.equal(logNumberOf("/tmp/copy.bin"), undefined);
 * ```
 */
export function logNumberOf(path: string): number | undefined {
  const m = /(?:^|[\\/])(\d+)\.log$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** One operation of a write batch, as logged. */
export interface WalOp {
  /** {@link TYPE_PUT}, {@link TYPE_DELETE} or {@link TYPE_RANGE_DELETE}. */
  type: WalEntryType;
  /** The user key. */
  key: Uint8Array;
  /** The value; ignored (logged as empty) for a delete. */
  value: Uint8Array;
}

/** What {@link replayWal} found in a log file. */
export interface WalReplayResult {
  /** Records (write batches) replayed. */
  batches: number;
  /** Entries (operations) replayed, over all batches. */
  entries: number;
  /**
   * The highest sequence number replayed (of the last entry of a batch), or
   * 0 when nothing was replayed.
   */
  lastSequence: number;
  /** Length of the consistent prefix, header included. */
  validBytes: number;
  /** Bytes after the consistent prefix that were not replayed. */
  droppedBytes: number;
  /** Why replay stopped before the end of the file, when it did. */
  dropReason?: string;
  /** File offset of the first record not replayed, when replay stopped early. */
  dropOffset?: number;
  /**
   * Bytes after the records that are not damage: preallocated zeros, or
   * records of an earlier use of the file (another log number).
   */
  tailBytes: number;
  /** The file's layout version (0 for an empty file). */
  version: number;
}

function checkBatch(firstSequence: number, count: number): void {
  if (count === 0 || count > 0xffff_ffff) {
    throw new InvalidArgumentError(
      `Invalid WAL batch size "${count}": a batch holds 1 to 2^32 - 1 operations`,
    );
  }
  if (
    !Number.isSafeInteger(firstSequence) || firstSequence < 0 ||
    firstSequence > MAX_SEQUENCE - (count - 1)
  ) {
    throw new InvalidArgumentError(
      `Invalid WAL sequence "${firstSequence}": a batch of ${count} needs sequences from 0 to 2^53 - 1`,
    );
  }
}

function checkType(type: number): void {
  if (type !== TYPE_PUT && type !== TYPE_DELETE && type !== TYPE_RANGE_DELETE) {
    throw new InvalidArgumentError(
      `Invalid WAL entry type "${type}": expected 1 (put), 2 (delete) or 3 (range delete)`,
    );
  }
}

function checkRecordLen(len: number): void {
  if (len > MAX_RECORD_LEN) {
    throw new InvalidArgumentError(
      `Invalid WAL batch of ${len} bytes: a record holds at most 4 GiB`,
    );
  }
}

// `len` counts from logNumber: logNumber, firstSequence and count.
const BODY_FIXED = WAL_RECORD_HEADER_SIZE - 8;

/** Body length (the `len` field) of a record holding `ops`. */
function bodyLength(ops: readonly WalOp[]): number {
  let len = BODY_FIXED;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    checkType(op.type);
    len += ENTRY_OVERHEAD + op.key.length +
      (op.type === TYPE_DELETE ? 0 : op.value.length);
  }
  return len;
}

/** Writes one entry at `off` and returns the offset after it. */
/**
 * Writes one entry (`keyLen | key | type | valLen | value`) at `off`. The
 * buffer must have room: {@link walEntrySize} bytes.
 *
 * @param buf Destination.
 * @param view A DataView over `buf`'s whole buffer, offset like `buf`.
 * @param off Where the entry starts.
 * @param type PUT or DELETE (a DELETE's value is not written).
 * @param key The key.
 * @param value The value.
 * @returns The offset after the entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWalEntry, walEntrySize } from "./wal.ts";
 * import { TYPE_PUT } from "../iterator/internal_key.ts";
 * const k = new Uint8Array([1]), v = new Uint8Array([2, 3]);
 * const buf = new Uint8Array(walEntrySize(k, v));
 * assert.equal(encodeWalEntry(buf, new DataView(buf.buffer), 0, TYPE_PUT, k, v), 12);
 * ```
 */
export function encodeWalEntry(
  buf: Uint8Array,
  view: DataView,
  off: number,
  type: WalEntryType,
  key: Uint8Array,
  value: Uint8Array,
): number {
  const kl = key.length;
  view.setUint32(off, kl, true);
  off += 4;
  // A byte loop beats TypedArray#set for the short keys that dominate.
  if (kl <= 32) { for (let i = 0; i < kl; i++) buf[off + i] = key[i]!; }
  else buf.set(key, off);
  off += kl;
  buf[off++] = type;
  const vl = type === TYPE_DELETE ? 0 : value.length;
  view.setUint32(off, vl, true);
  off += 4;
  if (vl > 0) buf.set(value, off);
  return off + vl;
}

/**
 * Bytes one entry takes in a record.
 *
 * @param key The key.
 * @param value The value.
 * @returns `4 + key + 1 + 4 + value`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { walEntrySize } from "./wal.ts";
 * assert.equal(walEntrySize(new Uint8Array(16), new Uint8Array(100)), 125);
 * ```
 */
export function walEntrySize(key: Uint8Array, value: Uint8Array): number {
  return 9 + key.length + value.length;
}

/**
 * Calls `fn` for each entry of a well-formed record body, as encoded by
 * {@link encodeWalEntry}, from `off` to `end`. For records this process
 * wrote itself; replay of files on disk checks every field instead.
 *
 * @param buf The record.
 * @param off Offset of the first entry.
 * @param end Offset after the last entry.
 * @param fn Receives each entry's type, key and value (views into `buf`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWalEntry, forEachWalEntry } from "./wal.ts";
 * import { TYPE_PUT } from "../iterator/internal_key.ts";
 * const buf = new Uint8Array(12);
 * encodeWalEntry(buf, new DataView(buf.buffer), 0, TYPE_PUT, new Uint8Array([1]), new Uint8Array([2, 3]));
 * const seen: number[] = [];
 * forEachWalEntry(buf, 0, 12, (_type, key, value) => seen.push(key[0]!, value.length));
 * assert.deepEqual(seen, [1, 2]);
 * ```
 */
export function forEachWalEntry(
  buf: Uint8Array,
  off: number,
  end: number,
  fn: (type: WalEntryType, key: Uint8Array, value: Uint8Array) => void,
): void {
  while (off < end) {
    const kl = buf[off]! | buf[off + 1]! << 8 | buf[off + 2]! << 16 |
      buf[off + 3]! << 24;
    const key = buf.subarray(off + 4, off + 4 + kl);
    off += 4 + kl;
    const type = buf[off]! as WalEntryType;
    const vl = (buf[off + 1]! | buf[off + 2]! << 8 | buf[off + 3]! << 16 |
      buf[off + 4]! << 24) >>> 0;
    off += 5;
    fn(type, key, buf.subarray(off, off + vl));
    off += vl;
  }
}

/** Fills the header fields of a record at 0 (its crc last). */
function putRecordHeader(
  buf: Uint8Array,
  view: DataView,
  len: number,
  logNumber: number,
  firstSequence: number,
  count: number,
): void {
  view.setUint32(4, len, true);
  view.setUint32(8, logNumber >>> 0, true);
  writeU64(view, 12, firstSequence);
  view.setUint32(20, count, true);
  view.setUint32(0, crc32c(buf.subarray(4, 8 + len)), true);
}

/**
 * Encodes one write batch as a WAL record (see the layout at the top of
 * this file).
 *
 * @param firstSequence Sequence number of the first operation; operation i
 * gets `firstSequence + i`. The last one must stay below 2^53.
 * @param ops The operations, at least one.
 * @param logNumber The number of the log file the record goes to (replay
 * of `000007.log` takes only records of log 7).
 * @returns A fresh buffer holding the whole record.
 * @throws {InvalidArgumentError} On an empty batch, a bad sequence or type,
 * or a record over 4 GiB.
 *
 * @example Encode a put
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWalRecord } from "./wal.ts";
 * import { TYPE_PUT } from "../iterator/internal_key.ts";
 * const enc = new TextEncoder();
 * const rec = encodeWalRecord(7, [
 *   { type: TYPE_PUT, key: enc.encode("k"), value: enc.encode("v") },
 * ], 1);
 * // 24-byte record header + 9 bytes of entry fields + key + value
 * assert(rec.length === 24 + 9 + 1 + 1);
 * ```
 */
export function encodeWalRecord(
  firstSequence: number,
  ops: readonly WalOp[],
  logNumber: number,
): Uint8Array {
  checkBatch(firstSequence, ops.length);
  const len = bodyLength(ops);
  checkRecordLen(len);
  const buf = new Uint8Array(8 + len);
  const view = new DataView(buf.buffer);
  let off = WAL_RECORD_HEADER_SIZE;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    off = encodeWalEntry(buf, view, off, op.type, op.key, op.value);
  }
  putRecordHeader(buf, view, len, logNumber, firstSequence, ops.length);
  return buf;
}

/**
 * Appends write batches to a new log file and makes them durable on
 * demand. Appends are synchronous (`writeSync`), so a batch is in the OS's
 * hands, and survives a crash of the process, as soon as
 * {@link WalWriter.append} returns. {@link WalWriter.sync} makes it survive
 * power loss too; concurrent callers share one `fdatasync` (group commit).
 *
 * Once a writer syncs, zeros are written ahead of the records, in steps
 * of 64 KiB doubling to 1 MiB: most syncs then overwrite allocated blocks
 * and commit no change of the file's size. {@link WalWriter.recycle}
 * reuses an old log file, zeroing ahead over its old bytes. Either way the
 * bytes after the last record read as the end of the log. Closing cuts
 * the file back to its records.
 *
 * After a write or sync fails (a full disk, an I/O error) the writer
 * refuses every further append: nobody can tell which bytes reached the
 * disk, so the log must be replayed from a fresh open.
 *
 * @example Write, sync and replay
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayWal, WalWriter } from "./wal.ts";
 * import { TYPE_PUT } from "../iterator/internal_key.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/000001.log`;
 * const enc = new TextEncoder();
 * const wal = await WalWriter.create(path);
 * wal.append(1, [{ type: TYPE_PUT, key: enc.encode("a"), value: enc.encode("1") }]);
 * await wal.sync();
 * await wal.close();
 * const seen: number[] = [];
 * const result = replayWal(path, (seq) => seen.push(seq));
 * assert(seen[0] === 1 && result.lastSequence === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class WalWriter {
  readonly #path: string;
  readonly #file: WritableFile;
  readonly #logNumber: number;
  #scratch = new Uint8Array(4096);
  #view = new DataView(this.#scratch.buffer);
  #lastOut: Uint8Array = this.#scratch.subarray(0, 0);
  #size: number;
  // Bytes [#size, #zeroedTo) are zeros; the file's length is the larger
  // of #zeroedTo and #fileSize (a recycled file's old records lie beyond).
  #zeroedTo: number;
  #fileSize: number;
  #nextZeroStep = FIRST_ZERO_STEP;
  // sync() was called: durable writes are wanted, so zero ahead.
  #syncing = false;
  // Bytes known durable: every byte below this offset was fdatasync-ed.
  #synced: number;
  #inFlight: Promise<void> | null = null;
  #syncCount = 0;
  // Appends so far, and at the start of the last sync: how many records
  // a sync covered tells a lone writer from a group.
  #appends = 0;
  #appendsAtSync = 0;
  #loneSyncs = 0;
  #failure: StrataError | null = null;
  #closing: Promise<void> | null = null;

  private constructor(
    path: string,
    file: WritableFile,
    logNumber: number,
    synced: number,
    fileSize: number,
  ) {
    this.#path = path;
    this.#file = file;
    this.#logNumber = logNumber >>> 0;
    this.#size = WAL_HEADER_SIZE;
    this.#zeroedTo = WAL_HEADER_SIZE;
    this.#synced = synced;
    this.#fileSize = fileSize;
  }

  /** The file header: MAGIC and VERSION. */
  static #header(): Uint8Array {
    const header = new Uint8Array(WAL_HEADER_SIZE);
    const view = new DataView(header.buffer);
    view.setUint32(0, WAL_MAGIC, true);
    view.setUint32(4, WAL_VERSION, true);
    return header;
  }

  /**
   * Creates a new, empty log file (failing if `path` exists), writes its
   * header and makes the header durable. The caller syncs the directory so
   * the new name survives power loss.
   *
   * @param path Path of the new file.
   * @param fs The filesystem (the real one by default).
   * @param logNumber The number its records carry (by default the one in
   * its name, see {@link logNumberOf}).
   * @returns A writer positioned after the header.
   *
   * @example Create a log
   * ```ts
   * import assert from "node:assert/strict";
   * import { WalWriter } from "./wal.ts";
   * const dir = await Deno.makeTempDir();
   * const wal = await WalWriter.create(`${dir}/000001.log`);
   * assert(wal.size === 8);
   * await wal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async create(
    path: string,
    fs: Fs = diskFs,
    logNumber: number = logNumberOf(path) ?? 0,
  ): Promise<WalWriter> {
    let file: WritableFile;
    try {
      file = await fs.create(path);
    } catch (err) {
      throw new IOError("create", path, err);
    }
    try {
      writeAll(file, WalWriter.#header());
      await file.syncData();
    } catch (err) {
      file.close();
      throw new IOError("write", path, err);
    }
    return new WalWriter(
      path,
      file,
      logNumber,
      WAL_HEADER_SIZE,
      WAL_HEADER_SIZE,
    );
  }

  /**
   * Reuses an old log file, whose records are all in tables now, as a new
   * log: renames it to `path` and writes the new records over the old ones,
   * from just after the header (zeroing ahead of them, as for a new file).
   * Its old records carry their old log number, so replay stops at the
   * first of them, should a crash keep one right after the new records:
   * none is ever replayed as part of the new log. The caller syncs the directory so the new name survives
   * power loss, and must not recycle a file that a crash could still need
   * under its old name (its edit making it obsolete must be durable).
   *
   * @param from The old log file (version 4: its header stays valid).
   * @param path Its new name.
   * @param fs The filesystem (the real one by default).
   * @param logNumber The number the new records carry (by default the one
   * in `path`).
   * @returns A writer positioned after the header.
   *
   * @example Old records never come back
   * ```ts
   * import assert from "node:assert/strict";
   * import { replayWal, WalWriter } from "./wal.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const dir = await Deno.makeTempDir();
   * const k = new Uint8Array([1]);
   * const old = await WalWriter.create(`${dir}/000001.log`);
   * for (let seq = 1; seq <= 10; seq++) old.append(seq, [{ type: TYPE_PUT, key: k, value: k }]);
   * await old.close();
   * const wal = await WalWriter.recycle(`${dir}/000001.log`, `${dir}/000002.log`);
   * wal.append(11, [{ type: TYPE_PUT, key: k, value: k }]);
   * await wal.sync(); // no close: the old records are still in the file
   * const seen: number[] = [];
   * replayWal(`${dir}/000002.log`, (seq) => seen.push(seq));
   * assert.deepEqual(seen, [11]);
   * await wal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async recycle(
    from: string,
    path: string,
    fs: Fs = diskFs,
    logNumber: number = logNumberOf(path) ?? 0,
  ): Promise<WalWriter> {
    let file: WritableFile;
    try {
      await fs.rename(from, path);
      file = await fs.openOverwrite(path);
    } catch (err) {
      throw new IOError("open", path, err);
    }
    const size = fs.stat(path)?.size ?? 0;
    try {
      // The same bytes as the old header (only version 4 files are
      // recycled); written so that a file cut short still gets one.
      writeAll(file, WalWriter.#header());
    } catch (err) {
      file.close();
      throw new IOError("write", path, err);
    }
    return new WalWriter(path, file, logNumber, 0, size);
  }

  /** Path of the log file. */
  get path(): string {
    return this.#path;
  }

  /**
   * Bytes of log: the header and every record appended (the file may be
   * longer, with zeros or an earlier use's records after them).
   */
  get size(): number {
    return this.#size;
  }

  /** The number this log's records carry. */
  get logNumber(): number {
    return this.#logNumber;
  }

  /** Bytes known durable (every byte below this offset was synced). */
  get syncedSize(): number {
    return this.#synced;
  }

  /** Number of `fdatasync` calls issued by {@link WalWriter.sync}. */
  get syncCount(): number {
    return this.#syncCount;
  }

  #checkWritable(): void {
    if (this.#failure !== null) throw this.#failure;
    if (this.#closing !== null) {
      throw new ClosedError(
        `Cannot append to WAL "${this.#path}": it is closed`,
      );
    }
  }

  /**
   * Records the first failure: every later append and sync throws it. A
   * failed sync is never retried as if the data were safe: after a failed
   * `fdatasync` the kernel may have dropped the dirty pages, and a second
   * one would succeed without them.
   */
  #fail(err: unknown, what: "write" | "sync"): StrataError {
    this.#failure ??= new IOError(what, this.#path, err);
    return this.#failure;
  }

  /** Returns a scratch buffer of at least `n` bytes (and sets #view). */
  #scratchFor(n: number): Uint8Array {
    if (n <= this.#scratch.length) return this.#scratch;
    if (n > MAX_RETAINED_SCRATCH) {
      const once = new Uint8Array(n);
      this.#view = new DataView(once.buffer);
      return once;
    }
    let cap = this.#scratch.length;
    while (cap < n) cap *= 2;
    this.#scratch = new Uint8Array(cap);
    this.#view = new DataView(this.#scratch.buffer);
    return this.#scratch;
  }

  #write(buf: Uint8Array, n: number): void {
    // + 8: the place of the next record's crc and len. Over a recycled
    // file's old bytes always; past the end of the file only once a
    // writer syncs (a small write over cached pages costs 0.5 µs more
    // than an append here, a sixth of a put that is not synced).
    const end = this.#size + n;
    if (
      end + 8 > this.#zeroedTo && (this.#syncing || end < this.#fileSize)
    ) this.#zeroAhead(n);
    let off = 0;
    try {
      while (off < n) {
        let out = this.#lastOut;
        // Same-sized records in a row reuse one view (a 20 ns allocation).
        if (off !== 0 || out.length !== n || out.buffer !== buf.buffer) {
          out = buf.subarray(off, n);
          if (off === 0 && buf === this.#scratch) this.#lastOut = out;
        }
        const wrote = this.#file.write(out);
        if (wrote <= 0) throw new Error("write made no progress");
        off += wrote;
      }
    } catch (err) {
      this.#size += off;
      throw this.#fail(err, "write");
    } finally {
      // A one-off buffer for a huge record is dropped here.
      if (buf !== this.#scratch) {
        this.#view = new DataView(this.#scratch.buffer);
      }
    }
    this.#size += n;
    this.#appends++;
  }

  /**
   * A record of `n` bytes would reach past the zeros ahead of the log:
   * writes the next step's worth after where it will end. The next record
   * header's place is then always zeros (the end of the log, not an old
   * record's middle), and the syncs until the zeros are used up commit no
   * change of the file's size. Done before the record is written, so that
   * a failure leaves no record.
   */
  #zeroAhead(n: number): void {
    const step = this.#nextZeroStep;
    this.#nextZeroStep = Math.min(step * 2, MAX_ZERO_STEP);
    try {
      this.#file.writeAt(zeroBytes(step), this.#size + n);
    } catch (err) {
      throw this.#fail(err, "write");
    }
    this.#zeroedTo = this.#size + n + step;
    if (this.#zeroedTo > this.#fileSize) this.#fileSize = this.#zeroedTo;
  }

  /**
   * Appends one write batch as one record and hands it to the OS with
   * `writeSync` before returning. Not durable against power loss until a
   * later {@link WalWriter.sync} resolves.
   *
   * @param firstSequence Sequence number of `ops[0]`; op i gets
   * `firstSequence + i`.
   * @param ops The batch, at least one operation.
   * @throws {InvalidArgumentError} On a bad batch (see
   * {@link encodeWalRecord}); nothing is written.
   * @throws {ClosedError} After {@link WalWriter.close}.
   * @throws {IOError} when the write fails, and
   * on every append after a failed write or sync.
   *
   * @example Append a batch of two
   * ```ts
   * import assert from "node:assert/strict";
   * import { WalWriter } from "./wal.ts";
   * import { TYPE_DELETE, TYPE_PUT } from "../iterator/internal_key.ts";
   * const dir = await Deno.makeTempDir();
   * const wal = await WalWriter.create(`${dir}/000001.log`);
   * const k = new Uint8Array([1]);
   * wal.append(10, [
   *   { type: TYPE_PUT, key: k, value: new Uint8Array([2]) },
   *   { type: TYPE_DELETE, key: k, value: new Uint8Array() },
   * ]);
   * assert(wal.size > 8);
   * await wal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  append(firstSequence: number, ops: readonly WalOp[]): void {
    this.#checkWritable();
    checkBatch(firstSequence, ops.length);
    const len = bodyLength(ops);
    checkRecordLen(len);
    const n = 8 + len;
    const buf = this.#scratchFor(n);
    const view = this.#view;
    let off = WAL_RECORD_HEADER_SIZE;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      off = encodeWalEntry(buf, view, off, op.type, op.key, op.value);
    }
    putRecordHeader(buf, view, len, this.#logNumber, firstSequence, ops.length);
    this.#write(buf, n);
  }

  /**
   * Appends a batch whose entries are already encoded (a `WriteBatch` keeps
   * them so): `record` starts with {@link WAL_RECORD_HEADER_SIZE} spare
   * bytes, which this fills in (crc, len, sequence, count) before one
   * `writeSync`. Saves re-encoding every entry of a large batch.
   *
   * @param firstSequence Sequence number of the first entry.
   * @param count Entries in the record.
   * @param record Header space followed by `count` encoded entries.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { encodeWalEntry, replayWal, WAL_RECORD_HEADER_SIZE, WalWriter } from "./wal.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const dir = await Deno.makeTempDir();
   * const wal = await WalWriter.create(`${dir}/000001.log`);
   * const record = new Uint8Array(WAL_RECORD_HEADER_SIZE + 10);
   * encodeWalEntry(record, new DataView(record.buffer), WAL_RECORD_HEADER_SIZE, TYPE_PUT, new Uint8Array([7]), new Uint8Array());
   * wal.appendEncoded(5, 1, record);
   * await wal.close();
   * const result = replayWal(`${dir}/000001.log`, () => {});
   * assert.equal(result.lastSequence, 5);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  appendEncoded(
    firstSequence: number,
    count: number,
    record: Uint8Array,
  ): void {
    this.#checkWritable();
    checkBatch(firstSequence, count);
    const len = record.length - 8;
    checkRecordLen(len);
    const view = new DataView(
      record.buffer,
      record.byteOffset,
      record.byteLength,
    );
    putRecordHeader(record, view, len, this.#logNumber, firstSequence, count);
    this.#write(record, record.length);
  }

  /**
   * Appends a batch of one operation: the same record as
   * `append(sequence, [{ type, key, value }])`, without building the array.
   *
   * @param sequence Sequence number of the operation.
   * @param type {@link TYPE_PUT} or {@link TYPE_DELETE}.
   * @param key The user key.
   * @param value The value (ignored for a delete).
   * @throws {InvalidArgumentError} On a bad sequence or type.
   * @throws {ClosedError} After {@link WalWriter.close}.
   * @throws {IOError} as for `append`.
   *
   * @example Log one put
   * ```ts
   * import assert from "node:assert/strict";
   * import { WalWriter } from "./wal.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const dir = await Deno.makeTempDir();
   * const wal = await WalWriter.create(`${dir}/000001.log`);
   * wal.appendSingle(1, TYPE_PUT, new Uint8Array([1]), new Uint8Array([2]));
   * assert(wal.size === 8 + 24 + 9 + 2);
   * await wal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  appendSingle(
    sequence: number,
    type: WalEntryType,
    key: Uint8Array,
    value: Uint8Array,
  ): void {
    this.#checkWritable();
    checkBatch(sequence, 1);
    checkType(type);
    const len = BODY_FIXED + ENTRY_OVERHEAD + key.length +
      (type === TYPE_DELETE ? 0 : value.length);
    checkRecordLen(len);
    const n = 8 + len;
    const buf = this.#scratchFor(n);
    const view = this.#view;
    encodeWalEntry(buf, view, WAL_RECORD_HEADER_SIZE, type, key, value);
    putRecordHeader(buf, view, len, this.#logNumber, sequence, 1);
    this.#write(buf, n);
  }

  /**
   * Makes every byte appended before this call durable (`fdatasync`).
   * Group commit: while one sync runs, later callers wait for it, and the
   * next sync then covers all of them at once. Resolves at once when
   * nothing new was appended.
   *
   * A lone writer (the last sync covered one record, and no other record
   * came while the writers woken with this one ran) syncs without leaving
   * the thread: on this machine's disk a blocking `fdatasync` did 7,300
   * overwrites a second where the asynchronous one did 4,600, the cost of
   * handing it to another thread and back. Nothing else runs meanwhile,
   * so every 16th such sync first lets pending I/O callbacks run (a
   * server's requests), and a writer that finds company returns to group
   * commit.
   *
   * @returns A promise that resolves once those bytes are durable.
   * @throws {IOError} when the sync fails (and
   * for every later append or sync).
   *
   * @example Concurrent syncs share one fdatasync
   * ```ts
   * import assert from "node:assert/strict";
   * import { WalWriter } from "./wal.ts";
   * import { TYPE_PUT } from "../iterator/internal_key.ts";
   * const dir = await Deno.makeTempDir();
   * const wal = await WalWriter.create(`${dir}/000001.log`);
   * const k = new Uint8Array([1]);
   * await Promise.all([1, 2, 3, 4].map((seq) => {
   *   wal.appendSingle(seq, TYPE_PUT, k, k);
   *   return wal.sync();
   * }));
   * assert(wal.syncCount <= 2 && wal.syncedSize === wal.size);
   * await wal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async sync(): Promise<void> {
    const target = this.#size;
    this.#syncing = true;
    while (this.#synced < target) {
      if (this.#failure !== null) throw this.#failure;
      if (this.#inFlight === null) this.#inFlight = this.#runSync();
      // Either the sync we just started, or one started before our bytes
      // were written (then loop: the next one covers us and its peers).
      await this.#inFlight;
    }
  }

  async #runSync(): Promise<void> {
    try {
      const lone = this.#appends - this.#appendsAtSync <= 1;
      if (lone) {
        // Writers woken by the event that woke this one append first.
        if (++this.#loneSyncs % LONE_SYNC_PROBE_EVERY === 0) await nextTurn();
        else await null;
      }
      const end = this.#size;
      const records = this.#appends - this.#appendsAtSync;
      this.#appendsAtSync = this.#appends;
      this.#syncCount++;
      if (lone && records <= 1) this.#file.syncDataSync();
      else await this.#file.syncData();
      if (end > this.#synced) this.#synced = end;
    } catch (err) {
      throw this.#fail(err, "sync");
    } finally {
      this.#inFlight = null;
    }
  }

  /**
   * Syncs every appended byte, then closes the file. Later appends throw
   * {@link ClosedError}. Calling it again returns the same promise.
   *
   * @returns A promise that resolves once the log is durable and closed;
   * it rejects (after closing the file) when the final sync failed or an
   * earlier write or sync had failed.
   *
   * @example Close twice
   * ```ts
   * import { WalWriter } from "./wal.ts";
   * const dir = await Deno.makeTempDir();
   * const wal = await WalWriter.create(`${dir}/000001.log`);
   * await wal.close();
   * await wal.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  close(): Promise<void> {
    if (this.#closing === null) this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      if (this.#failure === null && this.#fileSize > this.#size) {
        // Leave only records behind: no preallocated or stale tail.
        try {
          this.#file.truncate(this.#size);
        } catch (err) {
          throw this.#fail(err, "write");
        }
      }
      await this.sync();
      if (this.#failure !== null) throw this.#failure;
    } finally {
      this.#file.close();
    }
  }

  /** Same as {@link WalWriter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Reads a log file in chunks. Chunks are never reused, so subarrays handed
 * to the caller stay valid; a record that straddles two chunks is copied
 * whole into the next one.
 */
class ChunkReader {
  buf: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.buf.buffer);
  /** File offset of `buf[0]`. */
  start = 0;
  /** File offset just after the last byte read (the file position). */
  end = 0;
  /** The file's layout version, once its header was read. */
  version = 0;

  constructor(readonly file: ReadableFile, readonly fileSize: number) {}

  /**
   * Makes file bytes `[pos, pos + n)` available in `buf` at `pos - start`.
   * `pos` is at most `end`, as replay reads forward. Returns false when the
   * file ended early (it shrank while being read).
   */
  ensure(pos: number, n: number): boolean {
    if (pos >= this.start && pos + n <= this.end) return true;
    const size = Math.min(Math.max(READ_CHUNK, n), this.fileSize - pos);
    if (size < n) return false;
    // One buffer for the whole replay (a record's views die with its
    // callback), grown only for a record larger than it.
    const old = this.buf;
    const next = old.length >= size ? old : new Uint8Array(size);
    let have = 0;
    if (pos < this.end) {
      const from = pos - this.start, to = this.end - this.start;
      if (next === old) next.copyWithin(0, from, to);
      else next.set(old.subarray(from, to));
      have = this.end - pos;
    }
    while (have < size) {
      const got = this.file.readAt(next, have, size - have, pos + have);
      if (got <= 0) break;
      have += got;
    }
    if (next !== this.buf) {
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.start = pos;
    this.end = pos + have;
    return have >= n;
  }
}

/** Whether file bytes `[from, fileSize)` are all zeros. */
function zerosFrom(r: ChunkReader, from: number, fileSize: number): boolean {
  for (let pos = from; pos < fileSize;) {
    const n = Math.min(READ_CHUNK, fileSize - pos);
    if (!r.ensure(pos, n)) return false;
    const at = pos - r.start;
    for (let i = at; i < at + n; i++) if (r.buf[i] !== 0) return false;
    pos += n;
  }
  return true;
}

function hex32(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/**
 * Checks the entries of a record whose CRC matched and hands them to
 * `onBatch`. Returns a reason when the record does not follow the format.
 */
function decodeBatch(
  r: ChunkReader,
  at: number,
  len: number,
  onBatch: (firstSequence: number, ops: WalOp[]) => void,
): { count: number; last: number } | string {
  const { buf, view } = r;
  // Version 4 has logNumber (checked by the caller) before firstSequence.
  const fixed = r.version >= 4 ? 4 : 0;
  const firstSequence = readU64(view, at + 8 + fixed);
  const count = view.getUint32(at + 16 + fixed, true);
  if (count === 0) return "batch holds no entries";
  if (
    !Number.isSafeInteger(firstSequence) ||
    firstSequence > MAX_SEQUENCE - (count - 1)
  ) {
    return `sequence ${firstSequence} + ${count} entries exceeds 2^53 - 1`;
  }
  const end = at + 8 + len;
  const ops: WalOp[] = new Array(count);
  let off = at + V3_RECORD_HEADER_SIZE + fixed;
  for (let i = 0; i < count; i++) {
    if (end - off < ENTRY_OVERHEAD) {
      return `entry ${i} of ${count} overruns the record`;
    }
    const kl = view.getUint32(off, true);
    off += 4;
    if (end - off < kl + 5) return `key of entry ${i} overruns the record`;
    const key = buf.subarray(off, off + kl);
    off += kl;
    const type = buf[off++]!;
    const vl = view.getUint32(off, true);
    off += 4;
    if (
      type !== TYPE_PUT && type !== TYPE_DELETE &&
      (type !== TYPE_RANGE_DELETE || r.version < 3)
    ) {
      return `entry ${i} has unknown type ${type}`;
    }
    if (type === TYPE_DELETE && vl !== 0) {
      return `delete entry ${i} carries a ${vl}-byte value`;
    }
    if (end - off < vl) return `value of entry ${i} overruns the record`;
    ops[i] = { type, key, value: buf.subarray(off, off + vl) };
    off += vl;
  }
  if (off !== end) {
    return `entries end ${end - off} bytes before the record length`;
  }
  onBatch(firstSequence, ops);
  return { count, last: firstSequence + count - 1 };
}

/**
 * Replays a log file, batch by batch, in the order written. Recovery is
 * point-in-time: replay stops at the first record that is torn (extends
 * past the end of the file) or corrupt (CRC mismatch, bad length, unknown
 * type, entries that do not fill the record exactly), keeps every batch
 * before it, and reports the rest as dropped. A file shorter than its
 * header, or of nothing but zeros (a crash right after it was created,
 * before its header was durable), is an empty log.
 *
 * A version 4 log ends cleanly, too, at a record header of zeros (the
 * space written ahead of the records) or at a record that checks out but
 * carries another log number than `logNumber` (left from an earlier use
 * of the file): those bytes are reported as `tailBytes`, not dropped.
 *
 * The keys and values handed to `onBatch` are subarrays of the one buffer
 * the file is read into, not copies: they are valid during the call only
 * (the next chunk of the file overwrites them), so a caller copies what it
 * keeps, as the memtable does. Replaying a 12 MB log used to leave twelve
 * 1 MiB buffers for the garbage collector. Callers must not mutate them.
 *
 * @param path Path of the log file.
 * @param onBatch Called once per record with its first sequence number and
 * operations; an exception thrown here stops replay and propagates.
 * @param fs The filesystem (the real one by default).
 * @param logNumber The number the file's records carry: by default the one
 * in its name (see {@link logNumberOf}), or for another name the first
 * record's.
 * @returns Counts, the last sequence, and what was dropped.
 * @throws {CorruptionError} When the file has a wrong MAGIC (offset 0) or an
 * unknown VERSION (offset 4).
 *
 * @example Replay after a torn write
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWalRecord, replayWal, WalWriter } from "./wal.ts";
 * import { TYPE_PUT } from "../iterator/internal_key.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/000001.log`;
 * const wal = await WalWriter.create(path);
 * const k = new Uint8Array([1]);
 * wal.append(1, [{ type: TYPE_PUT, key: k, value: k }]);
 * await wal.close();
 * // A crash in the middle of the second record:
 * const torn = encodeWalRecord(2, [{ type: TYPE_PUT, key: k, value: k }], 1);
 * await Deno.writeFile(path, torn.subarray(0, 10), { append: true });
 * const result = replayWal(path, () => {});
 * assert(result.batches === 1 && result.droppedBytes === 10);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function replayWal(
  path: string,
  onBatch: (firstSequence: number, ops: WalOp[]) => void,
  fs: Fs = diskFs,
  logNumber: number | undefined = logNumberOf(path),
): WalReplayResult {
  const file = fs.openReadable(path);
  try {
    return replayFile(path, file, onBatch, logNumber);
  } finally {
    file.close();
  }
}

function replayFile(
  path: string,
  file: ReadableFile,
  onBatch: (firstSequence: number, ops: WalOp[]) => void,
  logNumber: number | undefined,
): WalReplayResult {
  const fileSize = file.size;
  const result: WalReplayResult = {
    batches: 0,
    entries: 0,
    lastSequence: 0,
    validBytes: 0,
    droppedBytes: 0,
    tailBytes: 0,
    version: 0,
  };
  const r = new ChunkReader(file, fileSize);
  const stop = (at: number, reason: string): WalReplayResult => {
    result.validBytes = at;
    result.droppedBytes = fileSize - at;
    result.dropReason = reason;
    result.dropOffset = at;
    return result;
  };
  if (fileSize < WAL_HEADER_SIZE) {
    if (fileSize === 0) return result;
    return stop(0, `truncated file header (${fileSize} of 8 bytes)`);
  }
  if (!r.ensure(0, WAL_HEADER_SIZE)) {
    return stop(0, "file ended while reading its header");
  }
  const magic = r.view.getUint32(0, true);
  // A log whose header and everything after it are zeros was created, and
  // a crash came before its header was durable, or the sync that was to
  // make it so failed (Linux then drops the unwritten pages: zeros after
  // power loss). Records are appended only once the header is durable, so
  // such a file never held one: an empty log, like one cut short.
  if (magic === 0 && zerosFrom(r, 0, fileSize)) {
    return stop(0, "a file of zeros: its header never became durable");
  }
  if (magic !== WAL_MAGIC) {
    throw new CorruptionError(
      path,
      0,
      `bad magic ${hex32(magic)}: not a Strata WAL (expected ${
        hex32(WAL_MAGIC)
      })`,
    );
  }
  const version = r.view.getUint32(4, true);
  r.version = version;
  result.version = version;
  if (version < 2 || version > WAL_VERSION) {
    throw new CorruptionError(
      path,
      4,
      version === 1
        ? `unsupported WAL version 1: the original unchecksummed layout, expected version 2 to ${WAL_VERSION}`
        : `unknown WAL version ${version}: expected version 2 to ${WAL_VERSION}`,
    );
  }
  const recycled = version >= 4;
  const minLen = walRecordHeaderSize(version) - 8;
  const end = (at: number): WalReplayResult => {
    result.validBytes = at;
    result.tailBytes = fileSize - at;
    return result;
  };
  let pos = WAL_HEADER_SIZE;
  while (pos < fileSize) {
    const left = fileSize - pos;
    if (recycled && left < 8 && r.ensure(pos, left)) {
      const at = pos - r.start;
      if (r.buf.subarray(at, at + left).every((b) => b === 0)) return end(pos);
    }
    if (left < 8) {
      return stop(pos, `torn record header (${left} of 8 bytes)`);
    }
    if (!r.ensure(pos, 8)) return stop(pos, "file ended while reading");
    const len = r.view.getUint32(pos - r.start + 4, true);
    if (recycled && len === 0 && r.view.getUint32(pos - r.start, true) === 0) {
      return end(pos); // the zeros written ahead of the records
    }
    if (len < minLen) {
      return stop(
        pos,
        `bad record length ${len}: below the ${minLen}-byte minimum`,
      );
    }
    if (len > left - 8) {
      return stop(
        pos,
        `torn record: length ${len} extends past the end of the file (${
          left - 8
        } bytes left)`,
      );
    }
    if (!r.ensure(pos, 8 + len)) return stop(pos, "file ended while reading");
    const at = pos - r.start;
    const stored = r.view.getUint32(at, true);
    const actual = crc32c(r.buf.subarray(at + 4, at + 8 + len));
    if (stored !== actual) {
      return stop(
        pos,
        `checksum mismatch: stored ${hex32(stored)}, computed ${hex32(actual)}`,
      );
    }
    // A record of the file's earlier use (recycled): the log ends here.
    if (recycled) {
      const number = r.view.getUint32(at + 8, true);
      logNumber ??= number;
      if (number !== logNumber >>> 0) return end(pos);
    }
    const decoded = decodeBatch(r, at, len, onBatch);
    if (typeof decoded === "string") return stop(pos, decoded);
    result.batches++;
    result.entries += decoded.count;
    if (decoded.last > result.lastSequence) result.lastSequence = decoded.last;
    pos += 8 + len;
  }
  result.validBytes = pos;
  return result;
}
