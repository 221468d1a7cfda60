import assert from "node:assert/strict";
import { rng, seeds } from "../fixtures/rng.ts";
import { MemTable, MEMTABLE_CHUNK_BYTES } from "../../lib/memtable/memtable.ts";
import { MemTablePool } from "../../lib/memtable/memtable_pool.ts";
import { TYPE_DELETE, TYPE_PUT } from "../../lib/iterator/internal_key.ts";
import { toHex } from "../../lib/util/bytes.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Fills a memtable with random entries; returns what it should hold. */
function fill(
  mem: MemTable,
  rand: () => number,
  n: number,
  tag: string,
): Map<string, string> {
  const model = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const key = `k${Math.floor(rand() * n * 2)}`;
    const value = `${tag}:${i}:${"x".repeat(Math.floor(rand() * 300))}`;
    mem.add(i + 1, TYPE_PUT, enc(key), enc(value));
    model.set(toHex(enc(key)), value);
  }
  return model;
}

/** The newest value of every key, by a full walk. */
function contents(mem: MemTable): Map<string, string> {
  const out = new Map<string, string>();
  const it = mem.iterator();
  for (it.seekToFirst(); it.valid(); it.next()) {
    const k = toHex(it.key());
    if (!out.has(k)) out.set(k, new TextDecoder().decode(it.value()));
  }
  it.close();
  return out;
}

Deno.test("memtable pool: a retired memtable's memory refills the next one", () => {
  for (const seed of seeds()) {
    const rand = rng(seed);
    const pool = new MemTablePool(1 << 20, MEMTABLE_CHUNK_BYTES);
    let mem = new MemTable(pool);
    let model = fill(mem, rand, 3000, "a");
    for (let round = 0; round < 4; round++) {
      assert.deepEqual(contents(mem), model, `round ${round}, seed ${seed}`);
      mem.retire();
      mem = new MemTable(pool);
      model = fill(mem, rand, 1000 + Math.floor(rand() * 3000), `r${round}`);
    }
    assert.deepEqual(contents(mem), model, `last round, seed ${seed}`);
  }
});

Deno.test("memtable pool: memory stays put while an iterator reads it", () => {
  const pool = new MemTablePool(1 << 20, MEMTABLE_CHUNK_BYTES);
  const old = new MemTable(pool);
  const model = fill(old, rng(7), 2000, "old");
  const it = old.iterator();
  it.seekToFirst();
  old.retire();
  assert.equal(pool.takeChunk(), undefined, "nothing was recycled yet");
  // A new memtable fills fresh memory meanwhile; the reader is unaffected.
  const next = new MemTable(pool);
  fill(next, rng(8), 2000, "new");
  const seen = new Map<string, string>();
  for (; it.valid(); it.next()) {
    const k = toHex(it.key());
    if (!seen.has(k)) seen.set(k, new TextDecoder().decode(it.value()));
  }
  assert.deepEqual(seen, model);
  it.close();
  it.close(); // twice is harmless
  assert.notEqual(pool.takeChunk(), undefined, "recycled at the last close");
});

Deno.test("memtable pool: bounded to about one memtable", () => {
  const pool = new MemTablePool(1 << 20, MEMTABLE_CHUNK_BYTES);
  const big = new MemTable(pool);
  const value = new Uint8Array(100);
  for (let i = 0; i < 30_000; i++) {
    big.add(i + 1, TYPE_PUT, enc(`k${i}`), value);
  }
  assert.ok(big.approximateBytes > 4 << 20);
  big.retire();
  let chunks = 0;
  while (pool.takeChunk() !== undefined) chunks++;
  assert.equal(chunks, Math.ceil((1 << 20) / MEMTABLE_CHUNK_BYTES) + 1);
  // Its arena (30,000 nodes) outgrew a memtable of the pool's size.
  assert.ok(pool.takeArena() === undefined, "an oversized arena is dropped");
  // A large entry's own chunk is never pooled.
  const one = new MemTable(pool);
  one.add(1, TYPE_PUT, enc("huge"), new Uint8Array(MEMTABLE_CHUNK_BYTES * 2));
  one.add(2, TYPE_DELETE, enc("gone"), new Uint8Array(0));
  one.retire();
  while (true) {
    const c = pool.takeChunk();
    if (c === undefined) break;
    assert.equal(c.length, MEMTABLE_CHUNK_BYTES);
  }
  const arena = pool.takeArena();
  assert.ok(arena !== undefined && arena.every((w) => w === 0), "zeroed");
});

Deno.test("memtable image: packs into a reused buffer and reads back", () => {
  const a = new MemTable();
  const model = fill(a, rng(3), 4000, "img");
  const image = a.toImage();
  assert.equal(image.buffer.byteLength, a.imageByteLength);
  assert.deepEqual(contents(MemTable.fromImage(image)), model);
  // A smaller memtable packs into the first image's buffer.
  const b = new MemTable();
  const small = fill(b, rng(4), 500, "small");
  const again = b.toImage(image.buffer);
  assert.equal(again.buffer, image.buffer);
  assert.deepEqual(contents(MemTable.fromImage(again)), small);
  // The image is a copy: changing the memtable later does not touch it.
  b.add(9999, TYPE_PUT, enc("late"), enc("entry"));
  assert.deepEqual(contents(MemTable.fromImage(again)), small);
  // Too small a buffer is not used.
  assert.notEqual(a.toImage(new ArrayBuffer(16)).buffer.byteLength, 16);
});
