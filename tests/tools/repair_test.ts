// repairDatabase: CURRENT deleted, the manifest corrupted, a table
// corrupted — repair brings back everything the intact tables and WALs
// hold (checked against a Map model), keeps range deletes, puts what it
// could not use in lost/ and reports every file; it deletes nothing.

import assert from "node:assert/strict";
import {
  CorruptionError,
  DB,
  LockedError,
  MemFs,
  NotFoundError,
  repairDatabase,
  verifyDatabase,
} from "../../mod.ts";
import { writeAll } from "../../lib/fs/fs.ts";
import { TYPE_PUT } from "../../lib/iterator/internal_key.ts";
import { SSTableWriter } from "../../lib/sstable/sstable_writer.ts";
import { rng } from "../fixtures/rng.ts";

const dec = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const OPTIONS = {
  memtableSize: 4096,
  blockSize: 256,
  l0CompactionTrigger: 3,
  levelSizeMultiplier: 2,
};

/** A database built by random puts, deletes and range deletes, and its model. */
async function build(fs: MemFs, seed: number, ops = 4000) {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const model = new Map<string, string>();
  const db = await DB.open("/db", { ...OPTIONS, fs });
  for (let i = 0; i < ops; i++) {
    const key = `k${String(int(600)).padStart(4, "0")}`;
    const pick = r();
    if (pick < 0.15) {
      await db.delete(key);
      model.delete(key);
    } else if (pick < 0.17) {
      const end = `k${String(int(600)).padStart(4, "0")}`;
      if (end > key) {
        await db.deleteRange(key, end);
        for (const k of [...model.keys()]) {
          if (k >= key && k < end) model.delete(k);
        }
      }
    } else {
      const value = `${i}:${"v".repeat(int(60))}`;
      await db.put(key, value);
      model.set(key, value);
    }
    if (i % 1500 === 1499) await db.compact();
  }
  await db.close();
  return model;
}

async function assertMatches(fs: MemFs, model: Map<string, string>) {
  const db = await DB.open("/db", { ...OPTIONS, fs });
  try {
    const got = new Map<string, string>();
    for (const e of db.scanSync()) got.set(dec(e.key)!, dec(e.value)!);
    assert.deepEqual(got, model, "scan");
    for (let i = 0; i < 600; i++) {
      const key = `k${String(i).padStart(4, "0")}`;
      assert.equal(dec(await db.get(key)), model.get(key), `get ${key}`);
    }
    // And after the compaction that merges level 0.
    await db.compact();
    for (let i = 0; i < 600; i += 7) {
      const key = `k${String(i).padStart(4, "0")}`;
      assert.equal(dec(await db.get(key)), model.get(key), `get ${key}`);
    }
  } finally {
    await db.close();
  }
}

const names = (fs: MemFs, dir: string) => fs.listSync(dir).sort();

Deno.test("repair after CURRENT is deleted brings back every table and WAL, range deletes included", async () => {
  for (const seed of [1, 2, 3]) {
    const fs = new MemFs();
    const model = await build(fs, seed);
    await fs.remove("/db/CURRENT");
    await assert.rejects(() => DB.open("/db", { fs }), CorruptionError);
    const before = names(fs, "/db").filter((n) => n !== "LOCK");
    const report = await repairDatabase("/db", { fs });
    assert.ok(report.keptTables.length > 0);
    assert.equal(report.salvagedTables.length, 0);
    assert.ok(report.logs.length >= 1);
    assert.ok(report.oldManifest && !report.oldManifest.problem);
    // Nothing deleted: every file is where it was or in lost/.
    const lost = names(fs, "/db/lost");
    for (const name of before) {
      assert.ok(
        fs.stat(`/db/${name}`) !== undefined || lost.includes(name),
        `${name} kept or set aside`,
      );
    }
    assert.ok(
      report.setAside.some((s) => s.file.startsWith("MANIFEST-")),
    );
    assert.ok((await verifyDatabase("/db", undefined, fs)).ok);
    await assertMatches(fs, model);
  }
});

Deno.test("repair after the manifest is corrupted in the middle keeps every key of the intact tables and WALs", async () => {
  const fs = new MemFs();
  const db = await DB.open("/db", { ...OPTIONS, fs });
  const model = new Map<string, string>();
  for (let i = 0; i < 3000; i++) {
    const key = `k${String((i * 7919) % 900).padStart(4, "0")}`;
    await db.put(key, `v${i}`);
    model.set(key, `v${i}`);
    if (i % 1000 === 999) await db.compact();
  }
  await db.close();
  const current = dec(fs.readFile("/db/CURRENT"))!.trim();
  const bytes = fs.readFile(`/db/${current}`);
  bytes[bytes.length >> 1]! ^= 0x55;
  const f = await fs.openAppend(`/db/${current}`, 0);
  writeAll(f, bytes);
  f.close();
  const report = await repairDatabase("/db", { fs });
  assert.ok(report.oldManifest?.problem);
  await assertMatches(fs, model);
});

Deno.test("repair salvages the good blocks of a corrupted table and sets the file aside", async () => {
  const fs = new MemFs();
  const db = await DB.open("/db", { ...OPTIONS, fs });
  for (let i = 0; i < 2000; i++) {
    await db.put(`k${String(i).padStart(4, "0")}`, `v${i}`.repeat(4));
  }
  await db.compact();
  await db.close();
  const tables = names(fs, "/db").filter((n) => n.endsWith(".sst"));
  const victim = tables[Math.floor(tables.length / 2)]!;
  const bytes = fs.readFile(`/db/${victim}`);
  bytes[10]! ^= 0xff; // inside its first data block
  const f = await fs.openAppend(`/db/${victim}`, 0);
  writeAll(f, bytes);
  f.close();
  await fs.remove("/db/CURRENT");

  const report = await repairDatabase("/db", { fs });
  assert.equal(report.salvagedTables.length, 1);
  const salvaged = report.salvagedTables[0]!;
  assert.equal(salvaged.file, victim);
  assert.ok(salvaged.lostBlocks >= 1 && salvaged.entries > 0);
  assert.ok(report.setAside.some((s) => s.file === victim));
  assert.deepEqual(fs.readFile(`/db/lost/${victim}`), bytes, "kept as it was");
  assert.ok((await verifyDatabase("/db", undefined, fs)).ok);

  const again = await DB.open("/db", { fs, readOnly: true });
  const keys = [...again.scanSync()].map((e) => dec(e.key)!);
  await again.close();
  const lostKeys = 2000 - keys.length;
  assert.ok(lostKeys > 0 && lostKeys < 100, `${lostKeys} keys lost`);
  assert.equal(report.entries, keys.length);
  // Every surviving key is right, in order.
  assert.deepEqual(keys, [...keys].sort());
});

Deno.test("after repair, a point read finds the newest version even when a higher-numbered table holds the older one", async () => {
  // What compaction can leave: table 20 (an output, numbered late) holds
  // old versions; table 10 (flushed earlier) holds newer ones.
  const fs = new MemFs();
  await fs.mkdir("/db");
  const write = async (number: number, rows: [string, number, string][]) => {
    const w = SSTableWriter.create(
      `/db/${String(number).padStart(6, "0")}.sst`,
      { blockSize: 256, bloomBitsPerKey: 10 },
      fs,
    );
    for (const [k, seq, v] of rows) {
      w.add(
        new TextEncoder().encode(k),
        seq,
        TYPE_PUT,
        new TextEncoder().encode(v),
      );
    }
    await w.finish();
  };
  await write(10, [["a", 7, "new a"], ["b", 8, "new b"]]);
  await write(20, [["a", 1, "old a"], ["b", 2, "old b"], ["c", 3, "c"]]);
  const report = await repairDatabase("/db", { fs });
  assert.equal(report.keptTables.length, 2);
  assert.equal(report.lastSequence, 8);
  const db = await DB.open("/db", { fs });
  assert.equal(dec(await db.get("a")), "new a");
  assert.equal(dec(await db.get("b")), "new b");
  assert.equal(dec(await db.get("c")), "c");
  assert.deepEqual([...db.scanSync()].map((e) => dec(e.value)), [
    "new a",
    "new b",
    "c",
  ]);
  await db.put("a", "newest"); // sequence numbers go on past the tables'
  assert.equal(dec(await db.get("a")), "newest");
  await db.close();
});

Deno.test("repair refuses an open database, a missing one and an empty directory", async () => {
  const fs = new MemFs();
  const db = await DB.open("/db", { fs });
  await db.put("k", "v");
  await assert.rejects(() => repairDatabase("/db", { fs }), LockedError);
  await db.close();
  await assert.rejects(() => repairDatabase("/nothing", { fs }), NotFoundError);
  await fs.mkdir("/empty");
  await assert.rejects(() => repairDatabase("/empty", { fs }), NotFoundError);
  // Repairing a healthy database changes nothing it holds.
  await repairDatabase("/db", { fs });
  await repairDatabase("/db", { fs }); // twice: lost/ names stay unique
  const again = await DB.open("/db", { fs });
  assert.equal(dec(await again.get("k")), "v");
  await again.close();
});
