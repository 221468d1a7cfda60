/**
 * MemTable against the fastest thing JavaScript offers for keyed data, a
 * `Map` on string keys (unordered, so it is a floor, not a rival): inserts
 * of 1M sequential and 1M random 16-byte keys, point lookups at 1M, a
 * memtable of realistic size (4 MiB of 100-byte values) and a full scan.
 * Keys are db_bench's: 16 decimal digits. Each iteration does all N
 * operations, so ns/op = reported time / N.
 *
 * `MemTable.add` copies every key and value into its own chunks while
 * `Map.set` keeps a reference, so the inserts include the copies (and the
 * garbage collections that allocating their chunks triggers on this
 * bench's heap of millions of prepared keys). The iterator's `key()` and
 * `value()` each make a view per entry.
 *
 * Run: deno bench -A bench/memtable_bench.ts
 *
 * @module
 */

import { MemTable } from "../lib/memtable/memtable.ts";
import { MAX_SEQUENCE, TYPE_PUT } from "../lib/iterator/internal_key.ts";

const N = 1_000_000;
/** Entries of 16-byte keys and 100-byte values in a 4 MiB memtable. */
const SMALL_N = 25_000;

const encoder = new TextEncoder();
const value = new Uint8Array(100);

function keyText(i: number): string {
  return String(i).padStart(16, "0");
}

/** A seeded Fisher-Yates shuffle of 0..n-1, the same order every run. */
function permutation(n: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  let s = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

const order = permutation(N);
const seqStrings = Array.from({ length: N }, (_, i) => keyText(i));
const seqBytes = seqStrings.map((s) => encoder.encode(s));
const randStrings = Array.from(order, (i) => seqStrings[i]!);
const randBytes = Array.from(order, (i) => seqBytes[i]!);
const smallStrings = randStrings.slice(0, SMALL_N);
const smallBytes = randBytes.slice(0, SMALL_N);

function fillMap(keys: string[]): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (let i = 0; i < keys.length; i++) m.set(keys[i]!, value);
  return m;
}

function fillMemTable(keys: Uint8Array[]): MemTable {
  const mt = new MemTable();
  for (let i = 0; i < keys.length; i++) {
    mt.add(i + 1, TYPE_PUT, keys[i]!, value);
  }
  return mt;
}

const options = { n: 5, warmup: 1 };

Deno.bench({
  name: "Map.set, 1M sequential keys",
  group: "insert 1M sequential",
  baseline: true,
  ...options,
  fn: () => void fillMap(seqStrings),
});
Deno.bench({
  name: "MemTable.add, 1M sequential keys",
  group: "insert 1M sequential",
  ...options,
  fn: () => void fillMemTable(seqBytes),
});

Deno.bench({
  name: "Map.set, 1M random keys",
  group: "insert 1M random",
  baseline: true,
  ...options,
  fn: () => void fillMap(randStrings),
});
Deno.bench({
  name: "MemTable.add, 1M random keys",
  group: "insert 1M random",
  ...options,
  fn: () => void fillMemTable(randBytes),
});

Deno.bench({
  name: "Map.set, 25k random keys",
  group: "insert 25k random (a 4 MiB memtable)",
  baseline: true,
  fn: () => void fillMap(smallStrings),
});
Deno.bench({
  name: "MemTable.add, 25k random keys",
  group: "insert 25k random (a 4 MiB memtable)",
  fn: () => void fillMemTable(smallBytes),
});

let bigMap: Map<string, Uint8Array> | undefined;
let bigMemTable: MemTable | undefined;

Deno.bench({
  name: "Map.get, 1M random keys of 1M",
  group: "get 1M random",
  baseline: true,
  ...options,
  fn: (b) => {
    bigMap ??= fillMap(seqStrings);
    const m = bigMap;
    b.start();
    for (let i = 0; i < N; i++) {
      if (m.get(randStrings[i]!) === undefined) throw new Error("Missing key");
    }
    b.end();
  },
});
Deno.bench({
  name: "MemTable.get, 1M random keys of 1M",
  group: "get 1M random",
  ...options,
  fn: (b) => {
    bigMemTable ??= fillMemTable(seqBytes);
    const mt = bigMemTable;
    b.start();
    for (let i = 0; i < N; i++) {
      if (mt.get(randBytes[i]!, MAX_SEQUENCE) === undefined) {
        throw new Error("Missing key");
      }
    }
    b.end();
  },
});

Deno.bench({
  name: "Map iteration, 1M entries",
  group: "scan 1M",
  baseline: true,
  ...options,
  fn: (b) => {
    bigMap ??= fillMap(seqStrings);
    const m = bigMap;
    b.start();
    let bytes = 0;
    for (const [k, v] of m) bytes += k.length + v.length;
    b.end();
    if (bytes === 0) throw new Error("Empty scan");
  },
});
Deno.bench({
  name: "MemTable iterator, 1M entries",
  group: "scan 1M",
  ...options,
  fn: (b) => {
    bigMemTable ??= fillMemTable(seqBytes);
    const it = bigMemTable.iterator();
    b.start();
    let bytes = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      bytes += it.key().length + it.value().length;
    }
    b.end();
    if (bytes === 0) throw new Error("Empty scan");
  },
});
