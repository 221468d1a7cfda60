// DB.deleteRange: one range tombstone hides a key range on every read
// path, survives flush, compaction and reopen (in the WAL, then in the
// manifest), keeps what snapshots taken before it see, gives the space of
// what it covers back once compacted, and is retired when nothing under
// it is left. The randomized model test (model_test.ts) mixes range
// deletes into everything else.

import assert from "node:assert/strict";
import { DB, InvalidArgumentError, MemFs } from "../../mod.ts";
import { readManifest } from "../../lib/manifest/manifest.ts";
import { writeAll } from "../../lib/fs/fs.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const key = (i: number) => `k${String(i).padStart(6, "0")}`;
const SMALL = { memtableSize: 16 * 1024, blockSize: 1024 };

async function keys(db: DB, reverse = false): Promise<string[]> {
  const out: string[] = [];
  for await (const e of db.scan({ reverse })) out.push(dec(e.key)!);
  return out;
}

async function fill(db: DB, n: number, value = "v".repeat(100)) {
  for (let i = 0; i < n; i += 500) {
    const batch = db.batch();
    for (let j = i; j < Math.min(n, i + 500); j++) batch.put(key(j), value);
    await db.write(batch);
  }
}

Deno.test("deleteRange hides [start, end) from gets and scans both ways, in the memtable, in tables and after reopen", async () => {
  const fs = new MemFs();
  let db = await DB.open("/db", { ...SMALL, fs });
  await fill(db, 2000);
  await db.flush();
  await fill(db, 100, "w"); // newer versions of keys 0..99 in the memtable
  await db.deleteRange(key(50), key(1500));
  const expected = [
    ...Array.from({ length: 50 }, (_, i) => i),
    ...Array.from({ length: 500 }, (_, i) => i + 1500),
  ].map(key);
  const check = async (when: string) => {
    assert.deepEqual(await keys(db), expected, `forward scan ${when}`);
    assert.deepEqual(
      await keys(db, true),
      expected.slice().reverse(),
      `reverse scan ${when}`,
    );
    assert.equal(dec(await db.get(key(49))), "w", when);
    assert.equal(await db.get(key(50)), undefined, when);
    assert.equal(await db.get(key(1499)), undefined, when);
    assert.equal(db.getSync(key(999)), undefined, when);
    assert.equal(dec(await db.get(key(1500))), "v".repeat(100), when);
    const bounded = [...db.scanSync({ gte: key(40), lt: key(1502) })].map((e) =>
      dec(e.key)
    );
    assert.deepEqual(bounded, [...expected.slice(40, 52)], when);
  };
  await check("in the memtable");
  await db.flush();
  await check("after a flush");
  await db.close();
  db = await DB.open("/db", { ...SMALL, fs });
  await check("after reopen");
  await db.compact();
  await check("after compaction");
  await db.close();
});

Deno.test("a range delete in the WAL only is replayed on reopen", async () => {
  const fs = new MemFs();
  let db = await DB.open("/db", { fs });
  await fill(db, 300);
  await db.flush();
  await db.deleteRange(key(100), key(200), { sync: true });
  // Not flushed: the tombstone is in the WAL and the memtable only.
  await db.close();
  db = await DB.open("/db", { fs });
  assert.equal((await keys(db)).length, 200);
  assert.equal(await db.get(key(150)), undefined);
  await db.close();
});

Deno.test("later operations win: a put after a range delete in the same batch survives it, one before does not", async () => {
  await using db = await DB.open(":memory:");
  await db.write(
    db.batch().put("b", "1").deleteRange("a", "z").put("c", "2"),
  );
  assert.equal(await db.get("b"), undefined);
  assert.equal(dec(await db.get("c")), "2");
  // Puts after the tombstone hide nothing of it and are hidden by nothing.
  await db.put("d", "3");
  assert.deepEqual(await keys(db), ["c", "d"]);
});

Deno.test("snapshots taken before a range delete still see the keys, through flush and compaction; after release the data goes", async () => {
  await using db = await DB.open(":memory:", SMALL);
  await fill(db, 3000);
  await db.compact();
  const before = db.snapshot();
  await db.deleteRange(key(0), key(2900));
  const after = db.snapshot();
  await db.compact();
  const seen = async (snapshot?: ReturnType<DB["snapshot"]>) => {
    let n = 0;
    for await (const _ of db.scan(snapshot ? { snapshot } : {})) n++;
    return n;
  };
  assert.equal(await seen(before), 3000);
  assert.equal(
    dec(await db.get(key(5), { snapshot: before })),
    "v".repeat(100),
  );
  assert.equal(await seen(after), 100);
  assert.equal(await db.get(key(5), { snapshot: after }), undefined);
  // The snapshot keeps the data and so the tombstone.
  assert.equal(db.stats().rangeTombstones, 1);
  const kept = db.stats().diskBytes;
  before.release();
  after.release();
  await db.compact();
  assert.equal(await seen(), 100);
  assert.equal(
    db.stats().rangeTombstones,
    0,
    "retired once nothing is under it",
  );
  assert.ok(db.stats().diskBytes < kept / 5, "the space came back");
});

Deno.test("the space of a range covering most keys comes back after compaction, and deleteRange costs one operation whatever it covers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_range_" });
  try {
    // Raw blocks: the space that comes back is then proportional to the
    // keys removed (compressed, a table's fixed overhead weighs more).
    const db = await DB.open(dir, { ...SMALL, compression: "none" });
    await fill(db, 20_000);
    await db.compact();
    const full = db.stats().diskBytes;
    const seq = db.stats().sequence;
    await db.deleteRange(key(1000), key(19_000));
    assert.equal(
      db.stats().sequence,
      seq + 1,
      "one sequence number, one entry",
    );
    await db.compact();
    const after = db.stats().diskBytes;
    assert.ok(
      after < full * 0.2,
      `disk ${after} bytes after deleting 90% of ${full}`,
    );
    assert.equal((await keys(db)).length, 2000);
    assert.equal(db.stats().rangeTombstones, 0);
    await db.close();
    // The retirement is in the manifest: reopening finds no tombstone.
    const again = await DB.open(dir, { ...SMALL, readOnly: true });
    assert.equal(again.stats().rangeTombstones, 0);
    assert.equal((await keys(again)).length, 2000);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a tombstone stays in force while a table it could cover remains, and is recorded by the manifest", async () => {
  const fs = new MemFs();
  let db = await DB.open("/db", { ...SMALL, fs });
  await fill(db, 1000);
  await db.flush();
  await db.deleteRange(key(10), key(20));
  await db.flush(); // in the version now, over a level-0 table with old keys
  assert.equal(db.stats().rangeTombstones, 1);
  await db.close();
  const manifestName = new TextDecoder().decode(fs.readFile("/db/CURRENT"))
    .trim();
  const edits = readManifest(`/db/${manifestName}`, fs).edits;
  assert.ok(
    edits.some((e) => e.rangeTombstonesAdded?.length === 1),
    "a flush edit carries the tombstone",
  );
  db = await DB.open("/db", { ...SMALL, fs });
  assert.equal(db.stats().rangeTombstones, 1);
  assert.equal(await db.get(key(15)), undefined);
  assert.equal(dec(await db.get(key(20))), "v".repeat(100));
  await db.close();
});

Deno.test("deleteRange checks its bounds", async () => {
  await using db = await DB.open(":memory:");
  await assert.rejects(() => db.deleteRange("b", "a"), InvalidArgumentError);
  await assert.rejects(() => db.deleteRange("b", "b"), /must come after/);
  await assert.rejects(
    () => db.deleteRange(5 as unknown as string, "z"),
    InvalidArgumentError,
  );
  assert.throws(() => db.batch().deleteRange("x", ""), InvalidArgumentError);
  // An empty start means from the first key, no end means to the last.
  await db.put("a", "1");
  await db.put("q", "2");
  await db.deleteRange("", "b");
  assert.deepEqual(await keys(db), ["q"]);
  await db.deleteRange("p");
  assert.deepEqual(await keys(db), []);
  await db.put(enc("r"), "3");
  assert.deepEqual(await keys(db), ["r"]);
});

Deno.test("a version-1 manifest is rewritten as version 2 when it first records a range tombstone", async () => {
  const fs = new MemFs();
  let db = await DB.open("/db", { fs });
  await db.put("a", "1");
  await db.close();
  // Make the manifest look like one an older Strata wrote.
  const name = () =>
    new TextDecoder().decode(fs.readFile("/db/CURRENT")).trim();
  const first = name();
  const bytes = fs.readFile(`/db/${first}`);
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(4, 1, true);
  const file = await fs.openAppend(`/db/${first}`, 0);
  writeAll(file, bytes);
  file.close();
  assert.equal(readManifest(`/db/${first}`, fs).version, 1);
  db = await DB.open("/db", { fs });
  await db.put("b", "2");
  await db.flush();
  assert.equal(name(), first, "no range tombstone: appended as before");
  await db.deleteRange("a", "b");
  await db.flush();
  assert.notEqual(name(), first);
  assert.equal(readManifest(`/db/${name()}`, fs).version, 2);
  await db.close();
  db = await DB.open("/db", { fs });
  assert.deepEqual(await keys(db), ["b"]);
  await db.close();
});
