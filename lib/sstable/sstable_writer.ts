/**
 * Writes an SSTable (format: lib/sstable_format.ts) in one streaming pass.
 * Entries arrive in strictly increasing internal order; each data block is
 * written out as soon as it reaches the block size, so memory stays bounded
 * by one block, the index (one entry per block) and the bloom hashes (4
 * bytes per distinct user key).
 *
 * @module
 */

import { diskFs } from "../fs/disk_fs.ts";
import { type Fs, isNotFound, type WritableFile } from "../fs/fs.ts";
import { BlockBuilder } from "./block.ts";
import { BloomFilterBuilder } from "./bloom.ts";
import { ClosedError, InvalidArgumentError, IOError } from "../util/errors.ts";
import {
  type EntryType,
  MAX_SEQUENCE,
  TYPE_DELETE,
  TYPE_PUT,
} from "../iterator/internal_key.ts";
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_LZ4,
  BLOCK_TYPE_RAW,
  type BlockHandle,
  blockTrailer,
  compressBlock,
  compressedBlockBound,
  encodeBlockHandle,
  encodeFooter,
  encodeProperties,
  FORMAT_VERSION,
  MAX_HANDLE_SIZE,
} from "./sstable_format.ts";

/** Options of {@link SSTableWriter.create}. */
export interface SSTableWriterOptions {
  /** Target size of a data block in bytes (uncompressed), 1 … 2^30. */
  blockSize: number;
  /** Bloom filter bits per user key, 0 … 64 (0: no filter). */
  bloomBitsPerKey: number;
  /**
   * How data blocks are stored ["lz4"]: "lz4" compresses each one that
   * shrinks by at least 1/8, "none" stores them raw.
   */
  compression?: Compression;
}

/** How data blocks are stored: LZ4-compressed where it pays, or raw. */
export type Compression = "lz4" | "none";

/** What {@link SSTableWriter.finish} reports about the finished table. */
export interface TableInfo {
  /** Size of the file in bytes. */
  fileSize: number;
  /** Number of entries. */
  entries: number;
  /** First user key (empty for an empty table). */
  smallestKey: Uint8Array;
  /** Sequence number of the first entry. */
  smallestSeq: number;
  /** Last user key (empty for an empty table). */
  largestKey: Uint8Array;
  /** Sequence number of the last entry. */
  largestSeq: number;
  /** Lowest sequence number of any entry (0 for an empty table). */
  minSeq: number;
  /** Highest sequence number of any entry (0 for an empty table). */
  maxSeq: number;
}

/**
 * Stored ÷ raw bytes of the data blocks of the last table this thread
 * finished: the estimate for a table that has stored none yet.
 */
let lastRatio = 1;

// Blocks are gathered into writes of about this size: fewer syscalls than
// one write per 4 KiB block, still a bounded buffer.
const WRITE_BUFFER = 64 * 1024;

/**
 * Streams sorted entries into a new table file.
 *
 * @example Write a table and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { SSTableWriter } from "./sstable_writer.ts";
 * import { SSTableReader } from "./sstable_reader.ts";
 * import { BlockCache } from "./block_cache.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/000001.sst`;
 * const w = SSTableWriter.create(path, { blockSize: 4096, bloomBitsPerKey: 10 });
 * const enc = new TextEncoder();
 * w.add(enc.encode("a"), 2, 1, enc.encode("one"));
 * w.add(enc.encode("b"), 1, 2, new Uint8Array(0));
 * const info = await w.finish();
 * assert(info.entries === 2);
 * const r = SSTableReader.open(path, 1, new BlockCache(1 << 20));
 * assert(r.get(enc.encode("a"), 10)?.type === 1);
 * r.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SSTableWriter {
  private readonly file: WritableFile;
  private readonly fs: Fs;
  private readonly path: string;
  private readonly blockSize: number;
  private readonly data = new BlockBuilder();
  private readonly index = new BlockBuilder(1, 4096);
  private readonly bloom: BloomFilterBuilder;
  private readonly out = new Uint8Array(WRITE_BUFFER);
  private outLen = 0;
  private offset = 0;
  private state: "open" | "finished" | "abandoned" | "failed" = "open";
  private entries = 0;
  private deletions = 0;
  private dataBlocks = 0;
  private rawKeyBytes = 0;
  private rawValueBytes = 0;
  private last = new Uint8Array(64);
  private lastLen = 0;
  private lastSeq = 0;
  private lastType: EntryType = TYPE_PUT;
  private smallestKey = new Uint8Array(0);
  private smallestSeq = 0;
  private minSeq = 0;
  private maxSeq = 0;
  private readonly handleBuf = new Uint8Array(MAX_HANDLE_SIZE);
  /** Scratch for compressed data blocks; undefined: stored raw. */
  private zbuf: Uint8Array | undefined;
  /** Raw bytes of the data blocks written so far. */
  private rawBytes = 0;

  private constructor(
    file: WritableFile,
    path: string,
    options: SSTableWriterOptions,
    fs: Fs,
  ) {
    this.file = file;
    this.fs = fs;
    this.path = path;
    this.blockSize = options.blockSize;
    this.bloom = new BloomFilterBuilder(options.bloomBitsPerKey);
    if ((options.compression ?? "lz4") === "lz4") {
      this.zbuf = new Uint8Array(compressedBlockBound(2 * this.blockSize));
    }
  }

  /**
   * Creates the file (it must not exist) and returns a writer for it.
   *
   * @param path Path of the new table.
   * @param options Block size and bloom bits per key.
   * @param fs The filesystem (the real one by default).
   * @returns The writer.
   * @throws {InvalidArgumentError} On bad options.
   * @throws {IOError} When the file cannot be created (it exists, say).
   */
  static create(
    path: string,
    options: SSTableWriterOptions,
    fs: Fs = diskFs,
  ): SSTableWriter {
    const { blockSize, bloomBitsPerKey, compression } = options;
    if (
      compression !== undefined && compression !== "lz4" &&
      compression !== "none"
    ) {
      throw new InvalidArgumentError(
        `Invalid compression "${compression}": expected "lz4" or "none"`,
      );
    }
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 2 ** 30) {
      throw new InvalidArgumentError(
        `Invalid block size "${blockSize}": expected an integer from 1 to 2^30`,
      );
    }
    // Validates bloomBitsPerKey before the file exists.
    new BloomFilterBuilder(bloomBitsPerKey);
    let file: WritableFile;
    try {
      file = fs.createSync(path);
    } catch (err) {
      throw new IOError("create", path, err);
    }
    return new SSTableWriter(file, path, options, fs);
  }

  /** Bytes written so far plus the pending block: where to cut a table. */
  get estimatedSize(): number {
    // The pending block counts at the ratio of the blocks stored so far (or
    // of the previous table's, for the first), so compressed tables are
    // cut near the target size on disk, as their inputs were.
    const ratio = this.rawBytes > 0 ? this.offset / this.rawBytes : lastRatio;
    return this.offset + this.data.estimatedSize * ratio;
  }

  /**
   * Appends an entry. Entries must come in strictly increasing internal
   * order (user key ascending, then sequence number descending). The bytes
   * are copied; the caller may reuse its buffers.
   *
   * @param key User key.
   * @param seq Sequence number, an integer 0 … 2^53 - 1.
   * @param type `TYPE_PUT` or `TYPE_DELETE`.
   * @param value Value bytes (empty for a tombstone).
   * @throws {InvalidArgumentError} On an out-of-order entry, a bad sequence
   * number or type.
   * @throws {ClosedError} After finish or abandon.
   */
  add(key: Uint8Array, seq: number, type: EntryType, value: Uint8Array): void {
    if (this.state !== "open") this.refuse();
    if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQUENCE) {
      throw new InvalidArgumentError(
        `Invalid sequence number "${seq}": expected an integer from 0 to 2^53 - 1`,
      );
    }
    if (type !== TYPE_PUT && type !== TYPE_DELETE) {
      throw new InvalidArgumentError(
        `Invalid entry type "${type}": expected 1 or 2`,
      );
    }
    let newUserKey = true;
    if (this.entries > 0) {
      const c = this.compareLast(key);
      if (c < 0 || (c === 0 && seq >= this.lastSeq)) {
        throw new InvalidArgumentError(
          `Out-of-order entry (key of ${key.length} bytes, seq ${seq}): entries must be added in strictly increasing internal order`,
        );
      }
      newUserKey = c !== 0;
    } else {
      this.smallestKey = key.slice();
      this.smallestSeq = seq;
      this.minSeq = seq;
      this.maxSeq = seq;
    }
    if (seq < this.minSeq) this.minSeq = seq;
    if (seq > this.maxSeq) this.maxSeq = seq;
    if (newUserKey) {
      this.bloom.add(key);
      this.setLast(key);
    }
    this.lastSeq = seq;
    this.lastType = type;
    this.data.add(key, seq, type, value);
    this.entries++;
    if (type === TYPE_DELETE) this.deletions++;
    this.rawKeyBytes += key.length;
    this.rawValueBytes += value.length;
    if (this.data.estimatedSize >= this.blockSize) this.flushDataBlock();
  }

  /**
   * Writes the filter, properties and index blocks and the footer, syncs
   * the file's data and closes it. The caller syncs the directory before
   * publishing the table.
   *
   * @returns Size, entry count and key range of the table.
   * @throws {ClosedError} After finish or abandon.
   */
  async finish(): Promise<TableInfo> {
    if (this.state !== "open") this.refuse();
    this.state = "failed";
    if (!this.data.empty) this.flushDataBlock();
    if (this.rawBytes > 0) lastRatio = this.offset / this.rawBytes;
    const filter = this.writeBlock(this.bloom.finish());
    const largestKey = this.last.slice(0, this.entries > 0 ? this.lastLen : 0);
    const largestSeq = this.entries > 0 ? this.lastSeq : 0;
    const properties = this.writeBlock(encodeProperties({
      entries: this.entries,
      deletions: this.deletions,
      dataBlocks: this.dataBlocks,
      rawKeyBytes: this.rawKeyBytes,
      rawValueBytes: this.rawValueBytes,
      smallestKey: this.smallestKey,
      smallestSeq: this.smallestSeq,
      largestKey,
      largestSeq,
    }));
    const index = this.writeBlock(this.index.finish());
    this.write(
      encodeFooter({ filter, properties, index, version: FORMAT_VERSION }),
    );
    this.flush();
    try {
      await this.file.syncData();
    } catch (err) {
      throw new IOError("sync", this.path, err);
    }
    this.file.close();
    this.state = "finished";
    return {
      fileSize: this.offset,
      entries: this.entries,
      smallestKey: this.smallestKey,
      smallestSeq: this.smallestSeq,
      largestKey,
      largestSeq,
      minSeq: this.minSeq,
      maxSeq: this.maxSeq,
    };
  }

  /** Closes and deletes the partial file. Safe to call in any state. */
  abandon(): void {
    if (this.state === "abandoned" || this.state === "finished") return;
    this.state = "abandoned";
    try {
      this.file.close();
    } catch { /* already closed by a failed finish */ }
    try {
      this.fs.removeSync(this.path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private refuse(): never {
    throw new ClosedError(`SSTable writer "${this.path}" is ${this.state}`);
  }

  private compareLast(key: Uint8Array): number {
    const last = this.last;
    const ll = this.lastLen;
    const n = key.length < ll ? key.length : ll;
    for (let i = 0; i < n; i++) {
      const d = key[i]! - last[i]!;
      if (d !== 0) return d;
    }
    return key.length - ll;
  }

  private setLast(key: Uint8Array): void {
    if (key.length > this.last.length) {
      this.last = new Uint8Array(Math.max(key.length, this.last.length * 2));
    }
    if (key.length < 32) {
      const last = this.last;
      for (let i = 0; i < key.length; i++) last[i] = key[i]!;
    } else {
      this.last.set(key);
    }
    this.lastLen = key.length;
  }

  private flushDataBlock(): void {
    const raw = this.data.finish();
    this.rawBytes += raw.length + BLOCK_TRAILER_SIZE;
    let handle: BlockHandle;
    const packed = this.zbuf && this.compress(raw);
    if (packed) {
      handle = this.writeBlock(packed, BLOCK_TYPE_LZ4);
    } else {
      handle = this.writeBlock(raw);
    }
    this.data.reset();
    this.dataBlocks++;
    const hb = this.handleBuf;
    const end = encodeBlockHandle(handle, hb, 0);
    // The index key is the block's last internal key, so a seek lands in
    // exactly one block.
    this.index.add(
      this.last.subarray(0, this.lastLen),
      this.lastSeq,
      this.lastType,
      hb.subarray(0, end),
    );
  }

  /** The block's LZ4 form, when it saves at least 1/8. */
  private compress(raw: Uint8Array): Uint8Array | undefined {
    const bound = compressedBlockBound(raw.length);
    if (this.zbuf!.length < bound) this.zbuf = new Uint8Array(bound);
    return compressBlock(raw, this.zbuf!);
  }

  private writeBlock(
    contents: Uint8Array,
    type: number = BLOCK_TYPE_RAW,
  ): BlockHandle {
    const handle = { offset: this.offset, size: contents.length };
    this.write(contents);
    this.write(blockTrailer(contents, type));
    return handle;
  }

  private write(bytes: Uint8Array): void {
    if (this.outLen + bytes.length > this.out.length) this.flush();
    if (bytes.length >= this.out.length) {
      this.writeAll(bytes);
    } else {
      this.out.set(bytes, this.outLen);
      this.outLen += bytes.length;
    }
    this.offset += bytes.length;
  }

  private flush(): void {
    if (this.outLen === 0) return;
    this.writeAll(this.out.subarray(0, this.outLen));
    this.outLen = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    let done = 0;
    try {
      while (done < bytes.length) {
        done += this.file.write(bytes.subarray(done));
      }
    } catch (err) {
      this.state = "failed";
      throw new IOError("write", this.path, err);
    }
  }
}
