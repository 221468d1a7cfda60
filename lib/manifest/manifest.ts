/**
 * The manifest: a log of {@link VersionEdit}s from which recovery rebuilds
 * the set of live files, and `CURRENT`, which names the live manifest.
 *
 * ```
 * MANIFEST-NNNNNN
 * +-----------------+-----------------+
 * | MAGIC u32 "SMAN"| VERSION u32 = 2 |    file header, 8 bytes
 * +-----------------+-----------------+
 * | u32 crc | u32 len | payload (len bytes) |   one record per edit
 * +---------+---------+---------------------+
 * crc   = CRC32C of the len field and the payload
 * payload = the edit as UTF-8 JSON (keys in hex), small and easy to read:
 *   {"log":5,"next":9,"seq":1200,
 *    "add":[{"level":0,"number":7,"size":4410,"entries":40,
 *            "smallest":"6b31","smallestSeq":3,"largest":"6b39","largestSeq":40,
 *            "minSeq":3,"maxSeq":40,"rdSeen":12,"rdHidden":true}],
 *    "delete":[[0,4]],"pointers":[[1,"6b35"]],
 *    "rangeDel":[["6b32","6b34",12]],"rangeDelRetired":[7],
 *    "lifetime":{"compactions":3,...}}
 * ```
 *
 * Version 2 added the range tombstones (`rangeDel`, `rangeDelRetired`),
 * the tables' sequence ranges (`minSeq`, `maxSeq`) and what they know of
 * range tombstones (`rdSeen`, `rdHidden`), and the lifetime counters
 * (`lifetime`). Version 1 manifests are read (the new fields absent) and
 * appended to, until an edit brings range tombstones: then the manifest
 * is rewritten as version 2, so that an older Strata, which would ignore
 * them and show deleted keys again, refuses it instead.
 *
 * All integers little-endian. Edits are small and rare (one per flush or
 * compaction), so readability beats compactness here. A record is appended
 * with one write and made durable before the change it describes is used.
 * A bad final record (a crash mid-append) may be dropped on recovery, but
 * only when nothing acted on it yet (see `VersionSet.recover`); a bad record
 * followed by more data is corruption.
 *
 * @module
 */

import { fromHex, toHex } from "../util/bytes.ts";
import { diskFs } from "../fs/disk_fs.ts";
import { type Fs, type WritableFile, writeAll } from "../fs/fs.ts";
import { crc32c } from "../util/crc32c.ts";
import { CorruptionError, IOError, StrataError } from "../util/errors.ts";
import type { FileMeta, VersionEdit } from "./version.ts";

/** "SMAN" read as a little-endian u32: tells a manifest from other files. */
export const MANIFEST_MAGIC = 0x4e414d53;
/** The manifest format version this code writes (it reads 1 and 2). */
export const MANIFEST_VERSION = 2;
const HEADER_BYTES = 8;
const RECORD_HEADER_BYTES = 8;

interface FileJson {
  level: number;
  number: number;
  size: number;
  entries: number;
  smallest: string;
  smallestSeq: number;
  largest: string;
  largestSeq: number;
  minSeq?: number;
  maxSeq?: number;
  rdSeen?: number;
  rdHidden?: boolean;
}

interface EditJson {
  log?: number;
  next?: number;
  seq?: number;
  add?: FileJson[];
  delete?: [number, number][];
  pointers?: [number, string][];
  rangeDel?: [string, string, number][];
  rangeDelRetired?: number[];
  lifetime?: Record<string, number>;
}

/**
 * Encodes an edit as a manifest record (header included).
 *
 * @param edit The edit.
 * @returns The record's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEdit, encodeEditRecord } from "./manifest.ts";
 * const record = encodeEditRecord({ lastSequence: 7 });
 * assert(decodeEdit(record.subarray(8), "m", 0).lastSequence === 7);
 * ```
 */
export function encodeEditRecord(edit: VersionEdit): Uint8Array {
  const json: EditJson = {};
  if (edit.logNumber !== undefined) json.log = edit.logNumber;
  if (edit.nextFileNumber !== undefined) json.next = edit.nextFileNumber;
  if (edit.lastSequence !== undefined) json.seq = edit.lastSequence;
  if (edit.added?.length) {
    json.add = edit.added.map(([level, f]) => ({
      level,
      number: f.number,
      size: f.size,
      entries: f.entries,
      smallest: toHex(f.smallestKey),
      smallestSeq: f.smallestSeq,
      largest: toHex(f.largestKey),
      largestSeq: f.largestSeq,
      ...(f.minSeq === undefined ? {} : { minSeq: f.minSeq }),
      ...(f.maxSeq === undefined ? {} : { maxSeq: f.maxSeq }),
      ...(f.rangeDeletesSeen === undefined
        ? {}
        : { rdSeen: f.rangeDeletesSeen }),
      ...(f.rangeDeleted ? { rdHidden: true } : {}),
    }));
  }
  if (edit.deleted?.length) json.delete = edit.deleted;
  if (edit.compactPointers?.length) {
    json.pointers = edit.compactPointers.map(([l, k]) => [l, toHex(k)]);
  }
  if (edit.rangeTombstonesAdded?.length) {
    json.rangeDel = edit.rangeTombstonesAdded.map((t) => [
      toHex(t.start),
      toHex(t.end),
      t.seq,
    ]);
  }
  if (edit.rangeTombstonesRetired?.length) {
    json.rangeDelRetired = edit.rangeTombstonesRetired;
  }
  if (edit.lifetime) json.lifetime = { ...edit.lifetime };
  const payload = new TextEncoder().encode(JSON.stringify(json));
  const record = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(record.buffer);
  view.setUint32(4, payload.length, true);
  record.set(payload, RECORD_HEADER_BYTES);
  view.setUint32(0, crc32c(record.subarray(4)), true);
  return record;
}

/**
 * Decodes a record's JSON payload into an edit, checking every field.
 *
 * @param payload The payload bytes.
 * @param file Manifest path, for errors.
 * @param offset Record offset, for errors.
 * @returns The edit.
 * @throws {CorruptionError} When the payload is not a well-formed edit.
 */
export function decodeEdit(
  payload: Uint8Array,
  file: string,
  offset: number,
): VersionEdit {
  const bad = (why: string) => new CorruptionError(file, offset, why);
  let json: EditJson;
  try {
    json = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(payload),
    );
  } catch {
    throw bad("manifest record is not valid JSON");
  }
  if (json === null || typeof json !== "object") {
    throw bad("edit is not an object");
  }
  const int = (v: unknown, what: string): number => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      throw bad(`edit field "${what}" is not a valid number`);
    }
    return v as number;
  };
  const key = (v: unknown, what: string): Uint8Array => {
    const bytes = typeof v === "string" ? fromHex(v) : undefined;
    if (!bytes) throw bad(`edit field "${what}" is not hex`);
    return bytes;
  };
  const edit: VersionEdit = {};
  if (json.log !== undefined) edit.logNumber = int(json.log, "log");
  if (json.next !== undefined) edit.nextFileNumber = int(json.next, "next");
  if (json.seq !== undefined) edit.lastSequence = int(json.seq, "seq");
  if (json.add !== undefined) {
    if (!Array.isArray(json.add)) throw bad(`edit field "add" is not a list`);
    edit.added = json.add.map((f) => {
      const meta: FileMeta = {
        number: int(f?.number, "number"),
        size: int(f?.size, "size"),
        entries: int(f?.entries, "entries"),
        smallestKey: key(f?.smallest, "smallest"),
        smallestSeq: int(f?.smallestSeq, "smallestSeq"),
        largestKey: key(f?.largest, "largest"),
        largestSeq: int(f?.largestSeq, "largestSeq"),
      };
      if (f.minSeq !== undefined) meta.minSeq = int(f.minSeq, "minSeq");
      if (f.maxSeq !== undefined) meta.maxSeq = int(f.maxSeq, "maxSeq");
      if (f.rdSeen !== undefined) {
        meta.rangeDeletesSeen = int(f.rdSeen, "rdSeen");
      }
      if (f.rdHidden === true) meta.rangeDeleted = true;
      return [int(f?.level, "level"), meta];
    });
  }
  if (json.delete !== undefined) {
    if (!Array.isArray(json.delete)) {
      throw bad(`edit field "delete" is not a list`);
    }
    edit.deleted = json.delete.map((
      d,
    ) => [int(d?.[0], "level"), int(d?.[1], "number")]);
  }
  if (json.pointers !== undefined) {
    if (!Array.isArray(json.pointers)) {
      throw bad(`edit field "pointers" is not a list`);
    }
    edit.compactPointers = json.pointers.map((
      p,
    ) => [int(p?.[0], "level"), key(p?.[1], "pointer")]);
  }
  if (json.rangeDel !== undefined) {
    if (!Array.isArray(json.rangeDel)) {
      throw bad(`edit field "rangeDel" is not a list`);
    }
    edit.rangeTombstonesAdded = json.rangeDel.map((t) => ({
      start: key(t?.[0], "rangeDel start"),
      end: key(t?.[1], "rangeDel end"),
      seq: int(t?.[2], "rangeDel seq"),
    }));
  }
  if (json.rangeDelRetired !== undefined) {
    if (!Array.isArray(json.rangeDelRetired)) {
      throw bad(`edit field "rangeDelRetired" is not a list`);
    }
    edit.rangeTombstonesRetired = json.rangeDelRetired.map((n) =>
      int(n, "rangeDelRetired")
    );
  }
  if (json.lifetime !== undefined) {
    if (json.lifetime === null || typeof json.lifetime !== "object") {
      throw bad(`edit field "lifetime" is not an object`);
    }
    const lifetime: Record<string, number> = {};
    for (const [name, n] of Object.entries(json.lifetime)) {
      lifetime[name] = int(n, `lifetime.${name}`);
    }
    edit.lifetime = lifetime;
  }
  return edit;
}

/** What {@link readManifest} found. */
export interface ManifestContents {
  /** The edits, in order. */
  edits: VersionEdit[];
  /** Byte offset of each edit's record, parallel to `edits`. */
  offsets: number[];
  /** Bytes of whole, valid records (header included). */
  validBytes: number;
  /** Bytes of a torn final record that were ignored. */
  droppedBytes: number;
  /** Why those bytes were ignored, when some were. */
  dropReason?: string;
  /** The format version of the file's header. */
  version: number;
}

/**
 * Reads every edit of a manifest.
 *
 * @param path Manifest path.
 * @param fs The filesystem (the real one by default).
 * @param options `salvage: true` (what repair wants) stops at the first
 * bad record wherever it is, keeping the edits before it, instead of
 * throwing.
 * @returns The edits and how much of the file they cover.
 * @throws {CorruptionError} On a bad header, or (unless salvaging) a bad
 * record that is not the torn tail of the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestWriter, readManifest } from "./manifest.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await ManifestWriter.create(`${dir}/MANIFEST-000001`);
 * await writer.append({ nextFileNumber: 2 });
 * writer.close();
 * assert(readManifest(`${dir}/MANIFEST-000001`).edits[0]?.nextFileNumber === 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readManifest(
  path: string,
  fs: Fs = diskFs,
  options: { salvage?: boolean } = {},
): ManifestContents {
  const data = fs.readFile(path);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (
    data.length < HEADER_BYTES || view.getUint32(0, true) !== MANIFEST_MAGIC
  ) {
    throw new CorruptionError(path, 0, "not a Strata manifest (bad magic)");
  }
  const version = view.getUint32(4, true);
  if (version !== 1 && version !== MANIFEST_VERSION) {
    throw new CorruptionError(path, 4, `unknown manifest version ${version}`);
  }
  const edits: VersionEdit[] = [];
  const offsets: number[] = [];
  let pos = HEADER_BYTES;
  let dropReason: string | undefined;
  while (pos < data.length) {
    const remaining = data.length - pos;
    if (remaining < RECORD_HEADER_BYTES) {
      dropReason = `torn record header (${remaining} of 8 bytes)`;
      break;
    }
    const len = view.getUint32(pos + 4, true);
    const end = pos + RECORD_HEADER_BYTES + len;
    if (end > data.length) {
      dropReason = `record of ${len} bytes runs past the end of the file`;
      break;
    }
    const crc = crc32c(data.subarray(pos + 4, end));
    if (crc !== view.getUint32(pos, true)) {
      if (end === data.length) {
        dropReason = "checksum mismatch in the final record";
        break;
      }
      // A file extended before its bytes reached the disk reads as zeros
      // past them: a torn append too, with nothing after it.
      if (isZeros(data, pos + 4)) {
        dropReason = "the final record reads as zeros";
        break;
      }
      if (options.salvage) {
        dropReason = `record checksum mismatch at offset ${pos}`;
        break;
      }
      throw new CorruptionError(path, pos, "manifest record checksum mismatch");
    }
    try {
      edits.push(
        decodeEdit(data.subarray(pos + RECORD_HEADER_BYTES, end), path, pos),
      );
    } catch (err) {
      if (!options.salvage || !(err instanceof CorruptionError)) throw err;
      dropReason = err.message;
      break;
    }
    offsets.push(pos);
    pos = end;
  }
  const contents: ManifestContents = {
    edits,
    offsets,
    validBytes: pos,
    droppedBytes: data.length - pos,
    version,
  };
  if (dropReason !== undefined) contents.dropReason = dropReason;
  return contents;
}

function isZeros(data: Uint8Array, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Appends edits to a manifest, each made durable before `append` resolves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestWriter } from "./manifest.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await ManifestWriter.create(`${dir}/MANIFEST-000001`);
 * await writer.append({ lastSequence: 1 });
 * assert(writer.size > 8);
 * writer.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ManifestWriter {
  readonly path: string;
  /** The format version of the file's header. */
  readonly version: number;
  #file: WritableFile | undefined;
  #size: number;
  #failure: IOError | undefined;

  private constructor(
    path: string,
    file: WritableFile,
    size: number,
    version: number,
  ) {
    this.path = path;
    this.#file = file;
    this.#size = size;
    this.version = version;
  }

  /**
   * Creates a new manifest file holding just the header.
   *
   * @param path Where to create it (must not exist).
   * @param fs The filesystem (the real one by default).
   * @returns The writer.
   */
  static async create(
    path: string,
    fs: Fs = diskFs,
  ): Promise<ManifestWriter> {
    let file: WritableFile;
    try {
      file = await fs.create(path);
    } catch (err) {
      throw new IOError("create", path, err);
    }
    const header = new Uint8Array(HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, MANIFEST_MAGIC, true);
    view.setUint32(4, MANIFEST_VERSION, true);
    try {
      writeAll(file, header);
    } catch (err) {
      file.close();
      throw new IOError("write", path, err);
    }
    return new ManifestWriter(path, file, HEADER_BYTES, MANIFEST_VERSION);
  }

  /**
   * Reopens an existing manifest to append after its valid records, cutting
   * off a torn tail so that new records follow whole ones.
   *
   * @param path Manifest path.
   * @param validBytes Bytes of whole records, from {@link readManifest}.
   * @param fs The filesystem (the real one by default).
   * @param version The file's format version, from {@link readManifest}.
   * @returns The writer.
   */
  static async reopen(
    path: string,
    validBytes: number,
    fs: Fs = diskFs,
    version: number = MANIFEST_VERSION,
  ): Promise<ManifestWriter> {
    let file: WritableFile;
    try {
      file = await fs.openAppend(path, validBytes);
    } catch (err) {
      throw new IOError("open", path, err);
    }
    return new ManifestWriter(path, file, validBytes, version);
  }

  /** Bytes in the file. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends an edit and waits until it is durable.
   *
   * @param edit The edit.
   */
  async append(edit: VersionEdit): Promise<void> {
    const file = this.#file;
    if (this.#failure) throw this.#failure;
    if (!file) {
      throw new StrataError(
        "CLOSED",
        `Cannot append to manifest "${this.path}": it is closed`,
      );
    }
    const record = encodeEditRecord(edit);
    let step: "write" | "sync" = "write";
    try {
      writeAll(file, record);
      step = "sync";
      await file.syncData();
    } catch (err) {
      // The record may be half written (a later append would follow
      // garbage), or its sync failed (and may not be retried as if safe).
      this.#failure = new IOError(step, this.path, err);
      throw this.#failure;
    }
    this.#size += record.length;
  }

  /** Closes the file; safe to call twice. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
