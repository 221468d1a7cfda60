import assert from "node:assert/strict";
import { crc32c } from "../../lib/util/crc32c.ts";

// The model: one table built bit by bit, then one byte at a time.
const REF_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let x = 0; x < 256; x++) {
    let c = x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[x] = c;
  }
  return t;
})();

function reference(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) {
    c = REF_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function newSeed(name: string): number {
  const seed = Number(Deno.env.get("SEED") ?? (Date.now() >>> 0));
  console.log(`${name}: seed ${seed} (rerun with SEED=${seed})`);
  return seed;
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = next();
  return new Uint8Array(words.buffer, 0, n);
}

Deno.test("crc32c matches the published check value", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(0), 0x12345678), 0x12345678);
});

Deno.test("crc32c matches the RFC 3720 test vectors", () => {
  const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
  const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(ascending), 0x46dd794e);
  assert.equal(crc32c(descending), 0x113fdb5c);
});

Deno.test("crc32c equals a bytewise model on unaligned random slices", () => {
  const next = prng(newSeed("crc32c random slices"));
  const pool = randomBytes(next, 4096);
  const before = pool.slice();
  for (let iter = 0; iter < 4000; iter++) {
    const len = next() % 301;
    const off = next() % (pool.length - len);
    const crc = next() % 4 === 0 ? 0 : next();
    const slice = pool.subarray(off, off + len);
    assert.equal(
      crc32c(slice, crc),
      reference(slice, crc),
      `length ${len}, offset ${off}, crc ${crc}`,
    );
  }
  // The WebAssembly path works on a copy: the caller's bytes are untouched.
  assert.deepEqual(pool, before);
});

Deno.test("crc32c equals the model at group and chunk boundaries", () => {
  const next = prng(newSeed("crc32c boundaries"));
  const pool = randomBytes(next, 3 * 65536 + 256);
  // 79/80: the switch to WebAssembly; multiples of 1024: its groups; of
  // 65536: its pieces, the last one long or short.
  const lengths = [79, 80, 81, 95, 96, 97, 1023, 1024, 1025, 1040, 2047, 2048];
  for (const base of [4096, 65536, 2 * 65536]) {
    for (const delta of [-17, -16, -1, 0, 1, 3, 16, 31, 32, 79, 80, 1000]) {
      lengths.push(base + delta);
    }
  }
  for (const len of lengths) {
    for (const off of [0, 1, 2, 3, 5, 17]) {
      const crc = next();
      const slice = pool.subarray(off, off + len);
      assert.equal(
        crc32c(slice, crc),
        reference(slice, crc),
        `length ${len}, offset ${off}, crc ${crc}`,
      );
    }
  }
});

Deno.test("crc32c continues across random split points", () => {
  const next = prng(newSeed("crc32c continuation"));
  const pool = randomBytes(next, 70000);
  for (let iter = 0; iter < 300; iter++) {
    const len = iter % 10 === 0 ? next() % pool.length : next() % 5000;
    const data = pool.subarray(next() % (pool.length - len)).subarray(0, len);
    const whole = crc32c(data);
    let crc = 0;
    let at = 0;
    const pieces = 1 + next() % 4;
    for (let p = 0; p < pieces; p++) {
      const end = p === pieces - 1 ? len : at + next() % (len - at + 1);
      crc = crc32c(data.subarray(at, end), crc);
      at = end;
    }
    assert.equal(crc, whole, `length ${len}, ${pieces} pieces`);
  }
});

Deno.test("crc32c of a 64 MiB input equals the model", () => {
  const next = prng(newSeed("crc32c 64 MiB"));
  const data = randomBytes(next, 64 * 1024 * 1024);
  const expected = reference(data);
  assert.equal(crc32c(data), expected);
  const cut = 33_554_433; // odd: the second half starts unaligned
  assert.equal(
    crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))),
    expected,
  );
});
