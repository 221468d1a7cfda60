import assert from "node:assert/strict";
import { BlockCache } from "../../lib/sstable/block_cache.ts";
import { compareBytes } from "../../lib/util/bytes.ts";
import {
  ClosedError,
  CorruptionError,
  InvalidArgumentError,
} from "../../lib/util/errors.ts";
import {
  compareInternal,
  type EntryType,
  type InternalIterator,
  MAX_SEQUENCE,
  TYPE_DELETE,
  TYPE_PUT,
} from "../../lib/iterator/internal_key.ts";
import { FOOTER_SIZE } from "../../lib/sstable/sstable_format.ts";
import { SSTableReader } from "../../lib/sstable/sstable_reader.ts";
import {
  SSTableWriter,
  type TableInfo,
} from "../../lib/sstable/sstable_writer.ts";

interface Entry {
  key: Uint8Array;
  seq: number;
  type: EntryType;
  value: Uint8Array;
}

const enc = new TextEncoder();

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

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "strata_sst_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeTable(
  path: string,
  entries: Entry[],
  blockSize = 4096,
  bloomBitsPerKey = 10,
): Promise<TableInfo> {
  const w = SSTableWriter.create(path, { blockSize, bloomBitsPerKey });
  for (const e of entries) w.add(e.key, e.seq, e.type, e.value);
  return await w.finish();
}

function sortEntries(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => compareInternal(a.key, a.seq, b.key, b.seq));
}

function randomKey(rand: (n: number) => number): Uint8Array {
  const alphabet = [0x00, 0x61, 0x62, 0xff];
  const k = new Uint8Array(1 + rand(7));
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
    const value = new Uint8Array(rand(3) === 0 ? 0 : rand(100));
    for (let i = 0; i < value.length; i++) value[i] = rand(256);
    out.push({ key, seq, type: (1 + rand(2)) as EntryType, value });
  }
  return sortEntries(out);
}

function assertAt(
  it: InternalIterator,
  e: Entry | undefined,
  what: string,
): void {
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

function assertFullScan(r: SSTableReader, entries: Entry[]): void {
  const it = r.iterator();
  let i = 0;
  for (it.seekToFirst(); it.valid(); it.next()) {
    assertAt(it, entries[i++], `fwd ${i}`);
  }
  assert.equal(i, entries.length);
  for (it.seekToLast(); it.valid(); it.prev()) {
    assertAt(it, entries[--i], `back ${i}`);
  }
  assert.equal(i, 0);
}

/** Newest version of `key` at or below `seq` in a sorted model. */
function modelGet(
  entries: Entry[],
  key: Uint8Array,
  seq: number,
): Entry | undefined {
  return entries.find((e) => compareBytes(e.key, key) === 0 && e.seq <= seq);
}

function expectCorruption(
  fn: () => unknown,
  path: string,
  what: string,
): CorruptionError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof CorruptionError,
    `${what}: expected CorruptionError, got ${caught}`,
  );
  assert.equal(caught.file, path, `${what}: file`);
  assert.ok(caught.message.includes(path), `${what}: message names the file`);
  assert.ok(
    caught.message.includes(`offset ${caught.offset}`),
    `${what}: message names the offset`,
  );
  return caught;
}

async function flipByte(
  path: string,
  offset: number,
  mask = 0x01,
): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[offset]! ^= mask;
  await Deno.writeFile(path, bytes);
}

Deno.test("sstable round trip: empty values, 64 KiB keys, 1 MiB values, long prefixes", async () => {
  await withDir(async (dir) => {
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
    const bigKey = new Uint8Array(64 * 1024).fill(0x6b);
    const prefix = "p".repeat(2000);
    const entries: Entry[] = [
      {
        key: enc.encode("a"),
        seq: 5,
        type: TYPE_PUT,
        value: new Uint8Array(0),
      },
      {
        key: enc.encode("b"),
        seq: 0,
        type: TYPE_DELETE,
        value: new Uint8Array(0),
      },
      {
        key: bigKey,
        seq: 7,
        type: TYPE_PUT,
        value: enc.encode("under a big key"),
      },
      { key: enc.encode("m"), seq: 3, type: TYPE_PUT, value: big },
      {
        key: enc.encode("n"),
        seq: MAX_SEQUENCE,
        type: TYPE_PUT,
        value: enc.encode("max seq"),
      },
    ];
    for (let i = 0; i < 300; i++) {
      entries.push({
        key: enc.encode(`${prefix}${String(i).padStart(4, "0")}`),
        seq: 10 + i,
        type: TYPE_PUT,
        value: enc.encode(`v${i}`),
      });
    }
    sortEntries(entries);
    const path = `${dir}/000001.sst`;
    const info = await writeTable(path, entries);
    assert.equal(info.entries, entries.length);
    assert.deepEqual(info.smallestKey, entries[0]!.key);
    assert.equal(info.smallestSeq, entries[0]!.seq);
    assert.deepEqual(info.largestKey, entries.at(-1)!.key);
    assert.equal(info.largestSeq, entries.at(-1)!.seq);
    assert.equal(info.fileSize, (await Deno.stat(path)).size);
    const r = SSTableReader.open(path, 1, new BlockCache(8 << 20));
    assert.equal(r.entries, entries.length);
    assert.equal(r.fileSize, info.fileSize);
    assert.deepEqual(r.largestKey, info.largestKey);
    assertFullScan(r, entries);
    for (const e of entries) {
      const got = r.get(e.key, MAX_SEQUENCE);
      assert.ok(got, `get ${e.key.length}-byte key`);
      assert.equal(got.type, e.type);
      assert.deepEqual(got.value, e.value);
    }
    assert.equal(r.get(enc.encode("m"), 2), undefined);
    assert.equal(r.get(enc.encode("zz"), MAX_SEQUENCE), undefined);
    assert.equal(r.get(enc.encode(""), MAX_SEQUENCE), undefined);
    r.verify();
    r.close();
  });
});

Deno.test("sstable round trip of 100,000 entries", async () => {
  await withDir(async (dir) => {
    const rand = prng(newSeed("100k"));
    const entries: Entry[] = [];
    for (let i = 0; i < 100_000; i++) {
      const value = new Uint8Array(rand(40));
      for (let j = 0; j < value.length; j++) value[j] = rand(256);
      entries.push({
        key: enc.encode(`key${String(i).padStart(8, "0")}`),
        seq: 100_000 + i,
        type: rand(10) === 0 ? TYPE_DELETE : TYPE_PUT,
        value,
      });
    }
    const path = `${dir}/000002.sst`;
    const w = SSTableWriter.create(path, {
      blockSize: 4096,
      bloomBitsPerKey: 10,
    });
    let lastEstimate = 0;
    for (const e of entries) {
      w.add(e.key, e.seq, e.type, e.value);
      assert.ok(w.estimatedSize >= lastEstimate);
      lastEstimate = w.estimatedSize;
    }
    const info = await w.finish();
    assert.ok(
      info.fileSize > lastEstimate,
      "filter, index and footer follow the data",
    );
    const r = SSTableReader.open(path, 2, new BlockCache(1 << 20));
    assert.equal(r.entries, 100_000);
    assert.ok(r.blockCount > 100, `${r.blockCount} blocks`);
    const it = r.iterator();
    let n = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      const e = entries[n++]!;
      assert.equal(it.seq(), e.seq);
      assert.deepEqual(it.key(), e.key);
      assert.deepEqual(it.value(), e.value);
    }
    assert.equal(n, 100_000);
    for (let i = 0; i < entries.length; i += 7) {
      const e = entries[i]!;
      const got = r.get(e.key, MAX_SEQUENCE);
      assert.equal(got?.type, e.type);
      assert.deepEqual(got?.value, e.value);
      assert.equal(r.get(e.key, e.seq - 1), undefined);
    }
    let absentHits = 0;
    for (let i = 0; i < 10_000; i++) {
      const key = enc.encode(`key${String(i).padStart(8, "0")}x`);
      if (r.mayContain(key)) absentHits++;
      assert.equal(r.get(key, MAX_SEQUENCE), undefined);
    }
    assert.ok(absentHits < 300, `${absentHits} bloom false positives of 10000`);
    r.verify();
    r.close();
  });
});

Deno.test("many versions of one user key straddle blocks; gets at every snapshot", async () => {
  await withDir(async (dir) => {
    const entries: Entry[] = [
      {
        key: enc.encode("a"),
        seq: 500,
        type: TYPE_PUT,
        value: enc.encode("a"),
      },
    ];
    for (let seq = 1000; seq >= 2; seq -= 5) {
      entries.push({
        key: enc.encode("m"),
        seq,
        type: seq % 3 === 0 ? TYPE_DELETE : TYPE_PUT,
        value: seq % 3 === 0 ? new Uint8Array(0) : enc.encode(`m@${seq}`),
      });
    }
    entries.push({
      key: enc.encode("z"),
      seq: 1,
      type: TYPE_PUT,
      value: enc.encode("z"),
    });
    const path = `${dir}/000003.sst`;
    await writeTable(path, entries, 64);
    const r = SSTableReader.open(path, 3, new BlockCache(1 << 20));
    const blocks = r.describe().blocks;
    const mBlocks = blocks.filter((b) =>
      compareBytes(b.firstKey, enc.encode("m")) <= 0 &&
      compareBytes(b.lastKey, enc.encode("m")) >= 0
    );
    assert.ok(mBlocks.length > 10, `"m" spans ${mBlocks.length} blocks`);
    const it = r.iterator();
    for (let seq = 0; seq <= 1010; seq++) {
      const want = modelGet(entries, enc.encode("m"), seq);
      const got = r.get(enc.encode("m"), seq);
      if (want === undefined) {
        assert.equal(got, undefined, `get at ${seq}`);
      } else {
        assert.equal(got?.type, want.type, `type at ${seq}`);
        assert.deepEqual(got?.value, want.value, `value at ${seq}`);
      }
      it.seek(enc.encode("m"), seq);
      const at = entries.findIndex((e) =>
        compareInternal(e.key, e.seq, enc.encode("m"), seq) >= 0
      );
      assertAt(it, entries[at], `seek m@${seq}`);
      it.seekForPrev(enc.encode("m"), seq);
      const after = entries.findIndex((e) =>
        compareInternal(e.key, e.seq, enc.encode("m"), seq) > 0
      );
      assertAt(
        it,
        entries[(after === -1 ? entries.length : after) - 1],
        `seekForPrev m@${seq}`,
      );
    }
    assert.deepEqual(r.get(enc.encode("z"), 1)?.value, enc.encode("z"));
    assert.equal(r.get(enc.encode("z"), 0), undefined);
    assertFullScan(r, entries);
    r.verify();
    r.close();
  });
});

Deno.test("sstable iterator matches a sorted array model across block boundaries", async () => {
  await withDir(async (dir) => {
    const rand = prng(newSeed("sstable iterator model"));
    let fileNumber = 10;
    for (const blockSize of [1, 64, 256, 4096]) {
      const entries = randomEntries(rand, 1500);
      const path = `${dir}/${fileNumber}.sst`;
      await writeTable(path, entries, blockSize);
      // A tiny cache forces blocks to be re-read while iterating.
      const r = SSTableReader.open(path, fileNumber++, new BlockCache(2048));
      const it = r.iterator({ fillCache: rand(2) === 0 });
      const lowerBound = (k: Uint8Array, s: number) => {
        let lo = 0, hi = entries.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareInternal(entries[mid]!.key, entries[mid]!.seq, k, s) < 0) {
            lo = mid + 1;
          } else hi = mid;
        }
        return lo;
      };
      let pos = -1;
      for (let op = 0; op < 4000; op++) {
        const r10 = rand(10);
        let what: string;
        // Seek to existing entries half the time so boundaries get hit.
        const probe = entries[rand(entries.length)]!;
        const k = rand(2) === 0 ? probe.key : randomKey(rand);
        const s = rand(2) === 0 ? probe.seq + rand(3) - 1 : rand(1000);
        if (r10 < 2) {
          it.seek(k, s);
          pos = lowerBound(k, s);
          what = `seek(${k}, ${s})`;
        } else if (r10 < 4) {
          it.seekForPrev(k, s);
          let i = lowerBound(k, s);
          if (
            i === entries.length ||
            compareInternal(entries[i]!.key, entries[i]!.seq, k, s) > 0
          ) i--;
          pos = i;
          what = `seekForPrev(${k}, ${s})`;
        } else if (r10 === 4) {
          it.seekToFirst();
          pos = 0;
          what = "seekToFirst";
        } else if (r10 === 5) {
          it.seekToLast();
          pos = entries.length - 1;
          what = "seekToLast";
        } else if (pos >= 0 && pos < entries.length) {
          // Runs of steps in one direction, then a switch.
          const forward = r10 < 8;
          const steps = 1 + rand(40);
          for (let i = 0; i < steps && pos >= 0 && pos < entries.length; i++) {
            if (forward) {
              it.next();
              pos++;
            } else {
              it.prev();
              pos--;
            }
            assertAt(
              it,
              entries[pos],
              `op ${op} step ${i} ${forward ? "next" : "prev"}`,
            );
          }
          continue;
        } else {
          continue;
        }
        assertAt(it, entries[pos], `op ${op} ${what} (blockSize ${blockSize})`);
      }
      // Gets at random snapshots, present and absent keys.
      for (let i = 0; i < 2000; i++) {
        const k = rand(2) === 0
          ? entries[rand(entries.length)]!.key
          : randomKey(rand);
        const s = rand(4) === 0 ? MAX_SEQUENCE : rand(1000);
        const want = modelGet(entries, k, s);
        const got = r.get(k, s);
        assert.equal(got?.type, want?.type, `get(${k}, ${s})`);
        if (want) assert.deepEqual(got?.value, want.value);
      }
      r.verify();
      r.close();
    }
  });
});

Deno.test("keys sharing a long prefix: seeks and gets of keys inside, around and within the prefix", async () => {
  // The reader compares past the common prefix of a table's keys; probes
  // that stop inside the prefix or leave it must still land right.
  await withDir(async (dir) => {
    const rand = prng(newSeed("sstable common prefix"));
    const prefix = enc.encode("user:000042:");
    const withPrefix = (k: Uint8Array) => {
      const out = new Uint8Array(prefix.length + k.length);
      out.set(prefix);
      out.set(k, prefix.length);
      return out;
    };
    const entries = sortEntries(
      randomEntries(rand, 1200).map((e) => ({ ...e, key: withPrefix(e.key) })),
    );
    const path = `${dir}/7.sst`;
    await writeTable(path, entries, 256);
    const r = SSTableReader.open(path, 7, new BlockCache(1 << 20));
    const probe = (): Uint8Array => {
      const cut = prefix.slice(0, rand(prefix.length + 1));
      switch (rand(5)) {
        case 0: // a proper prefix of every key
          return cut;
        case 1: { // leaves the prefix one byte low or high
          const k = withPrefix(randomKey(rand));
          const at = rand(prefix.length);
          k[at] = k[at]! + (rand(2) === 0 ? -1 : 1);
          return k;
        }
        case 2:
          return randomKey(rand);
        default:
          return withPrefix(randomKey(rand));
      }
    };
    const it = r.iterator();
    for (let i = 0; i < 3000; i++) {
      const k = rand(3) === 0 ? entries[rand(entries.length)]!.key : probe();
      const s = rand(4) === 0 ? MAX_SEQUENCE : rand(1000);
      const want = modelGet(entries, k, s);
      const got = r.get(k, s);
      assert.equal(got?.type, want?.type, `get(${k}, ${s})`);
      if (want) assert.deepEqual(got?.value, want.value);
      it.seek(k, s);
      const first = entries.find((e) =>
        compareInternal(e.key, e.seq, k, s) >= 0
      );
      assertAt(it, first, `seek(${k}, ${s})`);
    }
    r.close();
  });
});

Deno.test("empty table opens, iterates nothing and verifies", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/000004.sst`;
    const info = await writeTable(path, []);
    assert.equal(info.entries, 0);
    assert.equal(info.smallestKey.length, 0);
    assert.equal(info.largestKey.length, 0);
    const r = SSTableReader.open(path, 4, new BlockCache(1 << 20));
    assert.equal(r.entries, 0);
    assert.equal(r.blockCount, 0);
    const it = r.iterator();
    it.seekToFirst();
    assert.equal(it.valid(), false);
    it.seekToLast();
    assert.equal(it.valid(), false);
    it.seek(enc.encode("a"), 5);
    assert.equal(it.valid(), false);
    it.seekForPrev(enc.encode("a"), 5);
    assert.equal(it.valid(), false);
    assert.equal(r.get(enc.encode("a"), MAX_SEQUENCE), undefined);
    assert.equal(r.mayContain(enc.encode("a")), false);
    r.verify();
    const d = r.describe();
    assert.equal(d.blocks.length, 0);
    assert.equal(d.fileSize, info.fileSize);
    r.close();
  });
});

async function threeBlockTable(
  dir: string,
  name: string,
): Promise<{ path: string; entries: Entry[] }> {
  const entries: Entry[] = [];
  for (let i = 0; i < 300; i++) {
    entries.push({
      key: enc.encode(`k${String(i).padStart(4, "0")}`),
      seq: i + 1,
      type: TYPE_PUT,
      value: enc.encode(`value-${i}`.repeat(3)),
    });
  }
  const path = `${dir}/${name}`;
  await writeTable(path, entries, 4096);
  return { path, entries };
}

Deno.test("a flipped byte in a data block fails the read that touches it", async () => {
  await withDir(async (dir) => {
    const { path, entries } = await threeBlockTable(dir, "000005.sst");
    let r = SSTableReader.open(path, 5, new BlockCache(1 << 20));
    const blocks = r.describe().blocks;
    r.close();
    assert.ok(blocks.length >= 3, `${blocks.length} blocks`);
    const bad = blocks[1]!;
    await flipByte(path, bad.handle.offset + 100);
    r = SSTableReader.open(path, 5, new BlockCache(1 << 20));
    const inFirst = entries.find((e) =>
      compareBytes(e.key, blocks[0]!.lastKey) <= 0
    )!;
    assert.deepEqual(r.get(inFirst.key, MAX_SEQUENCE)?.value, inFirst.value);
    const inBad = entries.find((e) =>
      compareBytes(e.key, bad.firstKey) >= 0 &&
      compareBytes(e.key, bad.lastKey) <= 0
    )!;
    const err = expectCorruption(
      () => r.get(inBad.key, MAX_SEQUENCE),
      path,
      "get",
    );
    assert.equal(err.offset, bad.handle.offset);
    assert.match(err.message, /checksum mismatch/);
    // Iterating from block 0 into block 1 fails at the boundary.
    const it = r.iterator();
    it.seekToFirst();
    expectCorruption(
      () => {
        while (it.valid()) it.next();
      },
      path,
      "iterator",
    );
    expectCorruption(
      () => r.iterator().seek(inBad.key, MAX_SEQUENCE),
      path,
      "seek",
    );
    expectCorruption(() => r.verify(), path, "verify");
    expectCorruption(() => r.describe(), path, "describe");
    // Later blocks are still readable.
    const inLast = entries.at(-1)!;
    assert.deepEqual(r.get(inLast.key, MAX_SEQUENCE)?.value, inLast.value);
    r.close();
  });
});

Deno.test("a flipped byte in the footer, index, filter or properties fails open", async () => {
  await withDir(async (dir) => {
    const { path } = await threeBlockTable(dir, "000006.sst");
    const r = SSTableReader.open(path, 6, new BlockCache(1 << 20));
    const { footer, fileSize } = r.describe();
    r.close();
    const original = await Deno.readFile(path);
    const targets: [string, number][] = [
      ["footer handles", fileSize - FOOTER_SIZE + 1],
      ["footer padding", fileSize - FOOTER_SIZE + 50],
      ["footer version", fileSize - FOOTER_SIZE + 60],
      ["footer checksum", fileSize - FOOTER_SIZE + 65],
      ["footer magic", fileSize - 1],
      ["index block", footer.index.offset + 3],
      ["index trailer", footer.index.offset + footer.index.size + 2],
      ["filter block", footer.filter.offset + 10],
      ["properties block", footer.properties.offset + 2],
    ];
    for (const [what, offset] of targets) {
      await Deno.writeFile(path, original);
      await flipByte(path, offset, 0x10);
      expectCorruption(
        () => SSTableReader.open(path, 6, new BlockCache(1024)),
        path,
        what,
      );
    }
  });
});

Deno.test("every single-byte flip of a small table is caught at open or by verify", async () => {
  await withDir(async (dir) => {
    const entries: Entry[] = [];
    for (let i = 0; i < 40; i++) {
      entries.push({
        key: enc.encode(`key${i}`),
        seq: 1000 - i,
        type: i % 5 === 0 ? TYPE_DELETE : TYPE_PUT,
        value: i % 5 === 0 ? new Uint8Array(0) : enc.encode(`v${i}`),
      });
    }
    sortEntries(entries);
    const path = `${dir}/000007.sst`;
    await writeTable(path, entries, 128);
    const original = await Deno.readFile(path);
    let atOpen = 0, atVerify = 0;
    for (let off = 0; off < original.length; off++) {
      const bytes = original.slice();
      bytes[off]! ^= 0x01 << (off % 8);
      await Deno.writeFile(path, bytes);
      let r: SSTableReader;
      try {
        r = SSTableReader.open(path, 7, new BlockCache(1 << 20));
      } catch (err) {
        assert.ok(
          err instanceof CorruptionError,
          `open, flip at ${off}: ${err}`,
        );
        atOpen++;
        continue;
      }
      try {
        expectCorruption(() => r.verify(), path, `verify, flip at ${off}`);
      } finally {
        r.close();
      }
      atVerify++;
    }
    assert.equal(atOpen + atVerify, original.length);
    assert.ok(atVerify > 0 && atOpen > 0);
  });
});

Deno.test("truncated, empty and foreign files fail open with CorruptionError", async () => {
  await withDir(async (dir) => {
    const { path } = await threeBlockTable(dir, "000008.sst");
    const original = await Deno.readFile(path);
    for (
      const len of [
        0,
        1,
        10,
        FOOTER_SIZE - 1,
        FOOTER_SIZE,
        100,
        original.length >> 1,
        original.length - 1,
      ]
    ) {
      await Deno.writeFile(path, original.subarray(0, len));
      expectCorruption(
        () => SSTableReader.open(path, 8, new BlockCache(1024)),
        path,
        `truncated to ${len}`,
      );
    }
    // Extra bytes after the footer move the footer: refused as well.
    const longer = new Uint8Array(original.length + 3);
    longer.set(original);
    await Deno.writeFile(path, longer);
    expectCorruption(
      () => SSTableReader.open(path, 8, new BlockCache(1024)),
      path,
      "appended bytes",
    );
    const foreign = `${dir}/foreign.sst`;
    await Deno.writeTextFile(foreign, "This is not a table. ".repeat(200));
    expectCorruption(
      () => SSTableReader.open(foreign, 9, new BlockCache(1024)),
      foreign,
      "text file",
    );
    const random = new Uint8Array(8192);
    crypto.getRandomValues(random);
    await Deno.writeFile(foreign, random);
    expectCorruption(
      () => SSTableReader.open(foreign, 9, new BlockCache(1024)),
      foreign,
      "random bytes",
    );
  });
});

Deno.test("writer refuses bad input and out-of-order entries", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/000010.sst`;
    assert.throws(
      () => SSTableWriter.create(path, { blockSize: 0, bloomBitsPerKey: 10 }),
      InvalidArgumentError,
    );
    assert.throws(
      () =>
        SSTableWriter.create(path, { blockSize: 4096, bloomBitsPerKey: -1 }),
      InvalidArgumentError,
    );
    await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    const w = SSTableWriter.create(path, {
      blockSize: 4096,
      bloomBitsPerKey: 10,
    });
    assert.throws(() =>
      SSTableWriter.create(path, { blockSize: 4096, bloomBitsPerKey: 10 })
    );
    w.add(enc.encode("b"), 5, TYPE_PUT, enc.encode("1"));
    const v = new Uint8Array(0);
    assert.throws(
      () => w.add(enc.encode("b"), 5, TYPE_PUT, v),
      InvalidArgumentError,
    );
    assert.throws(
      () => w.add(enc.encode("b"), 6, TYPE_PUT, v),
      InvalidArgumentError,
    );
    assert.throws(
      () => w.add(enc.encode("a"), 1, TYPE_PUT, v),
      InvalidArgumentError,
    );
    for (const seq of [-1, 1.5, MAX_SEQUENCE + 1, Number.NaN]) {
      assert.throws(
        () => w.add(enc.encode("c"), seq, TYPE_PUT, v),
        InvalidArgumentError,
      );
    }
    assert.throws(
      () => w.add(enc.encode("c"), 1, 3 as EntryType, v),
      InvalidArgumentError,
    );
    w.add(enc.encode("b"), 4, TYPE_DELETE, v);
    w.add(enc.encode("c"), 9, TYPE_PUT, v);
    const info = await w.finish();
    assert.equal(info.entries, 3);
    assert.throws(() => w.add(enc.encode("d"), 1, TYPE_PUT, v), ClosedError);
    await assert.rejects(() => w.finish(), ClosedError);
    w.abandon(); // no-op after finish: the table stays
    assert.equal((await Deno.stat(path)).size, info.fileSize);
  });
});

Deno.test("writer abandon closes and deletes the partial file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/000011.sst`;
    const w = SSTableWriter.create(path, {
      blockSize: 256,
      bloomBitsPerKey: 10,
      compression: "none", // zeros would shrink below one write buffer
    });
    for (let i = 0; i < 1000; i++) {
      w.add(
        enc.encode(`k${String(i).padStart(5, "0")}`),
        1,
        TYPE_PUT,
        new Uint8Array(50),
      );
    }
    assert.ok((await Deno.stat(path)).size > 0, "blocks were streamed out");
    w.abandon();
    w.abandon();
    await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    assert.throws(
      () => w.add(enc.encode("z"), 1, TYPE_PUT, new Uint8Array(0)),
      ClosedError,
    );
  });
});

Deno.test("reader uses the block cache, and close evicts its blocks", async () => {
  await withDir(async (dir) => {
    const { path, entries } = await threeBlockTable(dir, "000012.sst");
    const cache = new BlockCache(1 << 20);
    const r = SSTableReader.open(path, 12, cache);
    const key = entries[10]!.key;
    r.get(key, MAX_SEQUENCE);
    assert.deepEqual([
      cache.stats.hits,
      cache.stats.misses,
      cache.stats.entries,
    ], [0, 1, 1]);
    r.get(key, MAX_SEQUENCE);
    assert.deepEqual([cache.stats.hits, cache.stats.misses], [1, 1]);
    // A bloom miss touches no block.
    r.get(enc.encode("absent"), MAX_SEQUENCE);
    assert.equal(cache.stats.hits + cache.stats.misses, 2);
    // An iterator that does not fill the cache leaves it alone.
    const it = r.iterator({ fillCache: false });
    for (it.seekToFirst(); it.valid(); it.next()) { /* scan */ }
    assert.equal(cache.stats.entries, 1);
    const it2 = r.iterator();
    for (it2.seekToFirst(); it2.valid(); it2.next()) { /* scan */ }
    assert.equal(cache.stats.entries, r.blockCount);
    r.close();
    r.close();
    assert.equal(cache.stats.entries, 0);
    assert.equal(cache.stats.bytes, 0);
    assert.throws(() => r.get(key, MAX_SEQUENCE), ClosedError);
    assert.throws(() => r.verify(), ClosedError);
  });
});

Deno.test("table without a bloom filter answers gets correctly", async () => {
  await withDir(async (dir) => {
    const entries: Entry[] = [];
    for (let i = 0; i < 500; i++) {
      entries.push({
        key: enc.encode(`k${i}`),
        seq: 1,
        type: TYPE_PUT,
        value: enc.encode(`${i}`),
      });
    }
    sortEntries(entries);
    const path = `${dir}/000013.sst`;
    await writeTable(path, entries, 512, 0);
    const r = SSTableReader.open(path, 13, new BlockCache(1 << 20));
    assert.equal(r.mayContain(enc.encode("nope")), true);
    assert.equal(r.get(enc.encode("nope"), MAX_SEQUENCE), undefined);
    assert.deepEqual(r.get(enc.encode("k42"), 1)?.value, enc.encode("42"));
    assert.equal(r.describe().filter.bytes, 0);
    r.verify();
    r.close();
  });
});

Deno.test("describe reports footer, contiguous blocks and their key ranges", async () => {
  await withDir(async (dir) => {
    const { path, entries } = await threeBlockTable(dir, "000014.sst");
    const r = SSTableReader.open(path, 14, new BlockCache(1 << 20));
    const d = r.describe();
    assert.equal(d.fileNumber, 14);
    assert.equal(d.footer.version, 2);
    assert.equal(d.filter.k, 7);
    assert.equal(d.properties.entries, entries.length);
    assert.equal(d.properties.dataBlocks, d.blocks.length);
    let offset = 0;
    let total = 0;
    for (const b of d.blocks) {
      assert.equal(b.handle.offset, offset);
      assert.ok(b.handle.size <= 4096 + 200, `block of ${b.handle.size} bytes`);
      offset += b.handle.size + 5;
      total += b.entries;
      assert.ok(compareBytes(b.firstKey, b.lastKey) <= 0);
    }
    assert.equal(offset, d.footer.filter.offset);
    assert.equal(total, entries.length);
    assert.deepEqual(d.blocks[0]!.firstKey, entries[0]!.key);
    assert.deepEqual(d.blocks.at(-1)!.lastKey, entries.at(-1)!.key);
    r.close();
  });
});
