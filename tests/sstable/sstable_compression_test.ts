// Compressed SSTable data blocks: round trips of compressible,
// incompressible, empty and 1 MiB values; which blocks are stored
// compressed (only those that shrink by 1/8); damage to a compressed block
// is a CorruptionError (the block checksum), and with its checksum forged
// so that the decoder itself meets it, never a crash; tables of format 1
// (raw blocks) still read, and one claiming an LZ4 block is refused; the
// engine, verify and dump on compressed tables.

import assert from "node:assert/strict";
import { DB } from "../../mod.ts";
import { TYPE_PUT } from "../../lib/iterator/internal_key.ts";
import { BlockCache } from "../../lib/sstable/block_cache.ts";
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_LZ4,
  blockTrailer,
  decodeFooter,
  encodeFooter,
  FOOTER_SIZE,
} from "../../lib/sstable/sstable_format.ts";
import { SSTableReader } from "../../lib/sstable/sstable_reader.ts";
import {
  type Compression,
  SSTableWriter,
} from "../../lib/sstable/sstable_writer.ts";
import { dumpFile } from "../../lib/tools/dump.ts";
import { verifyDatabase } from "../../lib/tools/verify.ts";
import { CorruptionError } from "../../lib/util/errors.ts";
import { Prng } from "../../cli/bench.ts";

const enc = new TextEncoder();
const key = (i: number) => enc.encode(`key${String(i).padStart(7, "0")}`);

function randomBytes(prng: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = prng.next() & 0xff;
  return out;
}

/** Values of every kind, by entry index. */
function valueOf(i: number, prng: Prng): Uint8Array {
  switch (i % 4) {
    case 0: // compressible: a sentence with the index in it
      return enc.encode(`value ${i} of the table, value ${i} of the table.`);
    case 1: // incompressible
      return randomBytes(prng, 100);
    case 2:
      return new Uint8Array(0);
    default: // half random, half repeated, as db_bench's
      return ((r) => {
        const v = new Uint8Array(100);
        v.set(r);
        v.set(r, 50);
        return v;
      })(randomBytes(prng, 50));
  }
}

async function writeTable(
  path: string,
  entries: [Uint8Array, Uint8Array][],
  compression: Compression,
): Promise<number> {
  const w = SSTableWriter.create(path, {
    blockSize: 4096,
    bloomBitsPerKey: 10,
    compression,
  });
  for (const [k, v] of entries) w.add(k, 1, TYPE_PUT, v);
  return (await w.finish()).fileSize;
}

function readAll(path: string): [Uint8Array, Uint8Array][] {
  const r = SSTableReader.open(path, 1, new BlockCache(1 << 20));
  try {
    r.verify();
    const out: [Uint8Array, Uint8Array][] = [];
    const it = r.iterator();
    for (it.seekToFirst(); it.valid(); it.next()) {
      out.push([it.key().slice(), it.value().slice()]);
    }
    return out;
  } finally {
    r.close();
  }
}

/** The stored type byte of every data block of a table. */
function blockTypes(path: string): number[] {
  const r = SSTableReader.open(path, 1, new BlockCache(0));
  const bytes = Deno.readFileSync(path);
  try {
    return r.describe().blocks.map((b) =>
      bytes[b.handle.offset + b.handle.size]!
    );
  } finally {
    r.close();
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "strata_compression_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("compressed tables round trip every kind of value, 1 MiB ones included", async () => {
  await withDir(async (dir) => {
    const prng = new Prng(7);
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 3000; i++) entries.push([key(i), valueOf(i, prng)]);
    // Two 1 MiB values: one compressible, one not.
    entries.push([key(3000), new Uint8Array(1 << 20).fill(0x61)]);
    entries.push([key(3001), randomBytes(prng, 1 << 20)]);
    const lz4 = await writeTable(`${dir}/lz4.sst`, entries, "lz4");
    const raw = await writeTable(`${dir}/raw.sst`, entries, "none");
    assert.deepEqual(readAll(`${dir}/lz4.sst`), entries);
    assert.deepEqual(readAll(`${dir}/raw.sst`), entries);
    assert.ok(lz4 < raw - (1 << 20), `lz4 ${lz4} bytes, raw ${raw}`);
    assert.ok(blockTypes(`${dir}/raw.sst`).every((t) => t === 0));
    // Point reads through the cache, compressed blocks decoded once each.
    const r = SSTableReader.open(`${dir}/lz4.sst`, 1, new BlockCache(8 << 20));
    for (const i of [0, 1, 2, 3, 1777, 2999, 3000, 3001]) {
      assert.deepEqual(r.get(entries[i]![0], 10)?.value, entries[i]![1]);
    }
    r.close();
  });
});

Deno.test("only blocks that shrink by 1/8 are stored compressed", async () => {
  await withDir(async (dir) => {
    const prng = new Prng(3);
    const half = (n: number) =>
      Array.from({ length: n }, (_, i): [Uint8Array, Uint8Array] => [
        key(i),
        valueOf(3, prng), // compresses to about half
      ]);
    const random = (n: number) =>
      Array.from({ length: n }, (_, i): [Uint8Array, Uint8Array] => [
        key(i),
        randomBytes(prng, 100),
      ]);
    await writeTable(`${dir}/half.sst`, half(2000), "lz4");
    await writeTable(`${dir}/random.sst`, random(2000), "lz4");
    const halfTypes = blockTypes(`${dir}/half.sst`);
    assert.ok(halfTypes.length > 10);
    assert.ok(halfTypes.every((t) => t === BLOCK_TYPE_LZ4), "all compressed");
    const randomTypes = blockTypes(`${dir}/random.sst`);
    assert.ok(randomTypes.every((t) => t === 0), "random values stay raw");
    assert.deepEqual(readAll(`${dir}/random.sst`).length, 2000);
  });
});

/** Rewrites a block's trailer so its checksum matches its (new) bytes. */
function mendChecksum(file: Uint8Array, offset: number, size: number): void {
  const type = file[offset + size]!;
  file.set(
    blockTrailer(file.subarray(offset, offset + size), type),
    offset + size,
  );
}

Deno.test("a damaged compressed block is a CorruptionError naming the table, never a crash or wrong bytes", async () => {
  await withDir(async (dir) => {
    const prng = new Prng(11);
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 400; i++) entries.push([key(i), valueOf(3, prng)]);
    const path = `${dir}/000001.sst`;
    await writeTable(path, entries, "lz4");
    const pristine = Deno.readFileSync(path);
    const r0 = SSTableReader.open(path, 1, new BlockCache(0));
    const blocks = r0.describe().blocks.map((b) => b.handle);
    r0.close();
    assert.equal(pristine[blocks[0]!.offset + blocks[0]!.size], BLOCK_TYPE_LZ4);
    let caught = 0;
    let decodedAnyway = 0;
    for (let trial = 0; trial < 300; trial++) {
      const h = blocks[trial % blocks.length]!;
      const file = pristine.slice();
      // Flip 1–3 bytes of the stored (compressed) contents, or cut the
      // LZ4 data short by rewriting the raw size, then mend the checksum.
      const flips = 1 + (prng.next() % 3);
      for (let f = 0; f < flips; f++) {
        const at = h.offset + (prng.next() % h.size);
        file[at]! ^= 1 + (prng.next() % 255);
      }
      mendChecksum(file, h.offset, h.size);
      Deno.writeFileSync(path, file);
      try {
        // verify() first, then every entry. With its checksum forged, a
        // flip in a literal decodes to other bytes (LZ4 has no checksum of
        // its own: the trailer's is what catches real damage, below); the
        // decoder must only never crash or read outside its buffers.
        readAll(path);
        decodedAnyway++;
      } catch (err) {
        assert.ok(err instanceof CorruptionError, String(err));
        assert.match(err.message, /000001\.sst/);
        caught++;
      }
    }
    assert.ok(caught > 50, `${caught} caught, ${decodedAnyway} decoded`);
    // Real damage (the checksum as it was): always caught, before the
    // decoder sees the bytes.
    for (let trial = 0; trial < 100; trial++) {
      const h = blocks[trial % blocks.length]!;
      const file = pristine.slice();
      file[h.offset + (prng.next() % (h.size + 1))]! ^= 1 + (prng.next() % 255);
      Deno.writeFileSync(path, file);
      assert.throws(() => readAll(path), (err) => {
        assert.ok(err instanceof CorruptionError, String(err));
        assert.match(
          err.message,
          /000001\.sst.*(checksum mismatch|unknown block type)/,
        );
        return true;
      });
    }
  });
});

Deno.test("tables of format version 1 still read, and may not hold LZ4 blocks", async () => {
  await withDir(async (dir) => {
    const prng = new Prng(5);
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 500; i++) entries.push([key(i), valueOf(i, prng)]);
    // A version 1 table: raw blocks and a footer that says 1 (what every
    // table written before compression is).
    const asVersion1 = (path: string) => {
      const bytes = Deno.readFileSync(path);
      const at = bytes.length - FOOTER_SIZE;
      const footer = decodeFooter(bytes.subarray(at), path, at);
      bytes.set(encodeFooter({ ...footer, version: 1 }), at);
      Deno.writeFileSync(path, bytes);
    };
    await writeTable(`${dir}/old.sst`, entries, "none");
    asVersion1(`${dir}/old.sst`);
    const r = SSTableReader.open(`${dir}/old.sst`, 1, new BlockCache(0));
    assert.equal(r.describe().footer.version, 1);
    r.close();
    assert.deepEqual(readAll(`${dir}/old.sst`), entries);
    // An LZ4 block in a version 1 table is damage.
    await writeTable(`${dir}/bad.sst`, entries, "lz4");
    assert.ok(blockTypes(`${dir}/bad.sst`).includes(BLOCK_TYPE_LZ4));
    asVersion1(`${dir}/bad.sst`);
    assert.throws(() => readAll(`${dir}/bad.sst`), (err) => {
      assert.ok(err instanceof CorruptionError);
      assert.match(err.message, /unknown block type "1": expected 0 \(raw\)/);
      return true;
    });
    assert.equal(BLOCK_TRAILER_SIZE, 5);
  });
});

Deno.test("the engine compresses by default, reads tables of either kind, and verify and dump take them", async () => {
  await withDir(async (dir) => {
    const prng = new Prng(9);
    // What the "none" database holds (the "lz4" one only shows its size).
    let model = new Map<string, Uint8Array>();
    const fill = async (db: DB, from: number, to: number) => {
      for (let i = from; i < to; i += 500) {
        const batch = db.batch();
        for (let j = i; j < i + 500; j++) {
          const v = valueOf(3, prng);
          batch.put(key(j), v);
          model.set(new TextDecoder().decode(key(j)), v);
        }
        await db.write(batch);
      }
      await db.flush();
    };
    const sizes: Record<string, number> = {};
    for (const compression of ["lz4", "none"] as const) {
      model = new Map();
      const db = await DB.open(`${dir}/${compression}`, { compression });
      await fill(db, 0, 20_000);
      await db.compact();
      sizes[compression] = db.stats().levels.reduce((n, l) => n + l.bytes, 0);
      await db.close();
    }
    assert.ok(
      sizes.lz4! < sizes.none! * 0.8,
      `lz4 ${sizes.lz4} bytes, none ${sizes.none}`,
    );
    // Reopened with the other setting: old tables read, new ones follow it.
    const db = await DB.open(`${dir}/none`, { compression: "lz4" });
    await fill(db, 20_000, 25_000);
    for (const [k, v] of model) assert.deepEqual(await db.get(k), v);
    await db.close();
    const report = await verifyDatabase(`${dir}/none`);
    assert.ok(report.ok, JSON.stringify(report.problems));
    const tables = [...Deno.readDirSync(`${dir}/none`)]
      .map((e) => e.name).filter((n) => n.endsWith(".sst")).sort();
    const newest = dumpFile(`${dir}/none/${tables.at(-1)}`);
    assert.equal(newest.kind, "table");
    if (newest.kind === "table") {
      assert.equal(newest.footer.version, 2);
      const entries = newest.blocks.reduce((n, b) => n + b.entries.length, 0);
      assert.ok(entries > 0);
    }
    await assert.rejects(
      () => DB.open(`${dir}/x`, { compression: "zstd" as Compression }),
      /Invalid option "compression": "zstd" is not "lz4" or "none"/,
    );
  });
});
