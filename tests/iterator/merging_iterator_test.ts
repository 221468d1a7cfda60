import assert from "node:assert/strict";
import { ScratchIterator } from "../fixtures/scratch_iterator.ts";
import { rng, seeds } from "../fixtures/rng.ts";
import { MergingIterator } from "../../lib/iterator/merging_iterator.ts";
import { MemTable } from "../../lib/memtable/memtable.ts";
import {
  compareInternal,
  type InternalIterator,
  MAX_SEQUENCE,
  TYPE_DELETE,
  TYPE_PUT,
} from "../../lib/iterator/internal_key.ts";
import { toHex } from "../../lib/util/bytes.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

interface Row {
  key: Uint8Array;
  seq: number;
  child: number;
}

function label(it: InternalIterator): string {
  if (!it.valid()) return "none";
  // Values are [child] so the test can tell which child an entry came from.
  return `${toHex(it.key())}@${it.seq()}#${it.value()[0]}`;
}

function rowLabel(r: Row | undefined): string {
  return r === undefined ? "none" : `${toHex(r.key)}@${r.seq}#${r.child}`;
}

function compareRows(x: Row, y: Row): number {
  return compareInternal(x.key, x.seq, y.key, y.seq) || x.child - y.child;
}

Deno.test("merging iterator: merges in internal order, lower child first on ties", () => {
  const a = new MemTable();
  const c = new MemTable();
  const d = new MemTable();
  a.add(5, TYPE_PUT, b(1), b(0));
  a.add(3, TYPE_PUT, b(3), b(0));
  c.add(4, TYPE_PUT, b(1), b(1));
  c.add(3, TYPE_DELETE, b(3), b(1)); // same (key, seq) as in a
  c.add(9, TYPE_PUT, b(2), b(1));
  d.add(6, TYPE_PUT, b(1), b(2));
  const it = new MergingIterator([
    a.iterator(),
    c.iterator(),
    new MemTable().iterator(),
    d.iterator(),
  ]);
  const fwd: string[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) fwd.push(label(it));
  assert.deepEqual(fwd, [
    "01@6#2",
    "01@5#0",
    "01@4#1",
    "02@9#1",
    "03@3#0",
    "03@3#1",
  ]);
  const back: string[] = [];
  for (it.seekToLast(); it.valid(); it.prev()) back.push(label(it));
  assert.deepEqual(back, [...fwd].reverse());

  it.seek(b(3), 3);
  assert.equal(label(it), "03@3#0");
  assert.equal(it.type(), TYPE_PUT);
  it.next();
  assert.equal(label(it), "03@3#1");
  assert.equal(it.type(), TYPE_DELETE);
  it.prev();
  assert.equal(label(it), "03@3#0");
  it.prev();
  assert.equal(label(it), "02@9#1");
  it.next();
  assert.equal(label(it), "03@3#0");
  it.seekForPrev(b(3), 3);
  assert.equal(label(it), "03@3#1");
  it.prev();
  assert.equal(label(it), "03@3#0");
  it.next();
  assert.equal(label(it), "03@3#1");
  it.next();
  assert.equal(label(it), "none");

  const none = new MergingIterator([]);
  none.seekToFirst();
  assert.equal(none.valid(), false);
  none.seekForPrev(b(1), MAX_SEQUENCE);
  assert.equal(none.valid(), false);
});

Deno.test("merging iterator: randomized against a merged sorted model", () => {
  for (const seed of seeds()) {
    try {
      runRandomized(seed);
    } catch (err) {
      console.error(`failing seed: ${seed}`);
      throw err;
    }
  }
});

function runRandomized(seed: number): void {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  for (let round = 0; round < 12; round++) {
    const nChildren = Math.floor(rand() * 8);
    const tables = Array.from({ length: nChildren }, () => new MemTable());
    const rows: Row[] = [];
    const keySpace = 1 + Math.floor(rand() * 40);
    const seqSpace = 1 + Math.floor(rand() * 30);
    const perChild = new Array<Set<string>>(nChildren);
    for (let c = 0; c < nChildren; c++) {
      perChild[c] = new Set();
      const n = Math.floor(rand() * (rand() < 0.2 ? 3 : 60));
      for (let i = 0; i < n; i++) {
        const kv = Math.floor(rand() * keySpace);
        const key = kv % 3 === 0
          ? b(kv)
          : kv % 3 === 1
          ? b(kv, 0)
          : b(0xff, kv);
        // Small seq spaces make equal (key, seq) across children common.
        const seq = Math.floor(rand() * seqSpace);
        const id = `${toHex(key)}@${seq}`;
        if (perChild[c]!.has(id)) continue;
        perChild[c]!.add(id);
        tables[c]!.add(seq, rand() < 0.3 ? TYPE_DELETE : TYPE_PUT, key, b(c));
        rows.push({ key, seq, child: c });
      }
    }
    rows.sort(compareRows);
    const children = tables.map((t) =>
      rand() < 0.5 ? t.iterator() : new ScratchIterator(t.iterator())
    );
    const it = new MergingIterator(children);

    let forward: string[] = [];
    for (it.seekToFirst(); it.valid(); it.next()) forward.push(label(it));
    assert.deepEqual(forward, rows.map(rowLabel));
    forward = [];
    for (it.seekToLast(); it.valid(); it.prev()) forward.push(label(it));
    assert.deepEqual(forward, rows.map(rowLabel).reverse());

    let pos = -1; // index into rows; -1 or rows.length when not valid
    for (let step = 0; step < 400; step++) {
      const r = rand();
      const probeKey = rows.length > 0 && rand() < 0.7
        ? pick(rows).key
        : b(Math.floor(rand() * 50));
      const probeSeq = rand() < 0.1
        ? MAX_SEQUENCE
        : Math.floor(rand() * (seqSpace + 1));
      if (r < 0.1) {
        it.seek(probeKey, probeSeq);
        pos = rows.findIndex((x) =>
          compareInternal(x.key, x.seq, probeKey, probeSeq) >= 0
        );
        if (pos < 0) pos = rows.length;
      } else if (r < 0.2) {
        it.seekForPrev(probeKey, probeSeq);
        pos = rows.findLastIndex((x) =>
          compareInternal(x.key, x.seq, probeKey, probeSeq) <= 0
        );
      } else if (r < 0.23) {
        it.seekToFirst();
        pos = 0;
      } else if (r < 0.26) {
        it.seekToLast();
        pos = rows.length - 1;
      } else if (pos >= 0 && pos < rows.length) {
        if (rand() < 0.5) {
          it.next();
          pos++;
        } else {
          it.prev();
          pos--;
        }
      }
      assert.equal(label(it), rowLabel(rows[pos]), `step ${step}`);
      if (it.valid()) {
        const want = rows[pos]!;
        const inner = tables[want.child]!.iterator();
        inner.seek(want.key, want.seq);
        assert.equal(it.type(), inner.type());
      }
    }
  }
}

Deno.test("merging iterator: many children and long runs", () => {
  const rand = rng(11);
  const tables = Array.from({ length: 30 }, () => new MemTable());
  const rows: Row[] = [];
  for (let i = 0; i < 6000; i++) {
    const c = Math.floor(rand() * 30);
    const key = b(Math.floor(rand() * 256), Math.floor(rand() * 256));
    tables[c]!.add(i, TYPE_PUT, key, b(c));
    rows.push({ key, seq: i, child: c });
  }
  rows.sort(compareRows);
  const it = new MergingIterator(tables.map((t) => t.iterator()));
  // Zigzag: two steps forward, one back, through the whole range.
  let pos = 0;
  it.seekToFirst();
  while (pos + 2 < rows.length) {
    assert.equal(label(it), rowLabel(rows[pos]));
    it.next();
    it.next();
    it.prev();
    pos++;
  }
  for (; pos < rows.length; pos++, it.next()) {
    assert.equal(label(it), rowLabel(rows[pos]));
  }
  assert.equal(label(it), "none");
  // And back down, one step back and two... mirrored.
  it.seekToLast();
  pos = rows.length - 1;
  while (pos - 2 >= 0) {
    assert.equal(label(it), rowLabel(rows[pos]));
    it.prev();
    it.prev();
    it.next();
    pos--;
  }
});
