import assert from "node:assert/strict";
import { Block, BlockBuilder } from "../../lib/sstable/block.ts";
import { BlockCache } from "../../lib/sstable/block_cache.ts";
import { InvalidArgumentError } from "../../lib/util/errors.ts";
import { DB } from "../../mod.ts";
import { TYPE_PUT } from "../../lib/iterator/internal_key.ts";
import { SSTableReader } from "../../lib/sstable/sstable_reader.ts";
import { SSTableWriter } from "../../lib/sstable/sstable_writer.ts";
import { rng, seeds } from "../fixtures/rng.ts";

function block(): Block {
  return new Block(new BlockBuilder().finish().slice());
}

Deno.test("block cache evicts least recently used blocks by bytes", () => {
  const cache = new BlockCache(100);
  const a = block(), b = block(), c = block(), d = block();
  cache.insert(1, 0, a, 40);
  cache.insert(1, 100, b, 40);
  assert.equal(cache.stats.bytes, 80);
  // Touch a so b becomes the least recently used.
  assert.equal(cache.get(1, 0), a);
  cache.insert(2, 0, c, 40);
  assert.equal(cache.stats.bytes, 80);
  assert.equal(cache.get(1, 100), undefined);
  assert.equal(cache.get(1, 0), a);
  assert.equal(cache.get(2, 0), c);
  // A big block pushes out as many as needed.
  cache.insert(3, 0, d, 90);
  assert.equal(cache.stats.entries, 1);
  assert.equal(cache.stats.bytes, 90);
  assert.equal(cache.get(3, 0), d);
});

Deno.test("block cache counts hits and misses", () => {
  const cache = new BlockCache(1000);
  assert.equal(cache.get(1, 0), undefined);
  cache.insert(1, 0, block(), 10);
  cache.get(1, 0);
  cache.get(1, 0);
  cache.get(1, 10);
  const s = cache.stats;
  assert.deepEqual(s, {
    hits: 2,
    misses: 2,
    bytes: 10,
    entries: 1,
    capacity: 1000,
    freeBytes: 0,
  });
});

Deno.test("block cache evictFile drops only that file's blocks", () => {
  const cache = new BlockCache(1000);
  for (let off = 0; off < 5; off++) {
    cache.insert(7, off * 4096, block(), 10);
    cache.insert(8, off * 4096, block(), 20);
  }
  cache.evictFile(7);
  assert.equal(cache.stats.entries, 5);
  assert.equal(cache.stats.bytes, 100);
  for (let off = 0; off < 5; off++) {
    assert.equal(cache.get(7, off * 4096), undefined);
    assert.notEqual(cache.get(8, off * 4096), undefined);
  }
  cache.evictFile(7);
  cache.evictFile(99);
  assert.equal(cache.stats.bytes, 100);
  cache.clear();
  assert.equal(cache.stats.entries, 0);
  assert.equal(cache.stats.bytes, 0);
});

Deno.test("block cache replaces an entry and keeps byte counts exact", () => {
  const cache = new BlockCache(100);
  const a = block(), b = block();
  cache.insert(1, 0, a, 30);
  cache.insert(1, 0, b, 50);
  assert.equal(cache.stats.entries, 1);
  assert.equal(cache.stats.bytes, 50);
  assert.equal(cache.get(1, 0), b);
  cache.evictFile(1);
  assert.equal(cache.stats.bytes, 0);
});

Deno.test("block cache skips blocks larger than its capacity", () => {
  const cache = new BlockCache(100);
  cache.insert(1, 0, block(), 40);
  cache.insert(1, 1, block(), 101);
  assert.equal(cache.get(1, 1), undefined);
  assert.notEqual(cache.get(1, 0), undefined);
  const off = new BlockCache(0);
  off.insert(1, 0, block(), 1);
  assert.equal(off.stats.entries, 0);
});

Deno.test("block cache handles huge file numbers and offsets", () => {
  const cache = new BlockCache(1000);
  const a = block(), b = block(), c = block();
  cache.insert(2 ** 40, 5, a, 1);
  cache.insert(3, 2 ** 33, b, 1);
  cache.insert(3, 5, c, 1);
  assert.equal(cache.get(2 ** 40, 5), a);
  assert.equal(cache.get(3, 2 ** 33), b);
  assert.equal(cache.get(3, 5), c);
  cache.evictFile(3);
  assert.equal(cache.get(3, 2 ** 33), undefined);
  assert.equal(cache.get(2 ** 40, 5), a);
  assert.equal(cache.stats.bytes, 1);
});

Deno.test("block cache matches a simple LRU model under a random workload", () => {
  const seed = Date.now() >>> 0;
  console.log(`seed ${seed}`);
  let s = seed;
  const rand = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
  const cap = 5000;
  const cache = new BlockCache(cap);
  // Model: insertion-ordered list, least recently used first.
  let model: { f: number; off: number; block: Block; charge: number }[] = [];
  let hits = 0, misses = 0;
  for (let i = 0; i < 5000; i++) {
    const f = rand(5), off = rand(50);
    const at = model.findIndex((e) => e.f === f && e.off === off);
    const op = rand(20);
    if (op < 6) {
      const b = block(), charge = 1 + rand(600);
      cache.insert(f, off, b, charge);
      if (charge <= cap) {
        if (at >= 0) model.splice(at, 1);
        model.push({ f, off, block: b, charge });
        let used = model.reduce((n, e) => n + e.charge, 0);
        while (used > cap) used -= model.shift()!.charge;
      }
    } else if (op === 6) {
      cache.evictFile(f);
      model = model.filter((e) => e.f !== f);
    } else {
      const got = cache.get(f, off);
      if (at >= 0) {
        hits++;
        const [e] = model.splice(at, 1);
        model.push(e!);
        assert.equal(got, e!.block);
      } else {
        misses++;
        assert.equal(got, undefined);
      }
    }
    const st = cache.stats;
    assert.equal(st.entries, model.length);
    assert.equal(st.bytes, model.reduce((n, e) => n + e.charge, 0));
    assert.ok(st.bytes <= cap);
  }
  assert.equal(cache.stats.hits, hits);
  assert.equal(cache.stats.misses, misses);
});

Deno.test("block cache refuses a bad capacity", () => {
  for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => new BlockCache(bad), InvalidArgumentError);
  }
});

/** A block from the cache's pool, loaded as a table reader loads one. */
function framed(cache: BlockCache, length = 4101): Block {
  const bytes = new BlockBuilder().finish();
  const b = cache.allocate(length);
  b.data.set(bytes);
  b.load(bytes.length, "t.sst", 0);
  return b;
}

Deno.test("block cache recycles an evicted block nobody holds", () => {
  const cache = new BlockCache(20_000);
  const a = framed(cache);
  assert.equal(a.data.length, 4160, "frames come in 64-byte classes");
  cache.insert(1, 0, a, a.data.length);
  const frame = a.data;
  cache.evictFile(1);
  assert.equal(a.size, 0, "emptied");
  assert.ok(frame.every((x) => x === 0), "and zeroed");
  assert.equal(cache.stats.freeBytes, 4160);
  const again = cache.allocate(4100);
  assert.equal(again, a, "a request of the same class reuses block and frame");
  assert.equal(cache.stats.freeBytes, 0);
  cache.discard(again);
  assert.equal(cache.allocate(4000), a, "one a few classes smaller too");
  cache.discard(a);
  assert.notEqual(cache.allocate(3000), a, "but not one far smaller");
});

Deno.test("block cache keeps a pinned block until its release", () => {
  const cache = new BlockCache(10_000);
  const a = framed(cache), b = framed(cache), c = framed(cache);
  cache.insert(1, 0, a, 4160);
  cache.pin(a);
  cache.pin(a);
  cache.insert(1, 1, b, 4160);
  cache.insert(1, 2, c, 4160); // evicts a, which two iterators hold
  assert.equal(cache.get(1, 0), undefined);
  assert.equal(a.size, 8, "still readable");
  assert.equal(cache.stats.freeBytes, 0);
  cache.release(a);
  assert.equal(a.size, 8, "one holder is left");
  cache.release(a);
  assert.equal(a.size, 0);
  assert.equal(cache.stats.freeBytes, 4160);
  // A cached block that is released stays cached.
  cache.pin(c);
  cache.release(c);
  assert.equal(cache.get(1, 2), c);
  assert.equal(c.size, 8);
});

Deno.test("block cache blocks read uncached come back on release", () => {
  const cache = new BlockCache(0); // a compaction's reader: nothing is cached
  const seen = new Set<Block>();
  for (let i = 0; i < 100; i++) {
    const blk = framed(cache);
    seen.add(blk);
    cache.insert(1, i, blk, 4160); // refused: over capacity
    cache.pin(blk);
    cache.release(blk);
  }
  assert.equal(seen.size, 1, "one block served every read");
  // Huge blocks get buffers of their own and are never pooled.
  const free = cache.stats.freeBytes;
  const huge = cache.allocate(1 << 20);
  assert.equal(huge.data.length, 1 << 20);
  cache.discard(huge);
  assert.equal(cache.stats.freeBytes, free);
});

Deno.test("block cache memory levels off near its capacity", () => {
  const cap = 64 * 1024;
  const cache = new BlockCache(cap);
  const blocks = new Set<Block>();
  const r = rng(5);
  const churn = (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      const file = Math.floor(r() * 4);
      if (r() < 0.02) {
        cache.evictFile(file);
        continue;
      }
      // Blocks vary by some tens of bytes (wider than a real table's).
      const blk = framed(cache, 4000 + Math.floor(r() * 200));
      blocks.add(blk);
      cache.insert(file, i, blk, blk.data.length);
      assert.ok(cache.stats.bytes <= cap);
    }
  };
  churn(5000);
  const early = blocks.size;
  churn(20_000);
  // A free block of a smaller class cannot serve a larger one, so a few
  // more blocks exist than fit at once; their number stops growing.
  const most = Math.floor(cap / 4000) + 1;
  assert.ok(blocks.size <= most * 1.5, `${blocks.size} blocks for ${most}`);
  assert.ok(blocks.size <= early + 2, `${early} blocks, then ${blocks.size}`);
  cache.clear();
  assert.equal(cache.stats.freeBytes, 0);
});

Deno.test("scans keep their blocks while other reads recycle a tiny cache", async () => {
  for (const seed of seeds([11, 12])) {
    const r = rng(seed);
    const dir = await Deno.makeTempDir({ prefix: "strata_cache_" });
    // 256-byte blocks and room for about three of them: nearly every read
    // evicts a block and hands its frame to the next miss.
    const db = await DB.open(dir, { blockSize: 256, blockCacheSize: 2048 });
    try {
      const enc = new TextEncoder();
      const keys: string[] = [];
      for (let i = 0; i < 3000; i++) {
        keys.push(`k${String(i).padStart(5, "0")}`);
      }
      const valueOf = (k: string) => `${k}:${"v".repeat(k.length * 3)}`;
      for (const k of keys) await db.put(k, valueOf(k));
      await db.flush();
      await db.compact();
      // Several scans advance in turns, with random gets between steps.
      const scans = Array.from({ length: 4 }, (_, i) => {
        const reverse = i % 2 === 1;
        const from = Math.floor(r() * keys.length);
        const bound = enc.encode(keys[from]!);
        const it = db.scan(reverse ? { lte: bound, reverse } : { gte: bound });
        const expected = reverse
          ? keys.slice(0, from + 1).reverse()
          : keys.slice(from);
        return { it, expected, seen: [] as string[], done: false };
      });
      const dec = new TextDecoder();
      while (scans.some((s) => !s.done)) {
        for (const s of scans) {
          if (s.done) continue;
          const step = await s.it.next();
          if (step.done) {
            s.done = true;
            continue;
          }
          const key = dec.decode(step.value.key);
          assert.equal(dec.decode(step.value.value), valueOf(key));
          s.seen.push(key);
          for (let g = 0; g < 2; g++) {
            const k = keys[Math.floor(r() * keys.length)]!;
            assert.equal(dec.decode(await db.get(k)), valueOf(k));
          }
        }
      }
      for (const s of scans) assert.deepEqual(s.seen, s.expected);
      // An abandoned scan (never finished) costs a frame, not correctness.
      const stray = db.scan();
      await stray.next();
      for (const k of keys.slice(0, 500)) {
        assert.equal(dec.decode(await db.get(k)), valueOf(k));
      }
      await stray.return?.(undefined);
      assert.ok(db.stats().cache.misses > 3000, "the cache churned");
    } catch (err) {
      console.error(`cache churn test failed with SEED=${seed}`);
      throw err;
    } finally {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("gets through a reader with no cache recycle their blocks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_cache_" });
  try {
    const path = `${dir}/000001.sst`;
    const w = SSTableWriter.create(path, {
      blockSize: 512,
      bloomBitsPerKey: 10,
    });
    const key = (i: number) =>
      new TextEncoder().encode(`k${String(i).padStart(5, "0")}`);
    for (let i = 0; i < 2000; i++) w.add(key(i), 1, TYPE_PUT, key(i * 7));
    await w.finish();
    const cache = new BlockCache(0);
    using reader = SSTableReader.open(path, 1, cache);
    const r = rng(9);
    const slabs = new Set<ArrayBufferLike>();
    for (let n = 0; n < 500; n++) {
      const i = Math.floor(r() * 2000);
      const hit = reader.get(key(i), 1);
      assert.deepEqual(hit?.value, key(i * 7), `key ${i}`);
      slabs.add(hit!.value.buffer);
    }
    // Each get recycles the block the previous one read: one frame serves.
    assert.equal(slabs.size, 1);
    assert.ok(cache.stats.misses >= 500);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
