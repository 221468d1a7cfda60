// LZ4 block codec: round trips of every kind of input (runs, repeats far
// and near, random bytes, the end-of-block edge cases), agreement with an
// independent implementation (npm:lz4js) in both directions, and damaged
// blocks that must be an Lz4Error, never a crash or wrong bytes.
// deno-lint-ignore-file no-import-prefix

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import * as lz4js from "npm:lz4js@0.2.0";
import {
  lz4Compress,
  lz4CompressBound,
  lz4Decompress,
  Lz4Error,
} from "../../lib/util/lz4.ts";

function compress(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(lz4CompressBound(input.length));
  return out.subarray(0, lz4Compress(input, out, 0));
}

function roundTrip(input: Uint8Array): Uint8Array {
  const packed = compress(input);
  const back = new Uint8Array(input.length);
  lz4Decompress(packed, back);
  assert.deepEqual(back, input);
  return packed;
}

/** Bytes with structure: runs, copies of earlier stretches, random spans. */
const structured = fc.array(
  fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 40 }),
    fc.record({ byte: fc.integer({ min: 0, max: 255 }), n: fc.nat(300) }),
    fc.record({ back: fc.nat(70_000), n: fc.integer({ min: 1, max: 400 }) }),
  ),
  { maxLength: 60 },
).map((parts) => {
  const out: number[] = [];
  for (const p of parts) {
    if (p instanceof Uint8Array) out.push(...p);
    else if ("byte" in p) { for (let i = 0; i < p.n; i++) out.push(p.byte); }
    else {
      const from = Math.max(0, out.length - 1 - p.back);
      for (let i = 0; i < p.n && out.length > 0; i++) out.push(out[from + i]!);
    }
  }
  return new Uint8Array(out);
});

Deno.test("lz4: structured bytes round trip, and shrink when they repeat", () => {
  fc.assert(
    fc.property(structured, (input) => {
      roundTrip(input);
    }),
    { numRuns: 400 },
  );
  const text = new TextEncoder().encode("the quick brown fox ".repeat(200));
  assert(roundTrip(text).length < text.length / 10);
});

Deno.test("lz4: edge sizes, runs and incompressible bytes", () => {
  for (let n = 0; n <= 40; n++) {
    roundTrip(new Uint8Array(n)); // zeros: one long run
    roundTrip(crypto.getRandomValues(new Uint8Array(n)));
    roundTrip(Uint8Array.from({ length: n }, (_, i) => i % 3));
  }
  const random = new Uint8Array(1 << 20);
  for (let i = 0; i < random.length; i += 65536) {
    crypto.getRandomValues(random.subarray(i, i + 65536));
  }
  const packed = roundTrip(random);
  assert(packed.length <= lz4CompressBound(random.length));
  assert(packed.length > random.length, "random bytes do not shrink");
  // Lengths that need many continuation bytes, both literal and match.
  const mixed = new Uint8Array(200_000);
  mixed.set(random.subarray(0, 70_000), 0);
  roundTrip(mixed);
});

Deno.test("lz4: blocks agree with npm:lz4js in both directions", () => {
  fc.assert(
    fc.property(structured, (input) => {
      // Ours decoded by lz4js.
      const ours = compress(input);
      const back = new Uint8Array(input.length);
      const n = lz4js.decompressBlock(ours, back, 0, ours.length, 0);
      assert.equal(n, input.length);
      assert.deepEqual(back, input);
      // lz4js's decoded by ours.
      if (input.length === 0) return;
      const theirs = new Uint8Array(lz4js.compressBound(input.length));
      const size = lz4js.compressBlock(
        input,
        theirs,
        0,
        input.length,
        new Uint32Array(1 << 16),
      );
      if (size === 0) return; // lz4js declines incompressible input
      const mine = new Uint8Array(input.length);
      lz4Decompress(theirs.subarray(0, size), mine);
      assert.deepEqual(mine, input);
    }),
    { numRuns: 300 },
  );
});

Deno.test("lz4: damaged blocks are an Lz4Error, never a crash or wrong bytes", () => {
  fc.assert(
    fc.property(
      structured.filter((b) => b.length > 0),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(),
      (input, flips, cut) => {
        const packed = compress(input);
        const damaged = packed.slice();
        for (const [at, x] of flips) damaged[at % damaged.length]! ^= x;
        for (const bad of [damaged, packed.subarray(0, cut % packed.length)]) {
          const out = new Uint8Array(input.length);
          try {
            lz4Decompress(bad, out);
          } catch (err) {
            assert(err instanceof Lz4Error, String(err));
            continue;
          }
          // A flip can decode: then it fills the output exactly (the block's
          // checksum, one level up, tells it apart from the original).
          assert.equal(out.length, input.length);
        }
      },
    ),
    { numRuns: 500 },
  );
  // A match reaching before the start of the output: one literal "a",
  // then a match of 4 bytes 2 back (1 would be a run of "a").
  assert.throws(
    () =>
      lz4Decompress(new Uint8Array([0x10, 0x61, 2, 0, 0]), new Uint8Array(5)),
    Lz4Error,
  );
  const run = new Uint8Array(5);
  lz4Decompress(new Uint8Array([0x10, 0x61, 1, 0, 0]), run);
  assert.deepEqual(run, new TextEncoder().encode("aaaaa"));
  // Output of the wrong size is refused.
  const packed = compress(new TextEncoder().encode("hello hello hello hello"));
  assert.throws(() => lz4Decompress(packed, new Uint8Array(5)), Lz4Error);
  assert.throws(() => lz4Decompress(packed, new Uint8Array(50)), Lz4Error);
  assert.throws(
    () => lz4Decompress(new Uint8Array(0), new Uint8Array(0)),
    Lz4Error,
  );
});
