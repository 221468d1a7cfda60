/**
 * The SSTable read path, piece by piece, and against a floor: bloom filter
 * probes, block decode and seek, CRC32C throughput, point gets on a table
 * of 1M entries (cached and uncached) against a binary search over a sorted
 * in-memory array of the same keys, full scans, and writing a table.
 * Keys are db_bench's: 16 decimal digits, with 100-byte values.
 *
 * Each iteration does BATCH operations (or one pass over the data, where
 * the name says so): ns/op = reported time / BATCH; MB/s and entries/s
 * follow from the sizes in the names.
 *
 * Run: deno bench -A bench/sstable_bench.ts
 *
 * @module
 */

import { Block, BlockBuilder, BlockIterator } from "../lib/sstable/block.ts";
import { BlockCache } from "../lib/sstable/block_cache.ts";
import { BloomFilter, BloomFilterBuilder } from "../lib/sstable/bloom.ts";
import { compareBytes } from "../lib/util/bytes.ts";
import { crc32c } from "../lib/util/crc32c.ts";
import { MAX_SEQUENCE, TYPE_PUT } from "../lib/iterator/internal_key.ts";
import { SSTableReader } from "../lib/sstable/sstable_reader.ts";
import { SSTableWriter } from "../lib/sstable/sstable_writer.ts";

const N = 1_000_000;
const SCAN_N = 100_000;
const BATCH = 10_000;

const encoder = new TextEncoder();
const value = new Uint8Array(100).fill(0x76);
const keys = Array.from(
  { length: N },
  (_, i) => encoder.encode(String(i).padStart(16, "0")),
);
const absent = Array.from(
  { length: BATCH },
  (_, i) => encoder.encode(String(i).padStart(16, "0") + "x"),
);

/** Seeded random indexes in 0..n-1, the same every run. */
function randomIndexes(n: number, count: number): Int32Array {
  const out = new Int32Array(count);
  let s = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % n;
  }
  return out;
}
const picks = randomIndexes(N, BATCH);

const dir = await Deno.makeTempDir({ prefix: "strata_sst_bench_" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});

async function writeTable(path: string, n: number): Promise<void> {
  const w = SSTableWriter.create(path, {
    blockSize: 4096,
    bloomBitsPerKey: 10,
  });
  for (let i = 0; i < n; i++) w.add(keys[i]!, n + i, TYPE_PUT, value);
  await w.finish();
}

await writeTable(`${dir}/1.sst`, N);
await writeTable(`${dir}/2.sst`, SCAN_N);
const bigCache = new BlockCache(512 << 20);
const table = SSTableReader.open(`${dir}/1.sst`, 1, bigCache);
const uncached = SSTableReader.open(`${dir}/1.sst`, 3, new BlockCache(0));
const scanTable = SSTableReader.open(`${dir}/2.sst`, 2, bigCache);
{
  // Warm the cache: the cached-get benchmark measures no disk reads.
  const it = table.iterator();
  for (it.seekToFirst(); it.valid(); it.next()) { /* fill */ }
}

// Bloom filter over 100,000 keys at 10 bits per key.
const bloomBuilder = new BloomFilterBuilder(10);
for (let i = 0; i < 100_000; i++) bloomBuilder.add(keys[i]!);
const bloom = new BloomFilter(bloomBuilder.finish());
const bloomPicks = randomIndexes(100_000, BATCH);

Deno.bench(
  `bloom mayContain, present key (×${BATCH})`,
  { group: "bloom" },
  () => {
    for (let i = 0; i < BATCH; i++) bloom.mayContain(keys[bloomPicks[i]!]!);
  },
);

Deno.bench(
  `bloom mayContain, absent key (×${BATCH})`,
  { group: "bloom" },
  () => {
    for (let i = 0; i < BATCH; i++) bloom.mayContain(absent[i]!);
  },
);

// One 4 KiB data block as the table writes it.
const blockBuilder = new BlockBuilder();
let blockEntries = 0;
while (blockBuilder.estimatedSize < 4096) {
  blockBuilder.add(keys[blockEntries]!, 1000, TYPE_PUT, value);
  blockEntries++;
}
const blockBytes = blockBuilder.finish().slice();
const blockPicks = randomIndexes(blockEntries, BATCH);
const block = new Block(blockBytes);
const blockIter = new BlockIterator();

Deno.bench(`block decode (restart array) + seek (×${BATCH})`, {
  group: "block",
}, () => {
  for (let i = 0; i < BATCH; i++) {
    blockIter.reset(new Block(blockBytes));
    blockIter.seek(keys[blockPicks[i]!]!, MAX_SEQUENCE);
  }
});

Deno.bench(
  `block seek in a decoded block (×${BATCH})`,
  { group: "block" },
  () => {
    for (let i = 0; i < BATCH; i++) {
      blockIter.reset(block);
      blockIter.seek(keys[blockPicks[i]!]!, MAX_SEQUENCE);
    }
  },
);

Deno.bench(
  `block scan of ${blockEntries} entries with key+value (×${BATCH / 10})`,
  { group: "block" },
  () => {
    for (let i = 0; i < BATCH / 10; i++) {
      blockIter.reset(block);
      for (blockIter.seekToFirst(); blockIter.valid(); blockIter.next()) {
        blockIter.key();
        blockIter.value();
      }
    }
  },
);

const crcSmall = new Uint8Array(4096).map((_, i) => i * 31);
const crcLarge = new Uint8Array(1 << 20).map((_, i) => i * 31);

Deno.bench("crc32c 4 KiB (×256 = 1 MiB)", { group: "crc32c" }, () => {
  for (let i = 0; i < 256; i++) crc32c(crcSmall);
});

Deno.bench("crc32c 1 MiB", { group: "crc32c" }, () => {
  crc32c(crcLarge);
});

const MAX = MAX_SEQUENCE;

Deno.bench(
  `sorted array binary search, 1M keys (×${BATCH})`,
  { group: "point get, 1M entries", baseline: true },
  () => {
    for (let i = 0; i < BATCH; i++) {
      const k = keys[picks[i]!]!;
      let lo = 0, hi = N;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareBytes(keys[mid]!, k) < 0) lo = mid + 1;
        else hi = mid;
      }
    }
  },
);

Deno.bench(
  `SSTable get, present key, blocks cached (×${BATCH})`,
  { group: "point get, 1M entries" },
  () => {
    for (let i = 0; i < BATCH; i++) table.get(keys[picks[i]!]!, MAX);
  },
);

Deno.bench(
  `SSTable get, absent key (bloom) (×${BATCH})`,
  { group: "point get, 1M entries" },
  () => {
    for (let i = 0; i < BATCH; i++) table.get(absent[i]!, MAX);
  },
);

Deno.bench(
  `SSTable get, present key, no cache: pread + CRC (×${BATCH})`,
  { group: "point get, 1M entries" },
  () => {
    for (let i = 0; i < BATCH; i++) uncached.get(keys[picks[i]!]!, MAX);
  },
);

Deno.bench(
  `SSTable full scan of ${SCAN_N} entries, key+seq+value, cached`,
  { group: "scan" },
  () => {
    const it = scanTable.iterator();
    for (it.seekToFirst(); it.valid(); it.next()) {
      it.key();
      it.seq();
      it.value();
    }
  },
);

Deno.bench(
  `SSTable full scan of ${SCAN_N} entries, key+seq+value, from disk`,
  { group: "scan" },
  () => {
    const it = uncached.iterator({ fillCache: false });
    let n = 0;
    for (it.seekToFirst(); it.valid() && n < SCAN_N; it.next(), n++) {
      it.key();
      it.seq();
      it.value();
    }
  },
);

let writes = 0;
Deno.bench(`SSTable write of ${SCAN_N} entries (+ fdatasync)`, {
  group: "write",
}, async () => {
  const path = `${dir}/w${writes++}.sst`;
  await writeTable(path, SCAN_N);
  Deno.removeSync(path);
});
