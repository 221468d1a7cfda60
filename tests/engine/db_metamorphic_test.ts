// Metamorphic test: one seeded sequence of operations, run under very
// different configurations (memtable and block sizes, bloom filters off,
// no block cache, compaction triggers, background work on the Worker or on
// the main thread, in memory, on a strict filesystem, on the real disk),
// must give identical results for every read. What differs between them
// is only when flushes and compactions happen and where the bytes live.

import assert from "node:assert/strict";
import { DB, type OpenOptions, type Snapshot } from "../../mod.ts";
import { MemFs } from "../../lib/fs/mem_fs.ts";
import { StrictFs } from "../../lib/fs/strict_fs.ts";
import { rng, seeds } from "../fixtures/rng.ts";

interface Config {
  name: string;
  options: OpenOptions;
  disk?: boolean;
}

const CONFIGS: Config[] = [
  { name: "disk, defaults, Worker", options: {}, disk: true },
  {
    name: "memory, 1 KiB memtable, 256 B blocks, trigger 2",
    options: { memtableSize: 1024, blockSize: 256, l0CompactionTrigger: 2 },
  },
  {
    name:
      "memory, 8 KiB memtable, 64 KiB blocks, no bloom, no cache, trigger 8",
    options: {
      memtableSize: 8192,
      blockSize: 65536,
      bloomBitsPerKey: 0,
      blockCacheSize: 0,
      l0CompactionTrigger: 8,
    },
  },
  {
    name: "disk, 2 KiB memtable, 1 KiB blocks, trigger 2, main thread",
    options: {
      memtableSize: 2048,
      blockSize: 1024,
      l0CompactionTrigger: 2,
      backgroundWorker: false,
    },
    disk: true,
  },
  {
    name:
      "disk, 4 KiB memtable, 256 B blocks, no bloom, no cache, trigger 8, Worker",
    options: {
      memtableSize: 4096,
      blockSize: 256,
      bloomBitsPerKey: 0,
      blockCacheSize: 0,
      l0CompactionTrigger: 8,
      levelSizeMultiplier: 2,
    },
    disk: true,
  },
  {
    name: "strict fs, 1 KiB memtable, 512 B blocks, multiplier 2",
    options: { memtableSize: 1024, blockSize: 512, levelSizeMultiplier: 2 },
  },
];

const OPS = 1500;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) =>
  b === undefined ? "∅" : new TextDecoder().decode(b);

async function run(config: Config, seed: number): Promise<string[]> {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const key = () => `k${String(int(300)).padStart(3, "0")}`;
  const out: string[] = [];
  let dir: string;
  let options: OpenOptions;
  if (config.disk) {
    dir = await Deno.makeTempDir({ prefix: "strata_metamorphic_" });
    options = config.options;
  } else {
    dir = "/db";
    const fs = config.name.startsWith("strict") ? new StrictFs() : new MemFs();
    options = { ...config.options, fs };
  }
  let db = await DB.open(dir, options);
  const snapshots: Snapshot[] = [];
  try {
    for (let i = 0; i < OPS; i++) {
      const p = r();
      if (p < 0.35) {
        await db.put(key(), `v${i}:${"x".repeat(int(r() < 0.1 ? 2000 : 60))}`);
      } else if (p < 0.45) {
        await db.delete(key());
      } else if (p < 0.5) {
        const batch = db.batch();
        for (let j = int(8); j >= 0; j--) {
          if (r() < 0.3) batch.delete(key());
          else batch.put(key(), `b${i}.${j}`);
        }
        await db.write(batch);
      } else if (p < 0.7) {
        const k = key();
        out.push(`${i} get ${k} = ${dec(await db.get(k))}`);
      } else if (p < 0.74 && snapshots.length > 0) {
        const snap = snapshots[int(snapshots.length)]!;
        const k = key();
        out.push(
          `${i} snapshot get ${k} = ${
            dec(await db.get(k, { snapshot: snap }))
          }`,
        );
      } else if (p < 0.76) {
        if (snapshots.length < 4) snapshots.push(db.snapshot());
        else snapshots.shift()!.release();
      } else if (p < 0.9) {
        const a = key(), b = key();
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const reverse = r() < 0.5;
        const limit = r() < 0.5 ? 1 + int(30) : undefined;
        const scanOptions = {
          gte: enc(lo),
          ...(r() < 0.5 ? { lt: enc(hi) } : { lte: enc(hi) }),
          reverse,
          ...(limit !== undefined ? { limit } : {}),
          ...(r() < 0.3 && snapshots.length > 0
            ? { snapshot: snapshots[int(snapshots.length)]! }
            : {}),
        };
        const rows: string[] = [];
        for await (const e of db.scan(scanOptions)) {
          rows.push(`${dec(e.key)}=${dec(e.value).slice(0, 12)}`);
        }
        out.push(
          `${i} scan ${lo}..${hi} ${reverse} ${limit}: ${rows.join(",")}`,
        );
      } else if (p < 0.93) {
        await db.flush();
      } else if (p < 0.95) {
        await db.compact();
      } else if (p < 0.97) {
        for (const s of snapshots.splice(0)) s.release();
        await db.close();
        db = await DB.open(dir, options);
      }
    }
    const all: string[] = [];
    for await (const e of db.scan()) all.push(`${dec(e.key)}=${dec(e.value)}`);
    out.push(`final ${all.join(",")}`);
  } finally {
    for (const s of snapshots) s.release();
    await db.close();
    if (config.disk) await Deno.remove(dir, { recursive: true });
  }
  return out;
}

for (const seed of seeds([31, 32])) {
  Deno.test(`metamorphic: ${CONFIGS.length} configurations read alike (seed ${seed})`, async () => {
    const [base, ...others] = CONFIGS;
    const expected = await run(base!, seed);
    assert.ok(expected.length > OPS / 3);
    for (const config of others) {
      const got = await run(config, seed);
      for (let i = 0; i < Math.max(got.length, expected.length); i++) {
        assert.equal(
          got[i],
          expected[i],
          `seed ${seed}: "${config.name}" differs from "${
            base!.name
          }" at read ${i}`,
        );
      }
    }
  });
}
