import assert from "node:assert/strict";
import { ScratchIterator } from "../fixtures/scratch_iterator.ts";
import { rng, seeds } from "../fixtures/rng.ts";
import {
  UserIterator,
  type UserIteratorOptions,
} from "../../lib/iterator/user_iterator.ts";
import { MergingIterator } from "../../lib/iterator/merging_iterator.ts";
import { MemTable } from "../../lib/memtable/memtable.ts";
import {
  compareInternal,
  type EntryType,
  type InternalIterator,
  TYPE_DELETE,
  TYPE_PUT,
} from "../../lib/iterator/internal_key.ts";
import { compareBytes, fromUtf8, toHex, utf8 } from "../../lib/util/bytes.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

/** Runs a scan to the end and renders it as "key=value" strings. */
function drain(it: UserIterator): string[] {
  const out: string[] = [];
  for (let e = it.next(); e !== undefined; e = it.next()) {
    out.push(`${toHex(e.key)}=${toHex(e.value)}`);
  }
  assert.equal(it.next(), undefined);
  return out;
}

function scanText(
  source: InternalIterator,
  options: UserIteratorOptions,
): string {
  const it = new UserIterator(source, options);
  const out: string[] = [];
  for (let e = it.next(); e !== undefined; e = it.next()) {
    out.push(`${fromUtf8(e.key)}=${fromUtf8(e.value)}`);
  }
  return out.join(" ");
}

function fixture(): MemTable {
  const mt = new MemTable();
  const put = (seq: number, k: string, v: string) =>
    mt.add(seq, TYPE_PUT, utf8(k), utf8(v));
  const del = (seq: number, k: string) =>
    mt.add(seq, TYPE_DELETE, utf8(k), new Uint8Array(0));
  put(1, "a", "a1");
  put(2, "b", "b2");
  put(3, "c", "c3");
  put(4, "a", "a4");
  del(5, "b");
  put(6, "d", "d6");
  put(7, "b", "b7");
  del(8, "c");
  put(9, "a", "a9");
  return mt;
}

Deno.test("user iterator: newest visible version per key, tombstones hidden", () => {
  const mt = fixture();
  const both = (snapshot: number) => {
    const fwd = scanText(mt.iterator(), { snapshot, reverse: false });
    const rev = scanText(mt.iterator(), { snapshot, reverse: true });
    assert.equal(rev, fwd.split(" ").reverse().join(" "));
    return fwd;
  };
  assert.equal(both(0), "");
  assert.equal(both(1), "a=a1");
  assert.equal(both(3), "a=a1 b=b2 c=c3");
  assert.equal(both(4), "a=a4 b=b2 c=c3");
  assert.equal(both(5), "a=a4 c=c3");
  assert.equal(both(7), "a=a4 b=b7 c=c3 d=d6");
  assert.equal(both(8), "a=a4 b=b7 d=d6");
  assert.equal(both(9), "a=a9 b=b7 d=d6");
});

Deno.test("user iterator: bounds in both directions", () => {
  const mt = fixture();
  const scan = (
    reverse: boolean,
    lower: string | undefined,
    lowerInclusive: boolean,
    upper: string | undefined,
    upperInclusive: boolean,
  ) => {
    const options: UserIteratorOptions = {
      snapshot: 7,
      reverse,
      lowerInclusive,
      upperInclusive,
    };
    if (lower !== undefined) options.lower = utf8(lower);
    if (upper !== undefined) options.upper = utf8(upper);
    return scanText(mt.iterator(), options);
  };
  assert.equal(scan(false, "b", true, "c", true), "b=b7 c=c3");
  assert.equal(scan(false, "b", false, "c", true), "c=c3");
  assert.equal(scan(false, "b", true, "c", false), "b=b7");
  assert.equal(scan(false, "b", false, "d", false), "c=c3");
  assert.equal(scan(true, "b", true, "c", true), "c=c3 b=b7");
  assert.equal(scan(true, "b", false, "c", true), "c=c3");
  assert.equal(scan(true, "b", true, "c", false), "b=b7");
  assert.equal(scan(true, "a", false, "d", false), "c=c3 b=b7");
  assert.equal(scan(false, "bb", true, undefined, false), "c=c3 d=d6");
  assert.equal(scan(true, undefined, true, "bb", false), "b=b7 a=a4");
  assert.equal(scan(true, undefined, true, "d", true), "d=d6 c=c3 b=b7 a=a4");
  assert.equal(scan(false, "b", true, "b", true), "b=b7");
  assert.equal(scan(true, "b", true, "b", true), "b=b7");
  // Empty and inverted ranges.
  for (const reverse of [false, true]) {
    assert.equal(scan(reverse, "b", false, "b", true), "");
    assert.equal(scan(reverse, "b", true, "b", false), "");
    assert.equal(scan(reverse, "c", true, "b", true), "");
    assert.equal(scan(reverse, "e", true, undefined, false), "");
    assert.equal(scan(reverse, undefined, true, "a", false), "");
  }
});

Deno.test("user iterator: an empty or inverted range does not touch the source", () => {
  const source = new ScratchIterator(fixture().iterator());
  const it = new UserIterator(source, {
    snapshot: 9,
    reverse: true,
    lower: b(5),
    upper: b(4),
  });
  assert.equal(it.next(), undefined);
  const same = new UserIterator(source, {
    snapshot: 9,
    reverse: false,
    lower: b(4),
    lowerInclusive: false,
    upper: b(4),
    upperInclusive: true,
  });
  assert.equal(same.next(), undefined);
  assert.equal(source.moves, 0);
});

Deno.test("user iterator: stops at the bound even when entries past it are invisible", () => {
  const mt = new MemTable();
  for (let i = 0; i < 1000; i++) {
    mt.add(100 + i, TYPE_PUT, b(i >> 8, i & 255), b(1));
  }
  mt.add(1, TYPE_PUT, b(1, 0, 0), b(2));
  const fwd = new ScratchIterator(mt.iterator());
  assert.deepEqual(
    drain(
      new UserIterator(fwd, { snapshot: 50, reverse: false, upper: b(0, 10) }),
    ),
    [],
  );
  assert.ok(fwd.moves < 20, `forward moved ${fwd.moves} times`);
  const rev = new ScratchIterator(mt.iterator());
  assert.deepEqual(
    drain(
      new UserIterator(rev, { snapshot: 50, reverse: true, lower: b(3, 230) }),
    ),
    [],
  );
  assert.ok(rev.moves < 20, `reverse moved ${rev.moves} times`);
});

Deno.test("user iterator: returned arrays survive a source that reuses buffers", () => {
  const mt = fixture();
  for (const reverse of [false, true]) {
    const plain = drain(
      new UserIterator(mt.iterator(), { snapshot: 9, reverse }),
    );
    const scratch = drain(
      new UserIterator(new ScratchIterator(mt.iterator()), {
        snapshot: 9,
        reverse,
      }),
    );
    assert.deepEqual(scratch, plain);
  }
});

interface Version {
  key: Uint8Array;
  seq: number;
  type: EntryType;
  value: Uint8Array;
}

/** The model: newest visible version per key, filtered and ordered. */
function expected(versions: Version[], options: UserIteratorOptions): string[] {
  const newest = new Map<string, Version>();
  for (const v of versions) {
    if (v.seq > options.snapshot) continue;
    const id = toHex(v.key);
    const cur = newest.get(id);
    if (cur === undefined || v.seq > cur.seq) newest.set(id, v);
  }
  const lowerInclusive = options.lowerInclusive ?? true;
  const upperInclusive = options.upperInclusive ?? false;
  const rows = [...newest.values()]
    .filter((v) => v.type === TYPE_PUT)
    .filter((v) => {
      if (options.lower !== undefined) {
        const c = compareBytes(v.key, options.lower);
        if (c < 0 || (c === 0 && !lowerInclusive)) return false;
      }
      if (options.upper !== undefined) {
        const c = compareBytes(v.key, options.upper);
        if (c > 0 || (c === 0 && !upperInclusive)) return false;
      }
      return true;
    })
    .sort((x, y) => compareBytes(x.key, y.key))
    .map((v) => `${toHex(v.key)}=${toHex(v.value)}`);
  return options.reverse ? rows.reverse() : rows;
}

Deno.test("user iterator: randomized against a model, every bound combination", () => {
  for (const seed of seeds()) {
    const rand = rng(seed);
    try {
      for (let round = 0; round < 30; round++) {
        const nTables = 1 + Math.floor(rand() * 3);
        const tables = Array.from({ length: nTables }, () => new MemTable());
        const versions: Version[] = [];
        const keySpace = 1 + Math.floor(rand() * 30);
        const nVersions = Math.floor(rand() * 200);
        const keyOf = (n: number) => (n % 2 === 0 ? b(n) : b(n - 1, 0xff, n));
        for (let seq = 1; seq <= nVersions; seq++) {
          const key = keyOf(Math.floor(rand() * keySpace));
          const type = rand() < 0.3 ? TYPE_DELETE : TYPE_PUT;
          const value = type === TYPE_PUT
            ? b(seq & 255, seq >> 8)
            : new Uint8Array(0);
          versions.push({ key, seq, type, value });
          const t = Math.floor(rand() * nTables);
          tables[t]!.add(seq, type, key, value);
          // Now and then the same entry sits in two tables, as during a flush.
          if (nTables > 1 && rand() < 0.1) {
            tables[(t + 1) % nTables]!.add(seq, type, key, value);
          }
        }
        const boundKey = () =>
          rand() < 0.7
            ? keyOf(Math.floor(rand() * (keySpace + 1)))
            : b(Math.floor(rand() * (keySpace + 1)), 0);
        for (let q = 0; q < 16; q++) {
          const options: UserIteratorOptions = {
            snapshot: Math.floor(rand() * (nVersions + 2)),
            reverse: rand() < 0.5,
          };
          const lowerKind = Math.floor(rand() * 3); // none, gte, gt
          const upperKind = Math.floor(rand() * 3); // none, lte, lt
          if (lowerKind > 0) {
            options.lower = boundKey();
            options.lowerInclusive = lowerKind === 1;
          }
          if (upperKind > 0) {
            options.upper = boundKey();
            options.upperInclusive = upperKind === 1;
          }
          const children = tables.map((t) =>
            rand() < 0.5 ? t.iterator() : new ScratchIterator(t.iterator())
          );
          const source = children.length === 1 && rand() < 0.5
            ? children[0]!
            : new MergingIterator(children);
          const got = drain(new UserIterator(source, options));
          assert.deepEqual(
            got,
            expected(versions, options),
            JSON.stringify(
              options,
              (_, v) => v instanceof Uint8Array ? toHex(v) : v,
            ),
          );
        }
      }
    } catch (err) {
      console.error(`failing seed: ${seed}`);
      throw err;
    }
  }
});

Deno.test("user iterator: a long scan over many versions stays in order", () => {
  const mt = new MemTable();
  const rand = rng(99);
  const n = 5000;
  for (let seq = 1; seq <= 4 * n; seq++) {
    const k = Math.floor(rand() * n);
    mt.add(
      seq,
      rand() < 0.1 ? TYPE_DELETE : TYPE_PUT,
      b(k >> 8, k & 255),
      b(seq & 255),
    );
  }
  for (const reverse of [false, true]) {
    const it = new UserIterator(mt.iterator(), { snapshot: 3 * n, reverse });
    let last: Uint8Array | undefined;
    let count = 0;
    for (let e = it.next(); e !== undefined; e = it.next()) {
      if (last !== undefined) {
        const c = compareBytes(last, e.key);
        assert.ok(reverse ? c > 0 : c < 0);
      }
      last = e.key.slice();
      count++;
    }
    assert.ok(count > n / 2);
  }
  // compareInternal is the order the memtable iterates in.
  assert.ok(compareInternal(b(1), 2, b(1), 1) < 0);
});
