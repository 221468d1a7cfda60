import assert from "node:assert/strict";
import {
  BloomFilter,
  BloomFilterBuilder,
  bloomHash,
  MAX_PROBES,
  probesFor,
} from "../../lib/sstable/bloom.ts";
import { InvalidArgumentError } from "../../lib/util/errors.ts";

function keyOf(i: number, tag: number): Uint8Array {
  // Structured keys like an application's ("user:<n>"), where a weak hash
  // would cluster.
  return new TextEncoder().encode(`${tag === 0 ? "user" : "absent"}:${i}`);
}

Deno.test("bloomHash is MurmurHash3 with LevelDB's seed (on-disk format)", () => {
  const enc = new TextEncoder();
  assert.equal(bloomHash(enc.encode("")), 0x3f177186);
  assert.equal(bloomHash(enc.encode("a")), 0x6dba6b55);
  assert.equal(bloomHash(enc.encode("hello")), 0xdef78c91);
  assert.equal(
    bloomHash(enc.encode("The quick brown fox jumps over the lazy dog")),
    0xbe444469,
  );
});

Deno.test("bloom filter has no false negatives for keys of every length", () => {
  const b = new BloomFilterBuilder(10);
  const keys: Uint8Array[] = [];
  for (let len = 0; len < 70; len++) {
    for (let j = 0; j < 50; j++) {
      const k = new Uint8Array(len);
      for (let i = 0; i < len; i++) k[i] = (i * 31 + j * 7 + len) & 0xff;
      keys.push(k);
      b.add(k);
    }
  }
  const f = new BloomFilter(b.finish());
  for (const k of keys) assert.ok(f.mayContain(k));
});

Deno.test("bloom false-positive rate at 10 bits per key is near theory", () => {
  const n = 100_000;
  const b = new BloomFilterBuilder(10);
  for (let i = 0; i < n; i++) b.add(keyOf(i, 0));
  const bytes = b.finish();
  const f = new BloomFilter(bytes);
  assert.equal(f.k, 7);
  assert.equal(bytes.length, n * 10 / 8 + 1);
  for (let i = 0; i < n; i++) assert.ok(f.mayContain(keyOf(i, 0)));
  let fp = 0;
  for (let i = 0; i < n; i++) if (f.mayContain(keyOf(i, 1))) fp++;
  const rate = fp / n;
  const theory = (1 - Math.exp(-7 / 10)) ** 7;
  console.log(
    `false positives: ${(rate * 100).toFixed(3)}% (theory ${
      (theory * 100).toFixed(3)
    }%)`,
  );
  assert.ok(rate < 0.02, `false-positive rate ${rate} is above 2%`);
});

Deno.test("probe count is round(bitsPerKey × ln 2) clamped to 1..30", () => {
  assert.equal(probesFor(1), 1);
  assert.equal(probesFor(2), 1);
  assert.equal(probesFor(10), 7);
  assert.equal(probesFor(20), 14);
  assert.equal(probesFor(64), MAX_PROBES);
  const b = new BloomFilterBuilder(3);
  b.add(new Uint8Array([1]));
  const bytes = b.finish();
  assert.equal(bytes[bytes.length - 1], 2);
  assert.equal(bytes.length, 64 / 8 + 1); // minimum of 64 bits
});

Deno.test("filter of no keys rejects everything; empty bytes accept everything", () => {
  const none = new BloomFilter(new BloomFilterBuilder(10).finish());
  assert.equal(none.mayContain(new Uint8Array([1, 2])), false);
  assert.equal(none.mayContain(new Uint8Array(0)), false);
  const off = new BloomFilterBuilder(0);
  off.add(new Uint8Array([1]));
  const disabled = new BloomFilter(off.finish());
  assert.equal(disabled.byteLength, 0);
  assert.equal(disabled.mayContain(new Uint8Array([9])), true);
  // A reserved k (future encodings) matches everything too.
  const reserved = new Uint8Array(9);
  reserved[8] = MAX_PROBES + 1;
  assert.equal(new BloomFilter(reserved).mayContain(new Uint8Array([9])), true);
});

Deno.test("bloom builder refuses bad bits per key", () => {
  for (const bad of [-1, 1.5, 65, Number.NaN]) {
    assert.throws(() => new BloomFilterBuilder(bad), InvalidArgumentError);
  }
});

Deno.test("bloom builder grows past its initial hash buffer", () => {
  const b = new BloomFilterBuilder(10);
  for (let i = 0; i < 5000; i++) b.add(keyOf(i, 0));
  assert.equal(b.keys, 5000);
  const f = new BloomFilter(b.finish());
  for (let i = 0; i < 5000; i++) assert.ok(f.mayContain(keyOf(i, 0)));
});
