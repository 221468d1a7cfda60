import assert from "node:assert/strict";
import { Block, BlockBuilder } from "../lib/block.ts";
import { BlockCache } from "../lib/block_cache.ts";
import { InvalidArgumentError } from "../lib/errors.ts";

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
