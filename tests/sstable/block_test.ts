import assert from "node:assert/strict";
import {
  Block,
  BlockBuilder,
  type BlockIterator,
  EMPTY_BLOCK,
} from "../../lib/sstable/block.ts";
import { compareBytes } from "../../lib/util/bytes.ts";
import { CorruptionError } from "../../lib/util/errors.ts";
import {
  compareInternal,
  type EntryType,
  MAX_SEQUENCE,
} from "../../lib/iterator/internal_key.ts";

interface Entry {
  key: Uint8Array;
  seq: number;
  type: EntryType;
  value: Uint8Array;
}

function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296 * n) | 0;
  };
}

function newSeed(name: string): number {
  const seed = Number(Deno.env.get("SEED") ?? (Date.now() >>> 0));
  console.log(`${name}: seed ${seed} (rerun with SEED=${seed})`);
  return seed;
}

function randomKey(rand: (n: number) => number): Uint8Array {
  // A tiny alphabet makes shared prefixes, equal user keys and 0x00/0xff.
  const alphabet = [0x00, 0x61, 0x62, 0xff];
  const k = new Uint8Array(1 + rand(6));
  for (let i = 0; i < k.length; i++) k[i] = alphabet[rand(4)]!;
  return k;
}

function randomEntries(rand: (n: number) => number, n: number): Entry[] {
  const seen = new Set<string>();
  const out: Entry[] = [];
  while (out.length < n) {
    const key = randomKey(rand);
    const seq = rand(10) === 0 ? MAX_SEQUENCE - rand(3) : rand(1000);
    const id = `${key.join(",")}/${seq}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const value = new Uint8Array(rand(3) === 0 ? 0 : rand(200));
    for (let i = 0; i < value.length; i++) value[i] = rand(256);
    out.push({ key, seq, type: (1 + rand(2)) as EntryType, value });
  }
  return out.sort((a, b) => compareInternal(a.key, a.seq, b.key, b.seq));
}

function build(entries: Entry[], interval: number): Block {
  const b = new BlockBuilder(interval, 16);
  for (const e of entries) b.add(e.key, e.seq, e.type, e.value);
  return new Block(b.finish().slice(), "test.sst", 1000);
}

function assertAt(it: BlockIterator, e: Entry | undefined, what: string): void {
  if (e === undefined) {
    assert.equal(it.valid(), false, `${what}: expected invalid`);
    return;
  }
  assert.equal(it.valid(), true, `${what}: expected valid`);
  assert.deepEqual(it.key(), e.key, `${what}: key`);
  assert.equal(it.seq(), e.seq, `${what}: seq`);
  assert.equal(it.type(), e.type, `${what}: type`);
  assert.deepEqual(it.value(), e.value, `${what}: value`);
}

Deno.test("block round trip forward and backward for several restart intervals", () => {
  const rand = prng(newSeed("block round trip"));
  for (const interval of [1, 2, 3, 16, 1000]) {
    const entries = randomEntries(rand, 300);
    const block = build(entries, interval);
    const it = block.iterator();
    let i = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      assertAt(it, entries[i++], `fwd ${i}`);
    }
    assert.equal(i, entries.length);
    i = entries.length;
    for (it.seekToLast(); it.valid(); it.prev()) {
      assertAt(it, entries[--i], `back ${i}`);
    }
    assert.equal(i, 0);
  }
});

Deno.test("block iterator matches a sorted array model under random operations", () => {
  const rand = prng(newSeed("block model"));
  for (const interval of [1, 4, 16]) {
    const entries = randomEntries(rand, 200);
    const it = build(entries, interval).iterator();
    let pos = -1; // -1 or entries.length: invalid
    const lowerBound = (k: Uint8Array, s: number) => {
      let i = 0;
      while (
        i < entries.length &&
        compareInternal(entries[i]!.key, entries[i]!.seq, k, s) < 0
      ) i++;
      return i;
    };
    for (let op = 0; op < 3000; op++) {
      const r = rand(10);
      const k = randomKey(rand);
      const s = rand(4) === 0 ? MAX_SEQUENCE : rand(1000);
      let what: string;
      if (r < 3) {
        it.seek(k, s);
        pos = lowerBound(k, s);
        what = `seek(${k}, ${s})`;
      } else if (r < 5) {
        it.seekForPrev(k, s);
        let i = lowerBound(k, s);
        if (
          i === entries.length ||
          compareInternal(entries[i]!.key, entries[i]!.seq, k, s) > 0
        ) i--;
        pos = i;
        what = `seekForPrev(${k}, ${s})`;
      } else if (r === 5) {
        it.seekToFirst();
        pos = 0;
        what = "seekToFirst";
      } else if (r === 6) {
        it.seekToLast();
        pos = entries.length - 1;
        what = "seekToLast";
      } else if (pos >= 0 && pos < entries.length) {
        if (r < 8) {
          it.next();
          pos++;
          what = "next";
        } else {
          it.prev();
          pos--;
          what = "prev";
        }
      } else {
        continue;
      }
      assertAt(it, entries[pos], `op ${op} ${what} (interval ${interval})`);
    }
  }
});

Deno.test("empty block yields nothing from any operation", () => {
  const block = new Block(new BlockBuilder().finish().slice());
  assert.equal(block.data.length, 8);
  const it = block.iterator();
  it.seekToFirst();
  assert.equal(it.valid(), false);
  it.seekToLast();
  assert.equal(it.valid(), false);
  it.seek(new Uint8Array([1]), 5);
  assert.equal(it.valid(), false);
  it.seekForPrev(new Uint8Array([1]), 5);
  assert.equal(it.valid(), false);
  it.prev();
  it.next();
  assert.equal(it.valid(), false);
  const e = EMPTY_BLOCK.iterator();
  e.seekToLast();
  assert.equal(e.valid(), false);
});

Deno.test("block holds a 64 KiB key and a 1 MiB value", () => {
  const bigKey = new Uint8Array(64 * 1024).fill(0x41);
  bigKey[bigKey.length - 1] = 0x42;
  const bigValue = new Uint8Array(1 << 20);
  for (let i = 0; i < bigValue.length; i++) bigValue[i] = i * 7;
  const entries: Entry[] = [
    { key: new Uint8Array([0x41]), seq: 1, type: 1, value: new Uint8Array(0) },
    { key: bigKey, seq: 9, type: 1, value: bigValue },
    { key: bigKey, seq: 3, type: 2, value: new Uint8Array(0) },
    {
      key: new Uint8Array([0x43]),
      seq: 0,
      type: 1,
      value: new Uint8Array([1]),
    },
  ];
  for (const interval of [1, 16]) {
    const it = build(entries, interval).iterator();
    let i = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      assertAt(it, entries[i++], `fwd ${i}`);
    }
    it.seek(bigKey, 5);
    assertAt(it, entries[2], "seek big key");
    it.prev();
    assertAt(it, entries[1], "prev to big value");
  }
});

Deno.test("block compresses and restores keys sharing long prefixes", () => {
  const prefix = new Uint8Array(3000).fill(0x70);
  const entries: Entry[] = [];
  for (let i = 0; i < 100; i++) {
    const key = new Uint8Array(prefix.length + 2);
    key.set(prefix);
    key[prefix.length] = i >> 4;
    key[prefix.length + 1] = i & 15;
    entries.push({ key, seq: 100 - i, type: 1, value: new Uint8Array([i]) });
  }
  const block = build(entries, 16);
  // Whole keys only at the 7 restart points.
  assert.ok(
    block.data.length < 8 * 3100,
    `block is ${block.data.length} bytes`,
  );
  const it = block.iterator();
  let i = 0;
  for (it.seekToFirst(); it.valid(); it.next()) {
    assertAt(it, entries[i++], `fwd ${i}`);
  }
  for (const e of entries) {
    it.seek(e.key, MAX_SEQUENCE);
    assertAt(it, e, "seek");
  }
});

Deno.test("block keys stay valid after the iterator moves", () => {
  const rand = prng(newSeed("key stability"));
  const entries = randomEntries(rand, 100);
  const it = build(entries, 16).iterator();
  const keys: Uint8Array[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) keys.push(it.key());
  assert.deepEqual(keys, entries.map((e) => e.key));
  it.seekToFirst();
  assert.equal(it.key(), it.key(), "key() is cached per position");
  assert.ok(it.userKeyEquals(entries[0]!.key));
  assert.equal(it.compareCurrent(entries[0]!.key, entries[0]!.seq), 0);
  assert.ok(compareBytes(it.internalKey(), entries[0]!.key) > 0);
});

Deno.test("block refuses a malformed restart array with CorruptionError", () => {
  const good = build([{
    key: new Uint8Array([1]),
    seq: 1,
    type: 1,
    value: new Uint8Array([2]),
  }], 16);
  const cases: [string, Uint8Array][] = [
    ["too short", new Uint8Array([1, 0])],
    ["count too large", new Uint8Array([0, 0, 0, 0, 9, 0, 0, 0])],
    ["huge count", new Uint8Array([0xff, 0xff, 0xff, 0xff])],
  ];
  const badFirst = good.data.slice();
  badFirst[badFirst.length - 8] = 1; // restart[0] must be 0
  cases.push(["first restart not 0", badFirst]);
  const pastEnd = good.data.slice();
  pastEnd[pastEnd.length - 8] = 200;
  cases.push(["restart past entries", pastEnd]);
  for (const [what, bytes] of cases) {
    assert.throws(() => new Block(bytes, "x.sst", 4096), (err: unknown) => {
      assert.ok(err instanceof CorruptionError, `${what}: ${err}`);
      assert.equal(err.file, "x.sst");
      assert.ok(err.offset >= 4096);
      return true;
    });
  }
});

Deno.test("damaged block bytes raise only CorruptionError, never RangeError", () => {
  const rand = prng(newSeed("block fuzz"));
  const entries = randomEntries(rand, 120);
  const good = build(entries, 8).data;
  let corruptions = 0;
  for (let round = 0; round < 1500; round++) {
    const bytes = good.slice();
    const flips = 1 + rand(4);
    for (let f = 0; f < flips; f++) bytes[rand(bytes.length)] = rand(256);
    if (round % 10 === 0) {
      for (let i = 0; i < bytes.length - 4; i++) bytes[i] = rand(256);
    }
    try {
      const it = new Block(bytes, "f.sst", 0).iterator();
      for (it.seekToFirst(); it.valid(); it.next()) {
        it.key();
        it.seq();
        it.type();
        it.value();
      }
      for (it.seekToLast(); it.valid(); it.prev()) it.key();
      for (let i = 0; i < 20; i++) {
        const k = randomKey(rand);
        it.seek(k, rand(1000));
        if (it.valid()) it.value();
        it.seekForPrev(k, rand(1000));
        if (it.valid()) it.prev();
      }
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      assert.equal(err.file, "f.sst");
      corruptions++;
    }
  }
  assert.ok(corruptions > 0);
});

Deno.test("block builder reports its size and resets for reuse", () => {
  const b = new BlockBuilder(2);
  assert.equal(b.empty, true);
  assert.equal(b.estimatedSize, 8);
  b.add(new Uint8Array([1]), 1, 1, new Uint8Array(10));
  b.add(new Uint8Array([2]), 1, 1, new Uint8Array(10));
  b.add(new Uint8Array([3]), 1, 1, new Uint8Array(10));
  assert.equal(b.entries, 3);
  const size = b.estimatedSize;
  assert.equal(b.finish().length, size);
  b.reset();
  assert.equal(b.entries, 0);
  b.add(new Uint8Array([9]), 0, 2, new Uint8Array(0));
  const it = new Block(b.finish().slice()).iterator();
  it.seekToFirst();
  assert.deepEqual(it.key(), new Uint8Array([9]));
  assert.equal(it.seq(), 0);
  assert.equal(it.type(), 2);
  it.next();
  assert.equal(it.valid(), false);
});
