/**
 * The public read path, `DB.get` and `DB.scan`, each beside a floor in the
 * same run: a `Map` on string keys for point reads (unordered and in
 * memory, so a floor, not a rival) and a walk over a sorted in-memory array
 * for scans.
 *
 * Data: 100,000 entries of 16-byte keys (16 decimal digits drawn from a
 * seeded PRNG, the last one even) and 100-byte values, written in random
 * order, then flushed, with background compaction waited for, so reads come
 * from SSTables (level 1); the block cache (32 MiB by default) holds all
 * ~12 MB of blocks and is warmed before timing.
 * A second database holds the first 10,000 of those entries and is never
 * flushed, so its reads come from the memtable. Absent keys are present
 * ones plus one: odd, so each sorts right after a stored key and before the
 * next, and only the bloom filter stops the table read.
 *
 * Each point-read iteration does BATCH operations (ns/op = reported time /
 * BATCH); each scan iteration reads SCAN_N entries from a random start.
 * Probes are precomputed and walked with a counter, so the timed loops draw
 * no random numbers.
 *
 * Run: deno bench -A bench/db_bench.ts
 *
 * @module
 */

import { DB } from "../mod.ts";
import { Prng } from "../cli/bench.ts";

const N = 100_000;
const MEM_N = 10_000;
const SCAN_N = 10_000;
const BATCH = 1_000;
/** Precomputed probes per kind; the counters wrap around them. */
const PROBES = 100_000;
/** Precomputed scan start positions. */
const STARTS = 1_024;

/** Seeded uniform numbers in [0, 1): the same sequence every run. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next() / 0x1_0000_0000;
}

const random = rng(0x5eed);
const encoder = new TextEncoder();
const value = new Uint8Array(100).map((_, i) => (i * 37) & 0xff);

// Distinct random keys: 8 digits, then 8 digits of an even number, so
// `key + 1` is never stored and sorts between two stored keys.
const loOf = new Map<string, number>();
while (loOf.size < N) {
  const hi = Math.floor(random() * 1e8);
  const lo = Math.floor(random() * 5e7) * 2;
  const text = String(hi).padStart(8, "0") + String(lo).padStart(8, "0");
  loOf.set(text, lo);
}
/** Key texts in insertion (random) order. */
const keyTexts = [...loOf.keys()];
const absentTexts = keyTexts.map((t) =>
  t.slice(0, 8) + String(loOf.get(t)! + 1).padStart(8, "0")
);
const keyBytes = keyTexts.map((t) => encoder.encode(t));
const absentBytes = absentTexts.map((t) => encoder.encode(t));

function indexes(n: number, count: number): Int32Array {
  return Int32Array.from({ length: count }, () => Math.floor(random() * n));
}
const hitPicks = indexes(N, PROBES);
const memPicks = indexes(MEM_N, PROBES);
const missPicks = indexes(N, PROBES);

// Baselines.
const map = new Map<string, Uint8Array>();
for (let i = 0; i < N; i++) map.set(keyTexts[i]!, value);
const hitStrings = Array.from(hitPicks, (i) => keyTexts[i]!);
const missStrings = Array.from(missPicks, (i) => absentTexts[i]!);
const sortedOrder = Array.from({ length: N }, (_, i) => i).sort((a, b) =>
  keyTexts[a]! < keyTexts[b]! ? -1 : 1
);
const sorted = sortedOrder.map((i) => ({ key: keyBytes[i]!, value }));
const scanStarts = indexes(N - SCAN_N + 1, STARTS);
const scanStartKeys = Array.from(scanStarts, (i) => sorted[i]!.key);

// Probes for the databases: keys as bytes, as most callers hold them, so
// the figures leave out UTF-8 encoding.
const hitKeys = Array.from(hitPicks, (i) => keyBytes[i]!);
const memKeys = Array.from(memPicks, (i) => keyBytes[i]!);
const missKeys = Array.from(missPicks, (i) => absentBytes[i]!);

const dir = await Deno.makeTempDir({ prefix: "strata_db_bench_" });

async function load(path: string, n: number): Promise<DB> {
  const db = await DB.open(path);
  for (let i = 0; i < n; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      batch.put(keyBytes[j]!, value);
    }
    await db.write(batch);
  }
  return db;
}

const tableDb = await load(`${dir}/tables`, N);
await tableDb.flush();
await tableDb.waitForBackgroundWork();
const memDb = await load(`${dir}/memtable`, MEM_N);

globalThis.addEventListener("unload", () => {
  // unload cannot await: start the closes; the process exit releases the
  // descriptors and the locks in any case.
  tableDb.close().catch(() => {});
  memDb.close().catch(() => {});
  Deno.removeSync(dir, { recursive: true });
  if (sink === -1) console.log(sink); // keeps the timed work observable
});

{
  // Check the setup, and warm the block cache: a full scan reads every
  // block, so the timed reads do no disk I/O.
  let seen = 0;
  for await (const _ of tableDb.scan()) seen++;
  const stats = tableDb.stats();
  if (seen !== N || stats.memtableBytes !== 0) {
    throw new Error(
      `Bad setup: ${seen} entries, memtable ${stats.memtableBytes} bytes`,
    );
  }
  if (memDb.stats().levels.some((l) => l.files > 0)) {
    throw new Error("Bad setup: the memtable database has tables");
  }
  if (
    (await tableDb.get(missKeys[0]!)) !== undefined ||
    (await tableDb.get(hitKeys[0]!)) === undefined
  ) {
    throw new Error("Bad setup: probes do not hit and miss as expected");
  }
}

let sink = 0;
let hitAt = 0;
let memAt = 0;
let missAt = 0;
let mapHitAt = 0;
let mapMissAt = 0;
let scanAt = 0;
let arrayScanAt = 0;

Deno.bench(
  `Map.get, present string key (×${BATCH})`,
  { group: "get hit", baseline: true },
  () => {
    let at = mapHitAt;
    for (let i = 0; i < BATCH; i++) {
      sink += map.get(hitStrings[at]!)!.length;
      if (++at === PROBES) at = 0;
    }
    mapHitAt = at;
  },
);

Deno.bench(
  `await db.get, present key, SSTables, ${N} entries (×${BATCH})`,
  { group: "get hit" },
  async () => {
    let at = hitAt;
    for (let i = 0; i < BATCH; i++) {
      sink += (await tableDb.get(hitKeys[at]!))!.length;
      if (++at === PROBES) at = 0;
    }
    hitAt = at;
  },
);

Deno.bench(
  `await db.get, present key, memtable, ${MEM_N} entries (×${BATCH})`,
  { group: "get hit" },
  async () => {
    let at = memAt;
    for (let i = 0; i < BATCH; i++) {
      sink += (await memDb.get(memKeys[at]!))!.length;
      if (++at === PROBES) at = 0;
    }
    memAt = at;
  },
);

Deno.bench(
  `Map.get, absent string key (×${BATCH})`,
  { group: "get miss", baseline: true },
  () => {
    let at = mapMissAt;
    for (let i = 0; i < BATCH; i++) {
      if (map.get(missStrings[at]!) === undefined) sink++;
      if (++at === PROBES) at = 0;
    }
    mapMissAt = at;
  },
);

Deno.bench(
  `await db.get, absent key between stored keys, SSTables (×${BATCH})`,
  { group: "get miss" },
  async () => {
    let at = missAt;
    for (let i = 0; i < BATCH; i++) {
      if ((await tableDb.get(missKeys[at]!)) === undefined) sink++;
      if (++at === PROBES) at = 0;
    }
    missAt = at;
  },
);

Deno.bench(
  `sorted array of {key, value}, walk ${SCAN_N} entries`,
  { group: `scan ${SCAN_N}`, baseline: true },
  () => {
    const start = scanStarts[arrayScanAt]!;
    if (++arrayScanAt === STARTS) arrayScanAt = 0;
    for (let i = start; i < start + SCAN_N; i++) {
      const e = sorted[i]!;
      sink += e.key.length + e.value.length;
    }
  },
);

Deno.bench(
  `db.scan({ gte, limit: ${SCAN_N} }), SSTables`,
  { group: `scan ${SCAN_N}` },
  async () => {
    const gte = scanStartKeys[scanAt]!;
    if (++scanAt === STARTS) scanAt = 0;
    let n = 0;
    for await (const e of tableDb.scan({ gte, limit: SCAN_N })) {
      sink += e.key.length + e.value.length;
      n++;
    }
    if (n !== SCAN_N) throw new Error(`Scan saw ${n} entries`);
  },
);

Deno.bench(
  `db.scan({ gte, limit: ${SCAN_N}, keysOnly: true }), SSTables`,
  { group: `scan ${SCAN_N}` },
  async () => {
    const gte = scanStartKeys[scanAt]!;
    if (++scanAt === STARTS) scanAt = 0;
    let n = 0;
    for await (
      const e of tableDb.scan({ gte, limit: SCAN_N, keysOnly: true })
    ) {
      sink += e.key.length;
      n++;
    }
    if (n !== SCAN_N) throw new Error(`Scan saw ${n} entries`);
  },
);
