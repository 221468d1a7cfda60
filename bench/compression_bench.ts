/**
 * Block compression for SSTable data blocks: our LZ4 block codec
 * (`lib/util/lz4.ts`, no dependencies) against the pure-JavaScript codecs
 * on npm that could take its place, on the same blocks in one run:
 * lz4js (LZ4 block format), snappyjs (Snappy) and fflate (raw DEFLATE at
 * levels 1 and 6).
 *
 * Inputs are 4 KiB data blocks laid out as `lib/sstable/block.ts` writes
 * them: entries of `varint shared | varint unshared | varint valueLen |
 * key delta | value`, where the key is a 16-digit zero-padded decimal user
 * key (keys a random 1…300 apart: 3 unshared digits on average) and the
 * 8-byte internal trailer (type byte, 7-byte little-endian sequence
 * number), with a whole key every 16 entries and the restart array at the
 * end; a block is cut once it reaches 4096 bytes, as the table writer does
 * (so 36 entries, 4,163…4,184 bytes).
 * Values are 100 bytes, of two kinds:
 *
 * - `db_bench`: db_bench's default values (compression ratio 0.5). Its
 *   RandomGenerator fills a 1 MiB pool with pieces from
 *   `CompressibleString(rnd, 0.5, 100)`, 50 random printable characters
 *   (`' ' + Uniform(95)`) repeated to 100 bytes, and each value is the next
 *   100-byte window of the pool.
 * - `random`: uniform random bytes, which no codec can shrink (only the
 *   keys, trailers and headers around them can).
 *
 * Each kind has 2,000 blocks (about 8 MiB) from a seeded PRNG, so every run
 * sees the same bytes. For every codec and kind: the compression ratio
 * (compressed bytes over raw bytes), and compress and decompress speed in
 * MB/s of raw bytes (10^6 bytes a second), each the median of 5 passes over
 * all blocks after one warm-up pass, timed with `performance.now()`. The
 * passes of all codecs are interleaved (round 1 of every codec, then round
 * 2, …) so a noisy moment on the machine is spread over all of them. Every
 * decompressed block of every pass is compared with its original, outside
 * the timing; a difference throws.
 *
 * Each compress call returns a fresh array of exactly the compressed size
 * (what snappyjs and fflate do inside; ours and lz4js write into a reused
 * scratch buffer that is then sliced), and each decompress call fills a
 * fresh array of the block's size, as a read that misses the block cache
 * does before it caches the block.
 *
 * Not measured: zstd. fzstd only decodes, and every zstd encoder on npm is
 * libzstd compiled to WebAssembly (zstd-codec, @oneidentity/zstd-js,
 * @bokuweb/zstd-wasm), a native addon (@mongodb-js/zstd, zstd-napi) or a
 * wrapper around the `zstd` program (simple-zstd, zstd.ts): none is a
 * pure-JavaScript encoder to pin, and without one there is nothing to
 * write the blocks that fzstd would read.
 *
 * Run: `deno run -A bench/compression_bench.ts`
 *
 * @module
 */

// Pinned inline: deno.json stays free of dependencies, which only tests and
// benchmarks have.
// deno-lint-ignore-file no-import-prefix

import * as fflate from "npm:fflate@0.8.3";
import * as lz4js from "npm:lz4js@0.2.0";
import * as snappy from "npm:snappyjs@0.7.0";
import { Prng } from "../cli/bench.ts";
import {
  lz4Compress,
  lz4CompressBound,
  lz4Decompress,
} from "../lib/util/lz4.ts";

const BLOCKS = 2000;
const BLOCK_SIZE = 4096;
const PASSES = 5;
const KEY_SIZE = 16;
const VALUE_SIZE = 100;
const RESTART_INTERVAL = 16;
const TYPE_PUT = 1;

/** One codec under test. */
interface Codec {
  name: string;
  /**
   * @returns The compressed block (a fresh array of its exact size), or
   * `undefined` when the codec declines the block (then it is stored raw).
   */
  compress(raw: Uint8Array): Uint8Array | undefined;
  /** Decompresses a block into a fresh array of `size` bytes. */
  decompress(packed: Uint8Array, size: number): Uint8Array;
}

const oursScratch = new Uint8Array(lz4CompressBound(2 * BLOCK_SIZE));
// lz4js hashes into a fixed 2^16-entry table, which must be zero at the
// start of every independent block: a stale entry can equal the current
// position, pass lz4js's range check and become a match at offset 0 (a
// corrupt block; a first run that reused the table failed verification at
// block 1). Its own frame encoder clears the table once per frame, where
// every entry is an earlier position of the same buffer. So each block
// pays for clearing 256 KiB, a cost of using lz4js on separate blocks.
const lz4jsTable = new Uint32Array(1 << 16);
const lz4jsScratch = new Uint8Array(lz4js.compressBound(2 * BLOCK_SIZE));

const codecs: Codec[] = [
  {
    name: "ours (lib/util/lz4.ts)",
    compress(raw) {
      return oursScratch.slice(0, lz4Compress(raw, oursScratch, 0));
    },
    decompress(packed, size) {
      const out = new Uint8Array(size);
      lz4Decompress(packed, out);
      return out;
    },
  },
  {
    name: "lz4js@0.2.0",
    compress(raw) {
      lz4jsTable.fill(0);
      const n = lz4js.compressBlock(
        raw,
        lz4jsScratch,
        0,
        raw.length,
        lz4jsTable,
      );
      return n === 0 ? undefined : lz4jsScratch.slice(0, n);
    },
    decompress(packed, size) {
      const out = new Uint8Array(size);
      const n = lz4js.decompressBlock(packed, out, 0, packed.length, 0);
      if (n !== size) throw new Error(`lz4js decoded ${n} bytes of ${size}`);
      return out;
    },
  },
  {
    name: "snappyjs@0.7.0",
    compress: (raw) => snappy.compress(raw),
    decompress: (packed) => snappy.uncompress(packed),
  },
  {
    name: "fflate@0.8.3 deflate-1",
    compress: (raw) => fflate.deflateSync(raw, { level: 1 }),
    decompress: (packed, size) =>
      fflate.inflateSync(packed, { out: new Uint8Array(size) }),
  },
  {
    name: "fflate@0.8.3 deflate-6",
    compress: (raw) => fflate.deflateSync(raw, { level: 6 }),
    decompress: (packed, size) =>
      fflate.inflateSync(packed, { out: new Uint8Array(size) }),
  },
];

// --- Inputs ---------------------------------------------------------------

/** db_bench's RandomGenerator at compression ratio 0.5. */
function dbBenchValues(prng: Prng): () => Uint8Array {
  const raw = Math.floor(VALUE_SIZE * 0.5);
  const pool: number[] = [];
  while (pool.length < 1 << 20) {
    const piece: number[] = [];
    for (let i = 0; i < raw; i++) piece.push(0x20 + prng.below(95));
    for (let i = 0; i < VALUE_SIZE; i++) pool.push(piece[i % raw]!);
  }
  const data = Uint8Array.from(pool);
  let pos = 0;
  return () => {
    if (pos + VALUE_SIZE > data.length) pos = 0;
    pos += VALUE_SIZE;
    return data.subarray(pos - VALUE_SIZE, pos);
  };
}

function randomValues(prng: Prng): () => Uint8Array {
  return () => {
    const v = new Uint8Array(VALUE_SIZE);
    for (let i = 0; i < VALUE_SIZE; i += 4) {
      const r = prng.next();
      v[i] = r;
      v[i + 1] = r >>> 8;
      v[i + 2] = r >>> 16;
      v[i + 3] = r >>> 24;
    }
    return v;
  };
}

function putVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/** Data blocks in the layout of lib/sstable/block.ts. */
function makeBlocks(prng: Prng, nextValue: () => Uint8Array): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  let keyNumber = 1_000_000_000 + prng.below(1_000_000);
  let seq = 1_000_000 + prng.below(1_000_000);
  while (blocks.length < BLOCKS) {
    const bytes: number[] = [];
    const restarts: number[] = [];
    let last = "";
    for (let i = 0; bytes.length + 4 * restarts.length + 4 < BLOCK_SIZE; i++) {
      const key = String(keyNumber).padStart(KEY_SIZE, "0");
      keyNumber += 1 + prng.below(300);
      let shared = 0;
      if (i % RESTART_INTERVAL === 0) restarts.push(bytes.length);
      else while (key[shared] === last[shared]) shared++;
      last = key;
      const value = nextValue();
      putVarint(bytes, shared);
      putVarint(bytes, KEY_SIZE - shared + 8);
      putVarint(bytes, value.length);
      for (let k = shared; k < KEY_SIZE; k++) bytes.push(key.charCodeAt(k));
      bytes.push(TYPE_PUT);
      for (let k = 0, s = seq++; k < 7; k++) {
        bytes.push(s % 256);
        s = Math.floor(s / 256);
      }
      for (const b of value) bytes.push(b);
    }
    for (const r of [...restarts, restarts.length]) {
      bytes.push(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24);
    }
    blocks.push(Uint8Array.from(bytes));
  }
  return blocks;
}

// --- Measurement ----------------------------------------------------------

/** A block as stored: compressed, or raw where the codec declined it. */
interface Stored {
  bytes: Uint8Array;
  raw: boolean;
}

interface Cell {
  codec: Codec;
  kind: string;
  blocks: Uint8Array[];
  rawBytes: number;
  stored: Stored[];
  compressMs: number[];
  decompressMs: number[];
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compressPass(cell: Cell): number {
  const { codec, blocks, stored } = cell;
  const t0 = performance.now();
  for (let i = 0; i < blocks.length; i++) {
    const raw = blocks[i]!;
    const packed = codec.compress(raw);
    stored[i] = packed === undefined
      ? { bytes: raw, raw: true }
      : { bytes: packed, raw: false };
  }
  return performance.now() - t0;
}

function decompressPass(cell: Cell): number {
  const { codec, blocks, stored } = cell;
  const outs = new Array<Uint8Array>(blocks.length);
  const t0 = performance.now();
  for (let i = 0; i < blocks.length; i++) {
    const s = stored[i]!;
    outs[i] = s.raw
      ? s.bytes.slice()
      : codec.decompress(s.bytes, blocks[i]!.length);
  }
  const ms = performance.now() - t0;
  for (let i = 0; i < blocks.length; i++) {
    if (!equal(outs[i]!, blocks[i]!)) {
      throw new Error(
        `${codec.name} (${cell.kind}): block ${i} does not round-trip`,
      );
    }
  }
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const kinds: [string, Uint8Array[]][] = [
  ["db_bench", makeBlocks(new Prng(301), dbBenchValues(new Prng(302)))],
  ["random", makeBlocks(new Prng(303), randomValues(new Prng(304)))],
];

const cells: Cell[] = [];
for (const [kind, blocks] of kinds) {
  const rawBytes = blocks.reduce((n, b) => n + b.length, 0);
  for (const codec of codecs) {
    cells.push({
      codec,
      kind,
      blocks,
      rawBytes,
      stored: new Array<Stored>(blocks.length),
      compressMs: [],
      decompressMs: [],
    });
  }
}

// Warm-up (and the first check of every block), then interleaved rounds.
for (const cell of cells) {
  compressPass(cell);
  decompressPass(cell);
}
for (let pass = 0; pass < PASSES; pass++) {
  for (const cell of cells) {
    cell.compressMs.push(compressPass(cell));
    cell.decompressMs.push(decompressPass(cell));
  }
}

// --- Report ---------------------------------------------------------------

const cpu = (() => {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return /model name\s*:\s*(.*)/.exec(info)?.[1] ?? Deno.build.arch;
  } catch {
    return Deno.build.arch;
  }
})();
const sizes = kinds.map(([kind, blocks]) => {
  const bytes = blocks.reduce((n, b) => n + b.length, 0);
  return `${kind}: ${blocks.length} blocks, ${bytes} bytes ` +
    `(mean ${(bytes / blocks.length).toFixed(0)})`;
});

console.log(
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${cpu}; ` +
    `median of ${PASSES} passes after a warm-up; MB = 10^6 bytes of raw data.`,
);
console.log(sizes.join("; "));
console.log();
console.log(
  "| codec | values | ratio | compress MB/s | decompress MB/s | notes |",
);
console.log("| --- | --- | ---: | ---: | ---: | --- |");
for (const cell of cells) {
  const storedBytes = cell.stored.reduce((n, s) => n + s.bytes.length, 0);
  const declined = cell.stored.filter((s) => s.raw).length;
  const mbps = (ms: number[]) =>
    (cell.rawBytes / 1e6 / (median(ms) / 1000)).toFixed(0);
  const notes = declined === 0
    ? ""
    : `declined ${declined} of ${cell.blocks.length} blocks (stored raw, ` +
      `counted at ratio 1, decoded as a copy)`;
  console.log(
    `| ${cell.codec.name} | ${cell.kind} | ` +
      `${(storedBytes / cell.rawBytes).toFixed(3)} | ` +
      `${mbps(cell.compressMs)} | ${mbps(cell.decompressMs)} | ${notes} |`,
  );
}
