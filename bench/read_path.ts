// Read-path figures: 1,000,000 keys (16-byte keys, 100-byte values) written
// in random order and flushed, so most reads come from SSTables; then
// readrandom, readseq and readreverse, each beside the same workload on a
// plain sorted array and a Map in the same run.
//
//   deno run -A bench/read_path.ts [--num 1000000] [--cache-mib 32]

import { parseArgs } from "node:util";
import { compareBytes } from "../lib/util/bytes.ts";
import { DB } from "../mod.ts";
import { Prng } from "../cli/bench.ts";

const { values } = parseArgs({
  options: {
    num: { type: "string", default: "1000000" },
    "cache-mib": { type: "string", default: "32" },
  },
});
const N = Number(values.num);
const cacheMiB = Number(values["cache-mib"]);

function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next() / 0x1_0000_0000;
}

const encoder = new TextEncoder();
const keyOf = (i: number) => encoder.encode(String(i).padStart(16, "0"));
const keys = Array.from({ length: N }, (_, i) => keyOf(i));
const value = new Uint8Array(100).map((_, i) => (i * 37) & 0xff);
const order = Array.from({ length: N }, (_, i) => i);
const random = rng(301);
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [order[i], order[j]] = [order[j]!, order[i]!];
}
const probes = Array.from({ length: N }, () => keys[Math.floor(random() * N)]!);

const rows: [string, number, number][] = [];
async function measure(
  name: string,
  ops: number,
  fn: () => Promise<void> | void,
) {
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  rows.push([name, ops, ops / (ms / 1000)]);
}

// Baselines.
const sorted = keys.slice(); // already in key order
const map = new Map<string, Uint8Array>();
for (const k of keys) map.set(String.fromCharCode(...k), value);
let sink = 0;
await measure("sorted array: binary search", N, () => {
  for (const k of probes) {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(sorted[mid]!, k) < 0) lo = mid + 1;
      else hi = mid;
    }
    sink += lo;
  }
});
await measure("Map.get (string keys)", N, () => {
  for (const k of probes) sink += map.get(String.fromCharCode(...k))!.length;
});
await measure("sorted array: forward walk", N, () => {
  for (let i = 0; i < sorted.length; i++) sink += sorted[i]!.length;
});

const dir = await Deno.makeTempDir({ prefix: "strata_read_bench_" });
const db = await DB.open(dir, { blockCacheSize: cacheMiB * 1024 * 1024 });
for (let i = 0; i < N; i += 1000) {
  const batch = db.batch();
  for (let j = i; j < Math.min(N, i + 1000); j++) {
    batch.put(keys[order[j]!]!, value);
  }
  await db.write(batch);
}
await db.flush();
await db.waitForBackgroundWork();

await measure("strata readrandom (await db.get)", N, async () => {
  for (const k of probes) sink += (await db.get(k))!.length;
});
let seen = 0;
await measure("strata readseq (scan)", N, async () => {
  for await (const e of db.scan()) seen += e.value.length > 0 ? 1 : 0;
});
await measure("strata readreverse (scan reverse)", N, async () => {
  for await (const e of db.scan({ reverse: true })) {
    seen += e.value.length > 0 ? 1 : 0;
  }
});
if (seen !== 2 * N) {
  throw new Error(`scans saw ${seen} entries, expected ${2 * N}`);
}
const stats = db.stats();
await db.close();
await Deno.remove(dir, { recursive: true });

console.log(
  `N = ${N.toLocaleString("en-US")}, block cache ${cacheMiB} MiB, ` +
    `levels ${stats.levels.map((l) => l.files).join("/")}, ` +
    `cache hits ${stats.cache.hits} / misses ${stats.cache.misses}`,
);
console.log("| workload | ops/s |\n|---|---:|");
for (const [name, , rate] of rows) {
  console.log(`| ${name} | ${Math.round(rate).toLocaleString("en-US")} |`);
}
if (sink === -1) console.log(sink);
