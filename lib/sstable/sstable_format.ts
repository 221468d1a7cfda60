/**
 * The SSTable file format: the pieces shared by the writer and the reader
 * (internal-key trailers, varints, block handles, block trailers, the
 * properties block and the footer). Modelled on LevelDB's
 * `doc/table_format.md`, with one table-wide bloom filter instead of a
 * metaindex, and a checksummed footer.
 *
 * ```
 * <beginning of file>
 * [data block 1][trailer]
 * ...
 * [data block N][trailer]        entries in internal order (lib/block.ts)
 * [filter block][trailer]        bloom filter over user keys (lib/bloom.ts)
 * [properties block][trailer]    counts, smallest and largest key
 * [index block][trailer]         one entry per data block (lib/block.ts)
 * [footer]                       FOOTER_SIZE (76) bytes
 * <end of file>
 * ```
 *
 * Internal key, as stored in blocks: the user key followed by an 8-byte
 * trailer, the little-endian u64 `seq * 256 + type` (LevelDB's packing),
 * written without 64-bit arithmetic as:
 *
 * ```
 * +----------+---------+------------------------------------------+
 * | user key | type u8 | seq, 7 bytes little-endian (seq < 2^53)  |
 * +----------+---------+------------------------------------------+
 * ```
 *
 * Block handle: `varint offset | varint size` (LEB128, at most 10 bytes
 * each); `size` excludes the 5-byte trailer.
 *
 * Block trailer (5 bytes), after every block:
 *
 * ```
 * +---------+----------------------------------------+
 * | type u8 | crc32c(contents ‖ type) u32 LE         |
 * +---------+----------------------------------------+
 * type 0 = raw; type 1 = LZ4 (data blocks of format version 2 only).
 * ```
 *
 * The contents of an LZ4 block (the checksum covers these bytes, as
 * stored): the size of the raw block, then an LZ4 block (lib/util/lz4.ts).
 * A data block is stored compressed only when that saves at least 1/8 of
 * its size (LevelDB's rule); random values stay raw.
 *
 * ```
 * +----------------------+----------------------------------+
 * | varint raw size      | LZ4 block of the raw contents    |
 * +----------------------+----------------------------------+
 * ```
 *
 * Properties block contents (all integers little-endian):
 *
 * ```
 * u64 entries | u64 deletions | u64 dataBlocks | u64 rawKeyBytes |
 * u64 rawValueBytes | u32 len | smallest key | u64 smallest seq |
 * u32 len | largest key | u64 largest seq
 * ```
 *
 * Footer (76 bytes, at `fileSize - 76`):
 *
 * ```
 *  0  filter handle | properties handle | index handle, zero padded to 60
 * 60  format version u32 LE (2; 1 = written before compression, read still)
 * 64  crc32c of bytes [0, 64) u32 LE
 * 68  magic, 8 bytes: "StrataT\x01"
 * ```
 *
 * @module
 */

import { readU64, writeU64 } from "../util/bytes.ts";
import { crc32c } from "../util/crc32c.ts";
import { CorruptionError } from "../util/errors.ts";
import {
  lz4Compress,
  lz4CompressBound,
  lz4Decompress,
  Lz4Error,
} from "../util/lz4.ts";
import {
  type EntryType,
  MAX_SEQUENCE,
  TYPE_DELETE,
  TYPE_PUT,
} from "../iterator/internal_key.ts";

/** Bytes of the trailer that follows the user key of an internal key. */
export const INTERNAL_TRAILER_SIZE = 8;
/** Bytes of the trailer (type + CRC32C) after every block. */
export const BLOCK_TRAILER_SIZE = 5;
/** Block type byte of an uncompressed block. */
export const BLOCK_TYPE_RAW = 0;
/** Block type byte of an LZ4-compressed data block (format version 2). */
export const BLOCK_TYPE_LZ4 = 1;
/** Size of the fixed footer at the end of every table. */
export const FOOTER_SIZE = 76;
/** The table format version written in the footer. */
export const FORMAT_VERSION = 2;
/** The first format version whose data blocks may be compressed. */
export const COMPRESSED_FORMAT_VERSION = 2;
/** Longest varint encoding of a block handle (two 10-byte varints). */
export const MAX_HANDLE_SIZE = 20;

// ASCII "StrataT" + format generation: a hex dump names the file type, and a
// foreign file ends in exactly these 8 bytes with odds of 2^-64.
const MAGIC = new Uint8Array([0x53, 0x74, 0x72, 0x61, 0x74, 0x61, 0x54, 0x01]);
// The three handles share a zero-padded region of 3 × MAX_HANDLE_SIZE bytes
// so the footer keeps a fixed size whatever the offsets are.
const HANDLES_SIZE = 3 * MAX_HANDLE_SIZE;

/**
 * The magic number that ends every table file.
 *
 * @returns A fresh copy of the 8 magic bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableMagic } from "./sstable_format.ts";
 * assert(new TextDecoder().decode(tableMagic().subarray(0, 7)) === "StrataT");
 * ```
 */
export function tableMagic(): Uint8Array {
  return MAGIC.slice();
}

/**
 * Writes the 8-byte internal-key trailer of `(seq, type)` at `pos`.
 *
 * @param buf Destination buffer.
 * @param pos Offset in `buf` (8 bytes are written).
 * @param seq Sequence number, an integer in 0 … 2^53 - 1.
 * @param type Entry type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTrailerSeq, readTrailerType, writeTrailer } from "./sstable_format.ts";
 * const buf = new Uint8Array(8);
 * writeTrailer(buf, 0, 2 ** 40 + 5, 2);
 * assert(readTrailerSeq(buf, 0) === 2 ** 40 + 5 && readTrailerType(buf, 0) === 2);
 * ```
 */
export function writeTrailer(
  buf: Uint8Array,
  pos: number,
  seq: number,
  type: EntryType,
): void {
  const lo = seq >>> 0;
  const hi = Math.floor(seq / 0x1_0000_0000);
  buf[pos] = type;
  buf[pos + 1] = lo;
  buf[pos + 2] = lo >>> 8;
  buf[pos + 3] = lo >>> 16;
  buf[pos + 4] = lo >>> 24;
  buf[pos + 5] = hi;
  buf[pos + 6] = hi >>> 8;
  buf[pos + 7] = hi >>> 16;
}

/**
 * Reads the sequence number of the internal-key trailer at `pos`.
 *
 * @param buf Buffer holding the trailer.
 * @param pos Offset of the trailer.
 * @returns The sequence number (below 2^56; callers that distrust the bytes
 * compare it with `MAX_SEQUENCE`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTrailerSeq, writeTrailer } from "./sstable_format.ts";
 * const buf = new Uint8Array(8);
 * writeTrailer(buf, 0, 7, 1);
 * assert(readTrailerSeq(buf, 0) === 7);
 * ```
 */
export function readTrailerSeq(buf: Uint8Array, pos: number): number {
  const lo = (buf[pos + 1]! | buf[pos + 2]! << 8 | buf[pos + 3]! << 16 |
    buf[pos + 4]! << 24) >>> 0;
  const hi = buf[pos + 5]! | buf[pos + 6]! << 8 | buf[pos + 7]! << 16;
  return lo + hi * 0x1_0000_0000;
}

/**
 * Reads the type byte of the internal-key trailer at `pos`, unchecked.
 *
 * @param buf Buffer holding the trailer.
 * @param pos Offset of the trailer.
 * @returns The raw type byte (1 = PUT, 2 = DEL when the bytes are sound).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTrailerType, writeTrailer } from "./sstable_format.ts";
 * const buf = new Uint8Array(8);
 * writeTrailer(buf, 0, 7, 1);
 * assert(readTrailerType(buf, 0) === 1);
 * ```
 */
export function readTrailerType(buf: Uint8Array, pos: number): number {
  return buf[pos]!;
}

/**
 * Tells whether a decoded trailer holds a valid type and sequence number.
 *
 * @param type Raw type byte.
 * @param seq Decoded sequence number.
 * @returns `true` for type 1 or 2 and a sequence number up to 2^53 - 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidTrailer } from "./sstable_format.ts";
 * assert(isValidTrailer(1, 5) && !isValidTrailer(3, 5));
 * ```
 */
export function isValidTrailer(type: number, seq: number): boolean {
  return (type === TYPE_PUT || type === TYPE_DELETE) && seq <= MAX_SEQUENCE;
}

/**
 * Appends `value` as a LEB128 varint (7 bits per byte, low bits first).
 *
 * @param buf Destination, with room for up to 10 bytes at `pos`.
 * @param pos Where to write.
 * @param value A non-negative integer below 2^53.
 * @returns The offset after the varint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { putVarint } from "./sstable_format.ts";
 * const buf = new Uint8Array(10);
 * assert(putVarint(buf, 0, 300) === 2 && buf[0] === 0xac && buf[1] === 0x02);
 * ```
 */
export function putVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  buf[pos++] = value;
  return pos;
}

/**
 * Number of bytes {@link putVarint} writes for `value`.
 *
 * @param value A non-negative integer below 2^53.
 * @returns The encoded length, 1 … 8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { varintLength } from "./sstable_format.ts";
 * assert(varintLength(127) === 1 && varintLength(128) === 2);
 * ```
 */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/** A reusable cursor: decoders store the offset after what they read. */
export interface Cursor {
  /** Offset just past the last decoded item. */
  pos: number;
}

/**
 * Decodes a varint written by {@link putVarint} without allocating.
 *
 * @param buf Source buffer.
 * @param pos Offset of the varint.
 * @param limit Offset the varint must end before (exclusive).
 * @param cursor Receives the offset after the varint.
 * @returns The value, or -1 when the bytes are truncated or exceed 2^53.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getVarint, putVarint } from "./sstable_format.ts";
 * const buf = new Uint8Array(10);
 * const end = putVarint(buf, 0, 2 ** 50);
 * const cursor = { pos: 0 };
 * assert(getVarint(buf, 0, end, cursor) === 2 ** 50 && cursor.pos === end);
 * assert(getVarint(buf, 0, end - 1, cursor) === -1);
 * ```
 */
export function getVarint(
  buf: Uint8Array,
  pos: number,
  limit: number,
  cursor: Cursor,
): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 8 && pos < limit; i++) {
    const b = buf[pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) return -1;
      cursor.pos = pos;
      return result;
    }
    scale *= 0x80;
  }
  return -1;
}

/** Where a block lives in the file; `size` excludes the block trailer. */
export interface BlockHandle {
  /** File offset of the block's first byte. */
  offset: number;
  /** Length of the block contents, without the 5-byte trailer. */
  size: number;
}

/**
 * Encodes a block handle as two varints.
 *
 * @param handle The handle.
 * @param buf Destination with {@link MAX_HANDLE_SIZE} bytes of room at `pos`.
 * @param pos Where to write.
 * @returns The offset after the handle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBlockHandle, encodeBlockHandle } from "./sstable_format.ts";
 * const buf = new Uint8Array(20);
 * const end = encodeBlockHandle({ offset: 4096, size: 4000 }, buf, 0);
 * assert(decodeBlockHandle(buf, 0, end, { pos: 0 })?.size === 4000);
 * ```
 */
export function encodeBlockHandle(
  handle: BlockHandle,
  buf: Uint8Array,
  pos: number,
): number {
  pos = putVarint(buf, pos, handle.offset);
  return putVarint(buf, pos, handle.size);
}

/**
 * Decodes a block handle written by {@link encodeBlockHandle}.
 *
 * @param buf Source buffer.
 * @param pos Offset of the handle.
 * @param limit Offset the handle must end before.
 * @param cursor Receives the offset after the handle.
 * @returns The handle, or `undefined` when the bytes are not a handle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBlockHandle } from "./sstable_format.ts";
 * assert(decodeBlockHandle(new Uint8Array([0x80]), 0, 1, { pos: 0 }) === undefined);
 * ```
 */
export function decodeBlockHandle(
  buf: Uint8Array,
  pos: number,
  limit: number,
  cursor: Cursor,
): BlockHandle | undefined {
  const offset = getVarint(buf, pos, limit, cursor);
  if (offset < 0) return undefined;
  const size = getVarint(buf, cursor.pos, limit, cursor);
  if (size < 0) return undefined;
  return { offset, size };
}

/**
 * Builds the 5-byte trailer of a block: type byte and CRC32C.
 *
 * @param contents The block contents.
 * @param type Block type byte ({@link BLOCK_TYPE_RAW}).
 * @returns The trailer bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockTrailer, checkBlock } from "./sstable_format.ts";
 * const contents = new Uint8Array([1, 2, 3]);
 * const onDisk = new Uint8Array(8);
 * onDisk.set(contents);
 * onDisk.set(blockTrailer(contents), 3);
 * assert(checkBlock(onDisk, "t.sst", 0).length === 3);
 * ```
 */
export function blockTrailer(
  contents: Uint8Array,
  type: number = BLOCK_TYPE_RAW,
): Uint8Array {
  const out = new Uint8Array(BLOCK_TRAILER_SIZE);
  out[0] = type;
  const crc = crc32c(out.subarray(0, 1), crc32c(contents));
  new DataView(out.buffer).setUint32(1, crc, true);
  return out;
}

/**
 * Checks the trailer of a block read from disk and returns its contents.
 *
 * @param onDisk Contents followed by the 5-byte trailer.
 * @param file File name for error messages.
 * @param offset File offset of `onDisk[0]`, for error messages.
 * @param length Bytes of `onDisk` that hold the block and its trailer (all
 * of it by default; a pooled frame may be longer).
 * @param allowLz4 Whether type 1 (LZ4) is valid here (a data block of a
 * version 2 table); the caller then decompresses the contents.
 * @returns A view of the contents as stored (without the trailer).
 * @throws {CorruptionError} When the CRC does not match or the type is
 * unknown.
 *
 * @example A flipped byte is caught
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockTrailer, checkBlock } from "./sstable_format.ts";
 * import { CorruptionError } from "../util/errors.ts";
 * const onDisk = new Uint8Array(6);
 * onDisk.set(blockTrailer(new Uint8Array([9])), 1);
 * onDisk[0] = 9;
 * checkBlock(onDisk, "t.sst", 0);
 * onDisk[0] = 8;
 * try {
 *   checkBlock(onDisk, "t.sst", 0);
 *   throw new Error("unreachable");
 * } catch (err) {
 *   assert(err instanceof CorruptionError);
 * }
 * ```
 */
export function checkBlock(
  onDisk: Uint8Array,
  file: string,
  offset: number,
  length: number = onDisk.length,
  allowLz4 = false,
): Uint8Array {
  const size = length - BLOCK_TRAILER_SIZE;
  if (size < 0) {
    throw new CorruptionError(
      file,
      offset,
      "block is shorter than its trailer",
    );
  }
  const stored = (onDisk[size + 1]! | onDisk[size + 2]! << 8 |
    onDisk[size + 3]! << 16 | onDisk[size + 4]! << 24) >>> 0;
  const actual = crc32c(onDisk.subarray(0, size + 1));
  if (stored !== actual) {
    throw new CorruptionError(
      file,
      offset,
      `block checksum mismatch: stored ${hex32(stored)}, computed ${
        hex32(actual)
      } over ${size} bytes`,
    );
  }
  const type = onDisk[size]!;
  if (type !== BLOCK_TYPE_RAW && !(type === BLOCK_TYPE_LZ4 && allowLz4)) {
    throw new CorruptionError(
      file,
      offset + size,
      `unknown block type "${type}": expected 0 (raw)${
        allowLz4 ? " or 1 (LZ4)" : ""
      }`,
    );
  }
  return onDisk.subarray(0, size);
}

/**
 * Compresses a data block's contents, or says it is not worth it.
 *
 * @param contents The raw block.
 * @param scratch Where the compressed form is written; must hold
 * {@link compressedBlockBound}(`contents.length`) bytes.
 * @returns The contents of an LZ4 block (a view of `scratch`), or
 * undefined when compression would not save at least 1/8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressBlock, compressedBlockBound, decompressBlock } from "./sstable_format.ts";
 * const raw = new TextEncoder().encode("key value ".repeat(100));
 * const packed = compressBlock(raw, new Uint8Array(compressedBlockBound(raw.length)))!;
 * assert(packed.length < raw.length / 4);
 * assert.deepEqual(decompressBlock(packed, "t.sst", 0), raw);
 * ```
 */
export function compressBlock(
  contents: Uint8Array,
  scratch: Uint8Array,
): Uint8Array | undefined {
  const n = contents.length;
  if (n < 32) return undefined;
  const start = writeVarint(scratch, 0, n);
  const end = lz4Compress(contents, scratch, start);
  return end <= n - (n >>> 3) ? scratch.subarray(0, end) : undefined;
}

/**
 * The most bytes {@link compressBlock} needs in its scratch buffer.
 *
 * @param n Raw block size.
 * @returns The bound.
 *
 * @example
 * ```ts
 * import { compressedBlockBound } from "./sstable_format.ts";
 * if (compressedBlockBound(4096) < 4096) throw new Error("too small");
 * ```
 */
export function compressedBlockBound(n: number): number {
  return lz4CompressBound(n) + 5;
}

/**
 * The raw size an LZ4 block's contents announce.
 *
 * @param contents The stored contents (after {@link checkBlock}).
 * @param file File name for error messages.
 * @param offset File offset of the block, for error messages.
 * @returns The raw size and where the LZ4 data starts.
 * @throws {CorruptionError} When the size is undecodable or absurd.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressedBlockRawSize } from "./sstable_format.ts";
 * // 4096 raw bytes, then (not shown) the LZ4 block of at least 16 bytes.
 * const contents = new Uint8Array(18);
 * contents.set([0x80, 0x20]);
 * assert.equal(compressedBlockRawSize(contents, "t", 0).size, 4096);
 * ```
 */
export function compressedBlockRawSize(
  contents: Uint8Array,
  file: string,
  offset: number,
): { size: number; start: number } {
  let size = 0;
  let shift = 1;
  for (let i = 0; i < 5 && i < contents.length; i++) {
    const b = contents[i]!;
    size += (b & 0x7f) * shift;
    shift *= 128;
    if (b < 0x80) {
      // LZ4 expands a byte to at most 255 + a little: anything larger than
      // that is damage, not a block (and must not size an allocation).
      if (size > (contents.length - i) * 255 + 64) break;
      return { size, start: i + 1 };
    }
  }
  throw new CorruptionError(
    file,
    offset,
    "compressed block has an undecodable or impossible raw size",
  );
}

/**
 * Decompresses an LZ4 block's contents into `out` (or a new buffer).
 *
 * @param contents The stored contents (after {@link checkBlock}).
 * @param file File name for error messages.
 * @param offset File offset of the block, for error messages.
 * @param out Where the raw block goes: exactly its raw size (see
 * {@link compressedBlockRawSize}); a new buffer by default.
 * @returns `out`.
 * @throws {CorruptionError} When the block does not decode to its size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptionError } from "../util/errors.ts";
 * import { decompressBlock } from "./sstable_format.ts";
 * assert.throws(() => decompressBlock(new Uint8Array([9, 0x90]), "t", 0), CorruptionError);
 * ```
 */
export function decompressBlock(
  contents: Uint8Array,
  file: string,
  offset: number,
  out?: Uint8Array,
): Uint8Array {
  const { size, start } = compressedBlockRawSize(contents, file, offset);
  const dest = out ?? new Uint8Array(size);
  try {
    lz4Decompress(contents.subarray(start), dest.subarray(0, size));
  } catch (err) {
    if (!(err instanceof Lz4Error)) throw err;
    throw new CorruptionError(file, offset, `compressed block: ${err.message}`);
  }
  return dest;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function hex32(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/** The decoded footer of a table. */
export interface Footer {
  /** Where the bloom filter block lives. */
  filter: BlockHandle;
  /** Where the properties block lives. */
  properties: BlockHandle;
  /** Where the index block lives. */
  index: BlockHandle;
  /** Table format version. */
  version: number;
}

/**
 * Encodes a footer.
 *
 * @param footer Handles and version.
 * @returns {@link FOOTER_SIZE} bytes.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFooter, encodeFooter, FOOTER_SIZE } from "./sstable_format.ts";
 * const h = { offset: 1, size: 2 };
 * const bytes = encodeFooter({ filter: h, properties: h, index: h, version: 1 });
 * assert(bytes.length === FOOTER_SIZE);
 * assert(decodeFooter(bytes, "t.sst", 0).index.size === 2);
 * ```
 */
export function encodeFooter(footer: Footer): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  let pos = encodeBlockHandle(footer.filter, out, 0);
  pos = encodeBlockHandle(footer.properties, out, pos);
  encodeBlockHandle(footer.index, out, pos);
  const view = new DataView(out.buffer);
  view.setUint32(HANDLES_SIZE, footer.version, true);
  view.setUint32(
    HANDLES_SIZE + 4,
    crc32c(out.subarray(0, HANDLES_SIZE + 4)),
    true,
  );
  out.set(MAGIC, HANDLES_SIZE + 8);
  return out;
}

/**
 * Decodes and checks a footer.
 *
 * @param bytes The last {@link FOOTER_SIZE} bytes of the file.
 * @param file File name for error messages.
 * @param offset File offset of `bytes[0]`.
 * @returns The footer.
 * @throws {CorruptionError} On a wrong magic number (not a Strata table), a
 * checksum mismatch, an unknown version or undecodable handles.
 *
 * @example A foreign file is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFooter, FOOTER_SIZE } from "./sstable_format.ts";
 * try {
 *   decodeFooter(new Uint8Array(FOOTER_SIZE), "x.sst", 0);
 *   throw new Error("unreachable");
 * } catch (err) {
 *   assert((err as Error).message.includes("magic"));
 * }
 * ```
 */
export function decodeFooter(
  bytes: Uint8Array,
  file: string,
  offset: number,
): Footer {
  if (bytes.length !== FOOTER_SIZE) {
    throw new CorruptionError(
      file,
      offset,
      `footer is ${bytes.length} bytes: expected ${FOOTER_SIZE}`,
    );
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[HANDLES_SIZE + 8 + i] !== MAGIC[i]) {
      throw new CorruptionError(
        file,
        offset + HANDLES_SIZE + 8,
        "bad magic number: not a Strata table",
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(HANDLES_SIZE + 4, true);
  const actual = crc32c(bytes.subarray(0, HANDLES_SIZE + 4));
  if (stored !== actual) {
    throw new CorruptionError(
      file,
      offset,
      `footer checksum mismatch: stored ${hex32(stored)}, computed ${
        hex32(actual)
      }`,
    );
  }
  const version = view.getUint32(HANDLES_SIZE, true);
  if (version !== 1 && version !== FORMAT_VERSION) {
    throw new CorruptionError(
      file,
      offset + HANDLES_SIZE,
      `unsupported table format version "${version}": expected 1 or ${FORMAT_VERSION}`,
    );
  }
  const cursor = { pos: 0 };
  const filter = decodeBlockHandle(bytes, 0, HANDLES_SIZE, cursor);
  const properties = filter &&
    decodeBlockHandle(bytes, cursor.pos, HANDLES_SIZE, cursor);
  const index = properties &&
    decodeBlockHandle(bytes, cursor.pos, HANDLES_SIZE, cursor);
  if (!filter || !properties || !index) {
    throw new CorruptionError(
      file,
      offset,
      "undecodable block handle in footer",
    );
  }
  return { filter, properties, index, version };
}

/** Table-wide facts stored in the properties block. */
export interface TableProperties {
  /** Number of entries (puts and tombstones). */
  entries: number;
  /** Number of tombstones. */
  deletions: number;
  /** Number of data blocks. */
  dataBlocks: number;
  /** Sum of user key lengths. */
  rawKeyBytes: number;
  /** Sum of value lengths. */
  rawValueBytes: number;
  /** First user key (empty for an empty table). */
  smallestKey: Uint8Array;
  /** Sequence number of the first entry (0 for an empty table). */
  smallestSeq: number;
  /** Last user key (empty for an empty table). */
  largestKey: Uint8Array;
  /** Sequence number of the last entry (0 for an empty table). */
  largestSeq: number;
}

/**
 * Encodes the properties block contents.
 *
 * @param p The properties.
 * @returns The block contents (without trailer).
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeProperties, encodeProperties } from "./sstable_format.ts";
 * const k = new Uint8Array([1]);
 * const bytes = encodeProperties({
 *   entries: 1, deletions: 0, dataBlocks: 1, rawKeyBytes: 1, rawValueBytes: 0,
 *   smallestKey: k, smallestSeq: 3, largestKey: k, largestSeq: 3,
 * });
 * assert(decodeProperties(bytes, "t.sst", 0).largestSeq === 3);
 * ```
 */
export function encodeProperties(p: TableProperties): Uint8Array {
  const out = new Uint8Array(
    5 * 8 + 2 * (4 + 8) + p.smallestKey.length + p.largestKey.length,
  );
  const view = new DataView(out.buffer);
  writeU64(view, 0, p.entries);
  writeU64(view, 8, p.deletions);
  writeU64(view, 16, p.dataBlocks);
  writeU64(view, 24, p.rawKeyBytes);
  writeU64(view, 32, p.rawValueBytes);
  let pos = 40;
  for (
    const [key, seq] of [[p.smallestKey, p.smallestSeq], [
      p.largestKey,
      p.largestSeq,
    ]] as const
  ) {
    view.setUint32(pos, key.length, true);
    out.set(key, pos + 4);
    pos += 4 + key.length;
    writeU64(view, pos, seq);
    pos += 8;
  }
  return out;
}

/**
 * Decodes the properties block contents.
 *
 * @param bytes The contents.
 * @param file File name for error messages.
 * @param offset File offset of `bytes[0]`.
 * @returns The properties; keys are views into `bytes`.
 * @throws {CorruptionError} When the bytes do not hold properties.
 *
 * @example Truncated properties are corruption
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeProperties } from "./sstable_format.ts";
 * try {
 *   decodeProperties(new Uint8Array(3), "t.sst", 0);
 *   throw new Error("unreachable");
 * } catch (err) {
 *   assert((err as Error).name === "CorruptionError");
 * }
 * ```
 */
export function decodeProperties(
  bytes: Uint8Array,
  file: string,
  offset: number,
): TableProperties {
  const bad = (at: number, why: string): never => {
    throw new CorruptionError(
      file,
      offset + at,
      `bad properties block: ${why}`,
    );
  };
  if (bytes.length < 40 + 2 * 12) bad(0, `only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nums: number[] = [];
  for (let i = 0; i < 5; i++) {
    const n = readU64(view, i * 8);
    if (!Number.isSafeInteger(n)) bad(i * 8, "count exceeds 2^53");
    nums.push(n);
  }
  let pos = 40;
  const keys: Uint8Array[] = [];
  const seqs: number[] = [];
  for (let i = 0; i < 2; i++) {
    if (pos + 4 > bytes.length) bad(pos, "truncated key length");
    const len = view.getUint32(pos, true);
    if (pos + 4 + len + 8 > bytes.length) {
      bad(pos, `key length ${len} overruns the block`);
    }
    keys.push(bytes.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
    const seq = readU64(view, pos);
    if (seq > MAX_SEQUENCE) bad(pos, "sequence number exceeds 2^53 - 1");
    seqs.push(seq);
    pos += 8;
  }
  if (pos !== bytes.length) bad(pos, `${bytes.length - pos} trailing bytes`);
  return {
    entries: nums[0]!,
    deletions: nums[1]!,
    dataBlocks: nums[2]!,
    rawKeyBytes: nums[3]!,
    rawValueBytes: nums[4]!,
    smallestKey: keys[0]!,
    smallestSeq: seqs[0]!,
    largestKey: keys[1]!,
    largestSeq: seqs[1]!,
  };
}
