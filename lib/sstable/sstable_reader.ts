/**
 * Reads an SSTable (format: lib/sstable_format.ts). Opening reads the
 * footer, the index, the properties and the bloom filter once; data blocks
 * are read on demand with one `pread` each and kept in the shared
 * {@link BlockCache}. Every block's CRC32C is checked when it is read, so a
 * damaged block throws {@link CorruptionError} and never yields wrong bytes.
 *
 * Values returned by `get` and by iterators are views of block memory that
 * may be shared through the cache: callers must not mutate them and copy
 * them before handing them to users. Block memory is the cache's, and it
 * recycles a block's frame once the block is evicted and no iterator
 * stands on it: a table iterator pins the block it is on until it moves
 * off it or is closed, and a view from `get` is good until the next read
 * of the cache (copy it at once). Keys from iterators are views of the
 * block or copies, valid at least as long as the block.
 *
 * @module
 */

import { diskFs } from "../fs/disk_fs.ts";
import type { Fs, ReadableFile } from "../fs/fs.ts";
import { Block, BlockIterator, compareRange, EMPTY_BLOCK } from "./block.ts";
import type { BlockCache } from "./block_cache.ts";
import { BloomFilter } from "./bloom.ts";
import { ClosedError, CorruptionError, IOError } from "../util/errors.ts";
import {
  compareInternal,
  type EntryType,
  type InternalIterator,
  TYPE_DELETE,
} from "../iterator/internal_key.ts";
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_LZ4,
  type BlockHandle,
  checkBlock,
  COMPRESSED_FORMAT_VERSION,
  compressedBlockRawSize,
  decodeBlockHandle,
  decodeFooter,
  decodeProperties,
  decompressBlock,
  type Footer,
  FOOTER_SIZE,
  type TableProperties,
} from "./sstable_format.ts";
import { commonPrefixLength, compareBytes } from "../util/bytes.ts";

// Approximate bytes of the JS objects around a cached block's frame (the
// Block, the frame's view, the cache's list node), charged to the cache.
const BLOCK_OVERHEAD = 160;

/** Options of {@link SSTableReader.iterator}. */
export interface TableIteratorOptions {
  /**
   * Insert the blocks the iterator reads into the block cache (default
   * true). Compactions pass false so one pass over cold data does not
   * flush the hot blocks out.
   */
  fillCache?: boolean;
}

/** One data block as reported by {@link SSTableReader.describe}. */
export interface DataBlockDescription {
  /** Where the block lives. */
  handle: BlockHandle;
  /** Number of entries in the block. */
  entries: number;
  /** Number of restart points. */
  restarts: number;
  /** First user key. */
  firstKey: Uint8Array;
  /** Sequence number of the first entry. */
  firstSeq: number;
  /** Last user key (also the index key). */
  lastKey: Uint8Array;
  /** Sequence number of the last entry. */
  lastSeq: number;
}

/** The structure of a table, for debug tools such as `strata dump`. */
export interface TableDescription {
  /** Path of the file. */
  path: string;
  /** File number. */
  fileNumber: number;
  /** Size of the file in bytes. */
  fileSize: number;
  /** The decoded footer (handles and format version). */
  footer: Footer;
  /** The properties block. */
  properties: TableProperties;
  /** The bloom filter: size in bytes, bits and probes per key. */
  filter: { bytes: number; bits: number; k: number };
  /** Every data block in file order. */
  blocks: DataBlockDescription[];
}

/** A point-lookup result; `value` aliases block memory (do not mutate). */
export interface TableGetResult {
  /** `TYPE_PUT` or `TYPE_DELETE`. */
  type: EntryType;
  /** The value (empty for a tombstone). */
  value: Uint8Array;
  /** The version's sequence number. */
  seq: number;
}

/**
 * An open table file.
 *
 * @example Point lookups at different snapshots
 * ```ts
 * import assert from "node:assert/strict";
 * import { SSTableReader } from "./sstable_reader.ts";
 * import { SSTableWriter } from "./sstable_writer.ts";
 * import { BlockCache } from "./block_cache.ts";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/000002.sst`;
 * const k = new TextEncoder().encode("k");
 * const w = SSTableWriter.create(path, { blockSize: 4096, bloomBitsPerKey: 10 });
 * w.add(k, 20, 2, new Uint8Array(0)); // deleted at 20
 * w.add(k, 10, 1, new Uint8Array([1])); // written at 10
 * await w.finish();
 * const r = SSTableReader.open(path, 2, new BlockCache(1 << 20));
 * assert(r.get(k, 25)?.type === 2);
 * assert(r.get(k, 15)?.value[0] === 1);
 * assert(r.get(k, 5) === undefined);
 * r.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SSTableReader {
  /** Path of the table file. */
  readonly path: string;
  /** The table's file number (the block cache key). */
  readonly fileNumber: number;
  /** Size of the file in bytes. */
  readonly fileSize: number;
  /** The decoded footer. */
  readonly footer: Footer;
  /** The decoded properties block. */
  readonly properties: TableProperties;
  private readonly file: ReadableFile;
  private readonly cache: BlockCache;
  private readonly filter: BloomFilter;
  // The index, flattened: the last user key of block i is
  // idxKeys[idxKeyOff[i], idxKeyOff[i + 1]), so the binary search compares
  // in place instead of chasing one object per key.
  private readonly idxKeys: Uint8Array;
  private readonly idxKeyOff: Uint32Array;
  private readonly idxSeqs: Float64Array;
  private readonly idxOffsets: Float64Array;
  private readonly idxSizes: Float64Array;
  private readonly getIter = new BlockIterator();
  /**
   * The block the last `get` read and the cache did not keep (no capacity,
   * or larger than it): its caller has copied what it needed by the next
   * `get`, which recycles it.
   */
  private spent: Block | undefined = undefined;
  // Bytes every key of the table begins with (the common prefix of its
  // smallest and largest keys): searches start comparing after them.
  private readonly prefixLen: number;
  private closed = false;
  /** Whether data blocks may be LZ4 (format version 2 and later). */
  private readonly compressed: boolean;

  private constructor(
    file: ReadableFile,
    path: string,
    fileNumber: number,
    cache: BlockCache,
  ) {
    this.file = file;
    this.path = path;
    this.fileNumber = fileNumber;
    this.cache = cache;
    const size = file.size;
    this.fileSize = size;
    if (size < FOOTER_SIZE) {
      throw new CorruptionError(
        path,
        0,
        `file of ${size} bytes is too short to be a table: the footer alone takes ${FOOTER_SIZE}`,
      );
    }
    const footerAt = size - FOOTER_SIZE;
    const footerBytes = this.readAt(footerAt, FOOTER_SIZE);
    if (footerBytes.length !== FOOTER_SIZE) {
      throw new CorruptionError(path, footerAt, "footer is truncated");
    }
    this.footer = decodeFooter(footerBytes, path, footerAt);
    this.compressed = this.footer.version >= COMPRESSED_FORMAT_VERSION;
    this.filter = new BloomFilter(this.readBlock(this.footer.filter, "filter"));
    this.properties = decodeProperties(
      this.readBlock(this.footer.properties, "properties"),
      path,
      this.footer.properties.offset,
    );
    const index = new Block(
      this.readBlock(this.footer.index, "index"),
      path,
      this.footer.index.offset,
    );
    const keys: Uint8Array[] = [];
    const seqs: number[] = [];
    const offsets: number[] = [];
    const sizes: number[] = [];
    const it = index.iterator();
    const cursor = { pos: 0 };
    let expected = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      const at = index.offset + it.entryOffset;
      const key = it.key();
      const seq = it.seq();
      it.type();
      const n = keys.length;
      if (n > 0 && compareInternal(keys[n - 1]!, seqs[n - 1]!, key, seq) >= 0) {
        throw new CorruptionError(path, at, "index keys are not increasing");
      }
      const v = it.value();
      const h = decodeBlockHandle(v, 0, v.length, cursor);
      if (h === undefined || cursor.pos !== v.length) {
        throw new CorruptionError(path, at, "undecodable data block handle");
      }
      if (h.offset !== expected) {
        throw new CorruptionError(
          path,
          at,
          `data block handle points at ${h.offset}: expected ${expected}`,
        );
      }
      expected = h.offset + h.size + BLOCK_TRAILER_SIZE;
      keys.push(key);
      seqs.push(seq);
      offsets.push(h.offset);
      sizes.push(h.size);
    }
    if (expected !== this.footer.filter.offset) {
      throw new CorruptionError(
        path,
        this.footer.index.offset,
        `data blocks end at ${expected} but the filter block starts at ${this.footer.filter.offset}`,
      );
    }
    if (keys.length !== this.properties.dataBlocks) {
      throw new CorruptionError(
        path,
        this.footer.index.offset,
        `index lists ${keys.length} data blocks, properties say ${this.properties.dataBlocks}`,
      );
    }
    const keyOff = new Uint32Array(keys.length + 1);
    for (let i = 0; i < keys.length; i++) {
      keyOff[i + 1] = keyOff[i]! + keys[i]!.length;
    }
    const flat = new Uint8Array(keyOff[keys.length]!);
    for (let i = 0; i < keys.length; i++) flat.set(keys[i]!, keyOff[i]!);
    this.idxKeys = flat;
    this.idxKeyOff = keyOff;
    this.idxSeqs = Float64Array.from(seqs);
    this.idxOffsets = Float64Array.from(offsets);
    this.idxSizes = Float64Array.from(sizes);
    this.prefixLen = keys.length === 0 ? 0 : commonPrefixLength(
      this.properties.smallestKey,
      keys[keys.length - 1]!,
    );
  }

  /**
   * Opens a table and reads its footer, index, properties and filter,
   * checking their checksums.
   *
   * @param path Path of the table file.
   * @param fileNumber The table's file number, its key in the block cache.
   * @param cache The block cache shared by all readers.
   * @param fs The filesystem (the real one by default).
   * @returns The open reader.
   * @throws {CorruptionError} When the file is empty, truncated, not a
   * Strata table or damaged, naming the file and offset.
   */
  static open(
    path: string,
    fileNumber: number,
    cache: BlockCache,
    fs: Fs = diskFs,
  ): SSTableReader {
    const file = fs.openReadable(path);
    try {
      return new SSTableReader(file, path, fileNumber, cache);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /** Number of entries (puts and tombstones). */
  get entries(): number {
    return this.properties.entries;
  }

  /** Number of data blocks. */
  get blockCount(): number {
    return this.idxSeqs.length;
  }

  /** First user key (empty for an empty table). */
  get smallestKey(): Uint8Array {
    return this.properties.smallestKey;
  }

  /** Sequence number of the first entry. */
  get smallestSeq(): number {
    return this.properties.smallestSeq;
  }

  /** Last user key (empty for an empty table). */
  get largestKey(): Uint8Array {
    return this.properties.largestKey;
  }

  /** Sequence number of the last entry. */
  get largestSeq(): number {
    return this.properties.largestSeq;
  }

  /**
   * Asks the bloom filter whether the table may hold `key`.
   *
   * @param key User key.
   * @returns `false` when the table certainly holds no version of `key`.
   */
  mayContain(key: Uint8Array): boolean {
    return this.filter.mayContain(key);
  }

  /**
   * Finds the newest version of exactly `key` with a sequence number at or
   * below `seq`. Consults the bloom filter, then reads at most one data
   * block (from the cache when it is there).
   *
   * @param key User key.
   * @param seq Snapshot sequence number.
   * @returns The type and value (a view of block memory), or `undefined`.
   * @throws {CorruptionError} When the data block is damaged.
   * @throws {ClosedError} After {@link SSTableReader.close}.
   */
  get(key: Uint8Array, seq: number): TableGetResult | undefined {
    if (this.closed) this.refuse();
    if (this.outsidePrefix(key) !== 0) return undefined;
    if (!this.filter.mayContain(key)) return undefined;
    const i = this.searchIndex(key, seq, this.prefixLen);
    if (i >= this.idxSeqs.length) return undefined;
    if (this.spent !== undefined) {
      this.cache.discard(this.spent);
      this.spent = undefined;
    }
    const block = this.dataBlock(i, true);
    if (!block.cached) this.spent = block;
    const it = this.getIter;
    it.reset(block);
    it.seek(key, seq, this.prefixLen);
    if (!it.valid() || !it.userKeyEquals(key)) return undefined;
    return { type: it.type(), value: it.value(), seq: it.seq() };
  }

  /**
   * Creates a two-level iterator over the whole table.
   *
   * @param options Whether to fill the block cache.
   * @returns An unpositioned iterator.
   */
  iterator(options: TableIteratorOptions = {}): InternalIterator {
    return new TableIterator(this, options.fillCache ?? true);
  }

  /**
   * Index of the first data block whose last key is at or after
   * `(key, seq)`: the only block that can hold the first entry at or after
   * it. Equals {@link SSTableReader.blockCount} when there is none.
   *
   * @param key User key.
   * @param seq Sequence number.
   * @returns A block index.
   */
  findBlock(key: Uint8Array, seq: number): number {
    const outside = this.outsidePrefix(key);
    if (outside !== 0) return outside < 0 ? 0 : this.idxSeqs.length;
    return this.searchIndex(key, seq, this.prefixLen);
  }

  /**
   * Where `key` stands against the table's common prefix: 0 when it starts
   * with it, negative when it sorts before every key of the table,
   * positive when after.
   */
  private outsidePrefix(key: Uint8Array): number {
    const n = this.prefixLen;
    const keys = this.idxKeys; // index key 0 starts with the prefix too
    for (let i = 0; i < n; i++) {
      if (i === key.length) return -1;
      const d = key[i]! - keys[i]!;
      if (d !== 0) return d;
    }
    return 0;
  }

  /**
   * {@link SSTableReader.findBlock} for a key known to start with the
   * table's first `skip` bytes: comparisons begin after them.
   */
  private searchIndex(key: Uint8Array, seq: number, skip: number): number {
    const keys = this.idxKeys;
    const off = this.idxKeyOff;
    const seqs = this.idxSeqs;
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const start = off[mid]! + skip;
      const c = compareRange(keys, start, off[mid + 1]! - start, key, skip);
      if (c < 0 || (c === 0 && seqs[mid]! > seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Returns data block `i`, from the cache or from disk.
   *
   * @param i Block index, 0 … blockCount - 1.
   * @param fillCache Whether to cache a block read from disk.
   * @returns The decoded block.
   * @throws {CorruptionError} When the block fails its checksum.
   */
  dataBlock(i: number, fillCache: boolean): Block {
    if (this.closed) this.refuse();
    const cached = this.cache.get(this.fileNumber, this.idxOffsets[i]!);
    return cached ?? this.readDataBlock(i, fillCache);
  }

  /**
   * The miss path of {@link SSTableReader.dataBlock}, kept apart so that
   * the hit path stays small: reads into a block of the cache's pool.
   */
  private readDataBlock(i: number, fillCache: boolean): Block {
    const offset = this.idxOffsets[i]!;
    const size = this.idxSizes[i]!;
    const total = size + BLOCK_TRAILER_SIZE;
    let block = this.cache.allocate(total);
    try {
      this.checkExtent(offset, size, "data");
      const got = this.readInto(block.data, offset, total);
      this.checkRead(offset, got, total, "data");
      const stored = checkBlock(
        block.data,
        this.path,
        offset,
        total,
        this.compressed,
      );
      if (block.data[size] === BLOCK_TYPE_LZ4) {
        // Decoded into a frame of its own; the stored frame goes back.
        const raw = compressedBlockRawSize(stored, this.path, offset).size;
        const packed = block;
        block = this.cache.allocate(raw);
        try {
          decompressBlock(stored, this.path, offset, block.data);
        } finally {
          this.cache.discard(packed);
        }
        block.load(raw, this.path, offset);
      } else {
        block.load(size, this.path, offset);
      }
    } catch (err) {
      this.cache.discard(block);
      throw err;
    }
    if (fillCache) {
      this.cache.insert(
        this.fileNumber,
        offset,
        block,
        block.data.length + BLOCK_OVERHEAD,
      );
    }
    return block;
  }

  /**
   * {@link SSTableReader.dataBlock}, pinned: its memory stays put until
   * {@link SSTableReader.releaseBlock}, even if the cache evicts it.
   *
   * @param i Block index, 0 … blockCount - 1.
   * @param fillCache Whether to cache a block read from disk.
   * @returns The pinned block.
   */
  acquireBlock(i: number, fillCache: boolean): Block {
    const block = this.dataBlock(i, fillCache);
    this.cache.pin(block);
    return block;
  }

  /**
   * Unpins a block from {@link SSTableReader.acquireBlock}; its bytes must
   * not be read afterwards.
   *
   * @param block The block.
   */
  releaseBlock(block: Block): void {
    this.cache.release(block);
  }

  /**
   * Reads every block and checks every checksum, that keys are strictly
   * increasing in internal order, that each index key is its block's last
   * key, that the filter holds every key and that the properties match.
   *
   * @throws {CorruptionError} At the first problem, with file and offset.
   */
  verify(): void {
    if (this.closed) this.refuse();
    const it = new BlockIterator();
    let prevKey: Uint8Array | undefined;
    let prevSeq = 0;
    let entries = 0;
    let deletions = 0;
    let rawKeyBytes = 0;
    let rawValueBytes = 0;
    let first: Uint8Array | undefined;
    let firstSeq = 0;
    for (let i = 0; i < this.idxSeqs.length; i++) {
      const block = this.loadDataBlock(i);
      it.reset(block);
      it.seekToFirst();
      if (!it.valid()) block.corrupt(0, "empty data block");
      for (; it.valid(); it.next()) {
        const at = block.offset + it.entryOffset;
        const key = it.key();
        const seq = it.seq();
        if (it.type() === TYPE_DELETE) deletions++;
        if (prevKey === undefined) {
          first = key;
          firstSeq = seq;
        } else {
          const c = compareInternal(prevKey, prevSeq, key, seq);
          if (c >= 0) {
            throw new CorruptionError(
              this.path,
              at,
              "keys are not strictly increasing in internal order",
            );
          }
        }
        if (
          (prevKey === undefined || compareBytes(prevKey, key) !== 0) &&
          !this.filter.mayContain(key)
        ) {
          throw new CorruptionError(
            this.path,
            this.footer.filter.offset,
            "bloom filter misses a key the table holds",
          );
        }
        prevKey = key;
        prevSeq = seq;
        entries++;
        rawKeyBytes += key.length;
        rawValueBytes += it.valueLength();
      }
      if (
        prevKey === undefined ||
        compareInternal(
            prevKey,
            prevSeq,
            this.indexKey(i),
            this.idxSeqs[i]!,
          ) !== 0
      ) {
        throw new CorruptionError(
          this.path,
          this.footer.index.offset,
          `index key of data block ${i} (offset ${block.offset}) is not its last key`,
        );
      }
    }
    const p = this.properties;
    const mismatch = (what: string, stored: number, actual: number): void => {
      if (stored !== actual) {
        throw new CorruptionError(
          this.path,
          this.footer.properties.offset,
          `properties say ${stored} ${what}, the table holds ${actual}`,
        );
      }
    };
    mismatch("entries", p.entries, entries);
    mismatch("deletions", p.deletions, deletions);
    mismatch("raw key bytes", p.rawKeyBytes, rawKeyBytes);
    mismatch("raw value bytes", p.rawValueBytes, rawValueBytes);
    const empty = new Uint8Array(0);
    if (
      compareInternal(
          p.smallestKey,
          p.smallestSeq,
          first ?? empty,
          firstSeq,
        ) !== 0 ||
      compareInternal(p.largestKey, p.largestSeq, prevKey ?? empty, prevSeq) !==
        0
    ) {
      throw new CorruptionError(
        this.path,
        this.footer.properties.offset,
        "smallest or largest key in the properties does not match the data",
      );
    }
  }

  /**
   * Describes the table's structure (reads every data block, bypassing the
   * cache). Meant for debug tools.
   *
   * @returns Footer, properties, filter shape and per-block key ranges.
   * @throws {CorruptionError} When a block is damaged.
   */
  describe(): TableDescription {
    if (this.closed) this.refuse();
    const it = new BlockIterator();
    const blocks: DataBlockDescription[] = [];
    for (let i = 0; i < this.idxSeqs.length; i++) {
      const block = this.loadDataBlock(i);
      it.reset(block);
      let entries = 0;
      let firstKey = new Uint8Array(0);
      let firstSeq = 0;
      for (it.seekToFirst(); it.valid(); it.next()) {
        if (entries === 0) {
          firstKey = it.key().slice();
          firstSeq = it.seq();
        }
        entries++;
      }
      blocks.push({
        handle: { offset: this.idxOffsets[i]!, size: this.idxSizes[i]! },
        entries,
        restarts: block.numRestarts,
        firstKey,
        firstSeq,
        lastKey: this.indexKey(i).slice(),
        lastSeq: this.idxSeqs[i]!,
      });
    }
    return {
      path: this.path,
      fileNumber: this.fileNumber,
      fileSize: this.fileSize,
      footer: this.footer,
      properties: this.properties,
      filter: {
        bytes: this.filter.byteLength,
        bits: this.filter.bits,
        k: this.filter.k,
      },
      blocks,
    };
  }

  /** Closes the file and drops its blocks from the cache. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.getIter.reset(EMPTY_BLOCK);
    if (this.spent !== undefined) this.cache.discard(this.spent);
    this.spent = undefined;
    this.file.close();
    this.cache.evictFile(this.fileNumber);
  }

  /** Same as {@link SSTableReader.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  private indexKey(i: number): Uint8Array {
    return this.idxKeys.subarray(this.idxKeyOff[i]!, this.idxKeyOff[i + 1]!);
  }

  private refuse(): never {
    throw new ClosedError(`SSTable "${this.path}" is closed`);
  }

  /** Block `i` in memory of its own, outside the cache (verify, describe). */
  private loadDataBlock(i: number): Block {
    const handle = { offset: this.idxOffsets[i]!, size: this.idxSizes[i]! };
    return new Block(this.readBlock(handle, "data"), this.path, handle.offset);
  }

  /** Reads and checks a block into a buffer of its own. */
  private readBlock(handle: BlockHandle, what: string): Uint8Array {
    const total = handle.size + BLOCK_TRAILER_SIZE;
    this.checkExtent(handle.offset, handle.size, what);
    const bytes = new Uint8Array(total);
    this.checkRead(
      handle.offset,
      this.readInto(bytes, handle.offset, total),
      total,
      what,
    );
    const data = what === "data";
    const stored = checkBlock(
      bytes,
      this.path,
      handle.offset,
      total,
      data && this.compressed,
    );
    return bytes[handle.size] === BLOCK_TYPE_LZ4
      ? decompressBlock(stored, this.path, handle.offset)
      : stored;
  }

  private checkExtent(offset: number, size: number, what: string): void {
    const end = this.fileSize - FOOTER_SIZE;
    if (offset + size + BLOCK_TRAILER_SIZE > end) {
      throw new CorruptionError(
        this.path,
        offset,
        `${what} block of ${size} bytes overruns the table data, which ends at ${end}`,
      );
    }
  }

  private checkRead(
    offset: number,
    got: number,
    total: number,
    what: string,
  ): void {
    if (got !== total) {
      throw new CorruptionError(
        this.path,
        offset,
        `${what} block is truncated: read ${got} of ${total} bytes`,
      );
    }
  }

  /** Reads up to `length` bytes at `position` into `buf`; returns how many. */
  private readInto(buf: Uint8Array, position: number, length: number): number {
    let done = 0;
    try {
      while (done < length) {
        const n = this.file.readAt(buf, done, length - done, position + done);
        if (n <= 0) break;
        done += n;
      }
    } catch (err) {
      throw new IOError("read", this.path, err);
    }
    return done;
  }

  private readAt(position: number, length: number): Uint8Array {
    const buf = new Uint8Array(length);
    const got = this.readInto(buf, position, length);
    return got === length ? buf : buf.subarray(0, got);
  }
}

/**
 * Two-level iterator: a position in the index (the block number) and a
 * block iterator inside that block.
 */
class TableIterator implements InternalIterator {
  private readonly it = new BlockIterator();
  private bi = -1;
  /** The block `it` stands on, pinned; none when unpositioned. */
  private held: Block | undefined = undefined;
  private readonly reader: SSTableReader;
  private readonly fill: boolean;

  constructor(reader: SSTableReader, fill: boolean) {
    this.reader = reader;
    this.fill = fill;
  }

  valid(): boolean {
    return this.it.valid();
  }

  seekToFirst(): void {
    if (this.load(0)) this.it.seekToFirst();
    this.skipForward();
  }

  seekToLast(): void {
    if (this.load(this.reader.blockCount - 1)) this.it.seekToLast();
    this.skipBackward();
  }

  seek(key: Uint8Array, seq: number): void {
    if (this.load(this.reader.findBlock(key, seq))) this.it.seek(key, seq);
    this.skipForward();
  }

  seekForPrev(key: Uint8Array, seq: number): void {
    const i = this.reader.findBlock(key, seq);
    if (i >= this.reader.blockCount) {
      this.seekToLast();
      return;
    }
    this.load(i);
    this.it.seekForPrev(key, seq);
    this.skipBackward();
  }

  next(): void {
    this.it.next();
    this.skipForward();
  }

  prev(): void {
    this.it.prev();
    this.skipBackward();
  }

  key(): Uint8Array {
    return this.it.key();
  }

  seq(): number {
    return this.it.seq();
  }

  type(): EntryType {
    return this.it.type();
  }

  value(): Uint8Array {
    return this.it.value();
  }

  close(): void {
    this.unload();
    this.bi = -1;
  }

  private load(i: number): boolean {
    const n = this.reader.blockCount;
    if (i < 0 || i >= n) {
      this.unload();
      this.bi = i < 0 ? -1 : n;
      return false;
    }
    if (i !== this.bi || this.held === undefined) {
      // Step off the old block first: if it was evicted, its frame is free
      // for the read below.
      this.unload();
      this.held = this.reader.acquireBlock(i, this.fill);
      this.it.reset(this.held);
      this.bi = i;
    }
    return true;
  }

  private unload(): void {
    this.it.reset(EMPTY_BLOCK);
    if (this.held !== undefined) {
      this.reader.releaseBlock(this.held);
      this.held = undefined;
    }
  }

  private skipForward(): void {
    while (!this.it.valid()) {
      if (!this.load(this.bi + 1)) return;
      this.it.seekToFirst();
    }
  }

  private skipBackward(): void {
    while (!this.it.valid()) {
      if (!this.load(this.bi - 1)) return;
      this.it.seekToLast();
    }
  }
}
