import assert from "node:assert/strict";
import { rng, seeds } from "../fixtures/rng.ts";
import { MemTable } from "../../lib/memtable/memtable.ts";
import {
  compareInternal,
  type EntryType,
  type InternalIterator,
  MAX_SEQUENCE,
  TYPE_DELETE,
  TYPE_PUT,
} from "../../lib/iterator/internal_key.ts";
import { toHex } from "../../lib/util/bytes.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);
const enc = (s: string) => new TextEncoder().encode(s);

function withSeed(seed: number, body: (rand: () => number) => void): void {
  try {
    body(rng(seed));
  } catch (err) {
    console.error(`failing seed: ${seed}`);
    throw err;
  }
}

interface Entry {
  key: Uint8Array;
  seq: number;
  type: EntryType;
  value: Uint8Array;
}

function collect(it: InternalIterator, reverse = false): string[] {
  const out: string[] = [];
  if (reverse) {
    for (it.seekToLast(); it.valid(); it.prev()) {
      out.push(`${toHex(it.key())}@${it.seq()}`);
    }
  } else {
    for (it.seekToFirst(); it.valid(); it.next()) {
      out.push(`${toHex(it.key())}@${it.seq()}`);
    }
  }
  return out;
}

/** Keys around the 16 bytes held inline in a node, and 0x00/0xFF bytes. */
const TRICKY_KEYS: Uint8Array[] = [
  b(0),
  b(0, 0),
  b(0, 0xff),
  b(1),
  b(1, 0),
  b(0x7f),
  b(0x80),
  b(0xff),
  b(0xff, 0),
  b(0xff, 0xff),
  b(0xff, 0xff, 0xff, 0xff, 0xff),
  enc("user:"),
  enc("user:1"),
  enc("user:10"),
  enc("user:2"),
  new Uint8Array(15),
  new Uint8Array(16),
  new Uint8Array(17),
  new Uint8Array(15).fill(0xff),
  new Uint8Array(16).fill(0xff),
  new Uint8Array(17).fill(0xff),
  Uint8Array.from({ length: 20 }, (_, i) => (i === 19 ? 1 : 0)),
  Uint8Array.from({ length: 20 }, (_, i) => (i === 16 ? 1 : 0)),
  Uint8Array.from({ length: 40 }, (_, i) => i),
  Uint8Array.from({ length: 41 }, (_, i) => i),
  Uint8Array.from({ length: 40 }, (_, i) => (i === 39 ? 0xff : i)),
];

Deno.test("memtable: memcmp order with 0x00/0xFF bytes, prefixes and long keys", () => {
  const mt = new MemTable();
  // Insert in a scrambled order.
  const order = TRICKY_KEYS.map((_, i) => (i * 7) % TRICKY_KEYS.length);
  assert.equal(new Set(order).size, TRICKY_KEYS.length);
  let seq = 1;
  for (const i of order) mt.add(seq++, TYPE_PUT, TRICKY_KEYS[i]!, b(i));
  const expected = [...TRICKY_KEYS]
    .sort((x, y) => {
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    })
    .map(toHex);
  const it = mt.iterator();
  const got: string[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) got.push(toHex(it.key()));
  assert.deepEqual(got, expected);
  const back: string[] = [];
  for (it.seekToLast(); it.valid(); it.prev()) back.push(toHex(it.key()));
  assert.deepEqual(back, expected.reverse());
  for (let i = 0; i < TRICKY_KEYS.length; i++) {
    const found = mt.get(TRICKY_KEYS[i]!, MAX_SEQUENCE);
    assert.ok(found, `key ${toHex(TRICKY_KEYS[i]!)} not found`);
    assert.deepEqual(found.value, b(i));
  }
  assert.equal(mt.get(b(0, 0, 0), MAX_SEQUENCE), undefined);
  assert.equal(mt.get(new Uint8Array(18), MAX_SEQUENCE), undefined);
  assert.equal(mt.get(enc("user:3"), MAX_SEQUENCE), undefined);
});

Deno.test("memtable: versions of a key come newest first, get honours snapshots", () => {
  const mt = new MemTable();
  const k = enc("k");
  mt.add(10, TYPE_PUT, k, enc("v10"));
  mt.add(30, TYPE_DELETE, k, new Uint8Array(0));
  mt.add(20, TYPE_PUT, k, enc("v20"));
  mt.add(25, TYPE_PUT, enc("j"), enc("j25"));
  mt.add(5, TYPE_PUT, enc("l"), enc("l5"));
  assert.deepEqual(collect(mt.iterator()), [
    `${toHex(enc("j"))}@25`,
    `${toHex(k)}@30`,
    `${toHex(k)}@20`,
    `${toHex(k)}@10`,
    `${toHex(enc("l"))}@5`,
  ]);
  assert.equal(mt.get(k, 9), undefined);
  const v10 = { type: TYPE_PUT, value: enc("v10"), seq: 10 };
  const v20 = { type: TYPE_PUT, value: enc("v20"), seq: 20 };
  assert.deepEqual(mt.get(k, 10), v10);
  assert.deepEqual(mt.get(k, 19), v10);
  assert.deepEqual(mt.get(k, 20), v20);
  assert.deepEqual(mt.get(k, 29), v20);
  const deleted = { type: TYPE_DELETE, value: new Uint8Array(0), seq: 30 };
  assert.deepEqual(mt.get(k, 30), deleted);
  assert.deepEqual(mt.get(k, MAX_SEQUENCE), deleted);
  assert.equal(mt.get(enc("l"), 4), undefined);
  assert.equal(mt.count, 5);
});

Deno.test("memtable: sequence numbers above 2^32 and up to 2^53 - 1", () => {
  const mt = new MemTable();
  const k = enc("big");
  const seqs = [
    0,
    1,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
    2 ** 40 + 3,
    MAX_SEQUENCE - 1,
    MAX_SEQUENCE,
  ];
  for (const s of [...seqs].reverse()) mt.add(s, TYPE_PUT, k, enc(String(s)));
  const it = mt.iterator();
  const got: number[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) got.push(it.seq());
  assert.deepEqual(got, [...seqs].reverse());
  for (const s of seqs) {
    assert.deepEqual(mt.get(k, s)?.value, enc(String(s)));
    it.seek(k, s);
    assert.equal(it.seq(), s);
    it.seekForPrev(k, s);
    assert.equal(it.seq(), s);
  }
  assert.deepEqual(mt.get(k, 2 ** 32 + 2)?.value, enc(String(2 ** 32 + 1)));
});

Deno.test("memtable: seek, seekForPrev, next, prev and direction switches", () => {
  const mt = new MemTable();
  // Keys 2, 4, 6 with seqs 1 and 2 each.
  let seq = 1;
  for (const key of [4, 2, 6]) {
    mt.add(seq++, TYPE_PUT, b(key), b(key, 1));
    mt.add(seq++, TYPE_PUT, b(key), b(key, 2));
  }
  // Internal order: 2@4 2@3 4@2 4@1 6@6 6@5.
  const it = mt.iterator();
  assert.equal(it.valid(), false);
  const at = () => (it.valid() ? `${it.key()[0]}@${it.seq()}` : "none");

  it.seek(b(4), MAX_SEQUENCE);
  assert.equal(at(), "4@2");
  it.seek(b(4), 1);
  assert.equal(at(), "4@1");
  it.seek(b(4), 0);
  assert.equal(at(), "6@6");
  it.seek(b(1), 0);
  assert.equal(at(), "2@4");
  it.seek(b(7), MAX_SEQUENCE);
  assert.equal(at(), "none");
  it.seek(b(6, 0), MAX_SEQUENCE);
  assert.equal(at(), "none");

  it.seekForPrev(b(4), MAX_SEQUENCE);
  assert.equal(at(), "2@3");
  it.seekForPrev(b(4), 2);
  assert.equal(at(), "4@2");
  it.seekForPrev(b(4), 0);
  assert.equal(at(), "4@1");
  it.seekForPrev(b(2), 5);
  assert.equal(at(), "none");
  it.seekForPrev(b(9), 0);
  assert.equal(at(), "6@5");
  it.seekForPrev(b(4, 0), MAX_SEQUENCE);
  assert.equal(at(), "4@1");

  it.seek(b(4), 1);
  it.prev();
  assert.equal(at(), "4@2");
  it.prev();
  assert.equal(at(), "2@3");
  it.next();
  assert.equal(at(), "4@2");
  it.next();
  it.next();
  assert.equal(at(), "6@6");
  it.prev();
  assert.equal(at(), "4@1");
  it.seekToFirst();
  it.prev();
  assert.equal(at(), "none");
  it.seekToLast();
  assert.equal(at(), "6@5");
  assert.deepEqual(it.value(), b(6, 1));
  assert.equal(it.type(), TYPE_PUT);
  it.next();
  assert.equal(at(), "none");

  const empty = new MemTable().iterator();
  empty.seekToFirst();
  assert.equal(empty.valid(), false);
  empty.seekToLast();
  assert.equal(empty.valid(), false);
  empty.seek(b(1), 1);
  assert.equal(empty.valid(), false);
  empty.seekForPrev(b(1), 1);
  assert.equal(empty.valid(), false);
});

Deno.test("memtable: iterators stay valid and see entries added meanwhile", () => {
  const mt = new MemTable();
  for (let i = 0; i < 100; i += 10) mt.add(i + 1, TYPE_PUT, b(i), b(i));
  const it = mt.iterator();
  it.seek(b(50), MAX_SEQUENCE);
  // Enough entries to grow the node arena several times.
  for (let i = 0; i < 20_000; i++) {
    mt.add(1000 + i, TYPE_PUT, b(200, i >> 8, i & 255), b(0));
  }
  mt.add(5000000, TYPE_PUT, b(55), b(55));
  mt.add(5000001, TYPE_PUT, b(45), b(45));
  assert.deepEqual(it.key(), b(50));
  it.next();
  assert.deepEqual(it.key(), b(55));
  it.prev();
  it.prev();
  assert.deepEqual(it.key(), b(45));
  assert.equal(mt.count, 20_012);
});

Deno.test("memtable: approximateBytes counts keys, values and overhead", () => {
  const mt = new MemTable();
  assert.equal(mt.approximateBytes, 0);
  mt.add(1, TYPE_PUT, new Uint8Array(16), new Uint8Array(100));
  const one = mt.approximateBytes;
  assert.ok(one > 116 && one < 116 + 200, `one entry: ${one}`);
  mt.add(2, TYPE_PUT, new Uint8Array(16), new Uint8Array(1000));
  assert.equal(mt.approximateBytes, 2 * one + 900);
});

Deno.test("memtable: owns its bytes, callers may reuse their buffers", () => {
  const mt = new MemTable();
  // One buffer reused for every entry, as a write batch decoder might.
  const key = new Uint8Array(24);
  const value = new Uint8Array(8);
  const fill = (i: number) => {
    key.fill(i);
    value.fill(100 + i);
  };
  for (let i = 0; i < 50; i++) {
    fill(i);
    mt.add(i + 1, TYPE_PUT, key, value);
  }
  // Overwrite again after the last add.
  key.fill(0xee);
  value.fill(0xee);
  const it = mt.iterator();
  let i = 0;
  for (it.seekToFirst(); it.valid(); it.next(), i++) {
    assert.deepEqual(it.key(), new Uint8Array(24).fill(i));
    assert.deepEqual(it.value(), new Uint8Array(8).fill(100 + i));
  }
  assert.equal(i, 50);
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(
      mt.get(new Uint8Array(24).fill(i), MAX_SEQUENCE)?.value,
      new Uint8Array(8).fill(100 + i),
    );
  }
  assert.equal(mt.get(key, MAX_SEQUENCE), undefined);
});

Deno.test("memtable: key() and value() views are cached per position", () => {
  const mt = new MemTable();
  mt.add(1, TYPE_PUT, enc("a"), enc("1"));
  mt.add(2, TYPE_PUT, enc("b"), enc("2"));
  const it = mt.iterator();
  it.seekToFirst();
  const k = it.key();
  const v = it.value();
  assert.equal(it.key(), k);
  assert.equal(it.value(), v);
  it.next();
  assert.deepEqual(it.key(), enc("b"));
  assert.deepEqual(it.value(), enc("2"));
  // The old views still show their own entry.
  assert.deepEqual(k, enc("a"));
  assert.deepEqual(v, enc("1"));
  it.prev();
  assert.deepEqual(it.key(), enc("a"));
  assert.deepEqual(it.value(), enc("1"));
});

Deno.test("memtable: entries spanning chunks, huge values and empty values", () => {
  const mt = new MemTable();
  const rand = rng(11);
  const bytes = (n: number, seed: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 255;
    return out;
  };
  // Positioned before the chunks fill up; its entry must not move.
  mt.add(1_000_000, TYPE_PUT, enc("zz"), enc("one"));
  const early = mt.iterator();
  early.seekToFirst();
  // Sizes around the 64 KiB dedicated-chunk limit and the 256 KiB chunk,
  // mixed with small ones so entries land at chunk ends.
  const sizes = [
    0,
    1,
    100,
    4000,
    65_536 - 20,
    65_536 - 19,
    65_536,
    70_000,
    200_000,
    262_144,
    1_000_000,
  ];
  const want = new Map<string, Uint8Array>();
  for (let i = 0; i < 400; i++) {
    const key = enc(`key:${String(i).padStart(20, "0")}`); // 24 bytes
    const size = i % 5 === 0
      ? sizes[Math.floor(rand() * sizes.length)]!
      : Math.floor(rand() * 3000);
    const value = bytes(size, i);
    mt.add(i + 1, TYPE_PUT, key, value);
    want.set(toHex(key), value.slice());
    value.fill(0); // the copy must not see this
  }
  const it = mt.iterator();
  let n = 0;
  for (it.seekToFirst(); it.valid(); it.next(), n++) {
    if (toHex(it.key()) === toHex(enc("zz"))) continue;
    const v = want.get(toHex(it.key()));
    assert.ok(v, `unexpected key ${toHex(it.key())}`);
    assert.deepEqual(it.value(), v);
  }
  assert.equal(n, 401);
  assert.deepEqual(early.key(), enc("zz"));
  assert.deepEqual(early.value(), enc("one"));
  early.prev();
  assert.equal(early.valid(), true);
  assert.equal(toHex(early.key()), [...want.keys()].sort().at(-1));
  for (const [hex, v] of want) {
    const key = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    assert.deepEqual(mt.get(key, MAX_SEQUENCE)?.value, v);
  }
  let total = 5 + 3;
  for (const v of want.values()) total += 24 + v.length;
  assert.ok(mt.approximateBytes > total);
  assert.ok(mt.approximateBytes < total + 401 * 200);
});

/** The sorted-array model of a memtable. */
class Model {
  entries: Entry[] = [];
  add(e: Entry): void {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.entries[mid]!;
      if (compareInternal(m.key, m.seq, e.key, e.seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.entries.splice(lo, 0, e);
  }
  /** Index of the first entry >= (key, seq). */
  lowerBound(key: Uint8Array, seq: number): number {
    return this.entries.findIndex((m) =>
      compareInternal(m.key, m.seq, key, seq) >= 0
    );
  }
  get(key: Uint8Array, seq: number): Entry | undefined {
    const i = this.lowerBound(key, seq);
    const m = i < 0 ? undefined : this.entries[i];
    return m && toHex(m.key) === toHex(key) ? m : undefined;
  }
}

function randomKey(rand: () => number): Uint8Array {
  // A tiny alphabet and lengths around 16 make shared prefixes, equal
  // keys and inline/overflow boundaries common.
  const alphabet = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
  const lengths = [1, 2, 3, 4, 5, 15, 16, 17, 18, 24];
  const len = lengths[Math.floor(rand() * lengths.length)]!;
  const key = new Uint8Array(len);
  const fill = rand() < 0.5 ? 0 : 0xff;
  for (let i = 0; i < len; i++) {
    key[i] = rand() < 0.7
      ? fill
      : alphabet[Math.floor(rand() * alphabet.length)]!;
  }
  return key;
}

Deno.test("memtable: randomized against a sorted-array model", () => {
  for (const seed of seeds([1, 2, 3])) {
    withSeed(seed, (rand) => {
      const mt = new MemTable();
      const model = new Model();
      const it = mt.iterator();
      let pos: Entry | undefined; // the model iterator's current entry
      const used = new Set<string>();
      let maxSeq = 0;
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const check = () => {
        if (pos === undefined) {
          assert.equal(it.valid(), false);
        } else {
          assert.equal(it.valid(), true);
          assert.equal(toHex(it.key()), toHex(pos.key));
          assert.equal(it.seq(), pos.seq);
          assert.equal(it.type(), pos.type);
          assert.deepEqual(it.value(), pos.value);
        }
      };
      const indexOf = (e: Entry) => model.entries.indexOf(e);
      for (let step = 0; step < 4000; step++) {
        const r = rand();
        if (r < 0.45 || model.entries.length === 0) {
          const key = rand() < 0.3 && model.entries.length > 0
            ? pick(model.entries).key
            : randomKey(rand);
          let seq = Math.floor(rand() * 1000);
          if (rand() < 0.1) seq += 2 ** 32 + Math.floor(rand() * 2 ** 20);
          const id = `${toHex(key)}@${seq}`;
          if (used.has(id)) continue;
          used.add(id);
          maxSeq = Math.max(maxSeq, seq);
          const type = rand() < 0.2 ? TYPE_DELETE : TYPE_PUT;
          const e = { key, seq, type, value: enc(id) } as Entry;
          mt.add(seq, type, key, e.value);
          model.add(e);
          assert.equal(mt.count, model.entries.length);
        } else if (r < 0.6) {
          const key = rand() < 0.6 ? pick(model.entries).key : randomKey(rand);
          const seq = rand() < 0.2 ? MAX_SEQUENCE : Math.floor(rand() * 1100);
          const want = model.get(key, seq);
          const got = mt.get(key, seq);
          if (want === undefined) assert.equal(got, undefined);
          else {
            assert.deepEqual(got, {
              type: want.type,
              value: want.value,
              seq: want.seq,
            });
          }
        } else if (r < 0.7) {
          const key = rand() < 0.6 ? pick(model.entries).key : randomKey(rand);
          const seq = rand() < 0.2 ? MAX_SEQUENCE : Math.floor(rand() * 1100);
          if (rand() < 0.5) {
            it.seek(key, seq);
            const i = model.lowerBound(key, seq);
            pos = i < 0 ? undefined : model.entries[i];
          } else {
            it.seekForPrev(key, seq);
            const i = model.entries.findLastIndex((m) =>
              compareInternal(m.key, m.seq, key, seq) <= 0
            );
            pos = i < 0 ? undefined : model.entries[i];
          }
          check();
        } else if (r < 0.75) {
          if (rand() < 0.5) {
            it.seekToFirst();
            pos = model.entries[0];
          } else {
            it.seekToLast();
            pos = model.entries.at(-1);
          }
          check();
        } else if (pos !== undefined) {
          // Walk a few steps; entries added since positioning count.
          const forward = rand() < 0.5;
          const n = 1 + Math.floor(rand() * 5);
          for (let s = 0; s < n && pos !== undefined; s++) {
            const i = indexOf(pos);
            if (forward) {
              it.next();
              pos = model.entries[i + 1];
            } else {
              it.prev();
              pos = i === 0 ? undefined : model.entries[i - 1];
            }
            check();
          }
        }
      }
      assert.deepEqual(
        collect(mt.iterator()),
        model.entries.map((e) => `${toHex(e.key)}@${e.seq}`),
      );
      assert.deepEqual(
        collect(mt.iterator(), true),
        model.entries.map((e) => `${toHex(e.key)}@${e.seq}`).reverse(),
      );
    });
  }
});

Deno.test("memtable: 100,000 sequential then random keys keep order", () => {
  const mt = new MemTable();
  const n = 50_000;
  const key = (i: number) => enc(String(i).padStart(16, "0"));
  for (let i = 0; i < n; i++) mt.add(i + 1, TYPE_PUT, key(2 * i), b(1));
  const rand = rng(7);
  for (let i = 0; i < n; i++) {
    const k = 2 * Math.floor(rand() * n) + 1;
    mt.add(n + i + 1, TYPE_PUT, key(k), b(2));
  }
  const it = mt.iterator();
  let prevKey: Uint8Array | undefined;
  let prevSeq = 0;
  let count = 0;
  for (it.seekToFirst(); it.valid(); it.next()) {
    if (prevKey !== undefined) {
      assert.ok(compareInternal(prevKey, prevSeq, it.key(), it.seq()) < 0);
    }
    prevKey = it.key();
    prevSeq = it.seq();
    count++;
  }
  assert.equal(count, 2 * n);
  for (let i = 0; i < n; i += 97) {
    assert.deepEqual(mt.get(key(2 * i), MAX_SEQUENCE)?.value, b(1));
  }
});
