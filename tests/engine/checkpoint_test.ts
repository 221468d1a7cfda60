// DB.checkpoint: an online, consistent copy. It holds every write
// acknowledged before the call and none issued after it resolved, while
// writers and a reader run; it opens on its own and verifies clean; the
// source goes on working; it is taken right across flushes and
// compactions; tables are linked (or copied when linking fails); a
// failure leaves nothing behind; openKv databases check out too.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DB,
  ExistsError,
  InvalidArgumentError,
  IOError,
  MemFs,
  openKv,
  StrictFs,
  verifyDatabase,
} from "../../mod.ts";

const dec = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const SMALL = {
  memtableSize: 8 * 1024,
  blockSize: 512,
  l0CompactionTrigger: 2,
  levelSizeMultiplier: 2,
};

Deno.test("a checkpoint taken while 4 writers and a reader run holds what was acknowledged before the call and nothing issued after it resolved", async () => {
  const root = await Deno.makeTempDir({ prefix: "strata_checkpoint_" });
  try {
    const db = await DB.open(join(root, "live"), SMALL);
    const acked = new Map<string, string>(); // key → value, once resolved
    let stop = false;
    let phase: "before" | "during" | "after" = "before";
    const issuedAfter = new Set<string>();
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const key = `w${w}:${String(n).padStart(6, "0")}`;
        const value = `${key}:${"x".repeat(n % 50)}`;
        if (phase === "after") issuedAfter.add(key);
        await db.put(key, value, { sync: n % 7 === 0 });
        acked.set(key, value);
      }
    };
    const reader = async () => {
      let reads = 0;
      while (!stop) {
        for (const _ of db.scanSync({ limit: 50 })) reads++;
        await db.get("w0:000001");
        await new Promise((r) => setTimeout(r, 0));
      }
      return reads;
    };
    const running = [0, 1, 2, 3].map(writer);
    const reading = reader();
    while (acked.size < 3000) await new Promise((r) => setTimeout(r, 5));
    const before = new Map(acked); // acknowledged before the call
    phase = "during";
    const report = await db.checkpoint(join(root, "backup"));
    phase = "after";
    while (issuedAfter.size < 400) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all(running);
    assert.ok((await reading) > 0);
    assert.ok(db.stats().flushes.count > 0, "flushes ran meanwhile");
    assert.ok(report.linkedTables > 0 && report.copiedTables === 0);
    assert.ok(report.walFiles >= 1);

    const verified = await verifyDatabase(join(root, "backup"));
    assert.ok(verified.ok, JSON.stringify(verified.problems));
    const backup = await DB.open(join(root, "backup"), { readOnly: true });
    for (const [key, value] of before) {
      assert.equal(dec(await backup.get(key)), value, `${key} acknowledged`);
    }
    for (const key of issuedAfter) {
      assert.equal(await backup.get(key), undefined, `${key} came after`);
    }
    await backup.close();

    // The source goes on, and keeps everything through a reopen.
    await db.put("after-checkpoint", "1");
    await db.close();
    const again = await DB.open(join(root, "live"));
    for (const [key, value] of acked) {
      assert.equal(dec(await again.get(key)), value);
    }
    await again.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkpoints taken across flushes and compactions each equal the database at their moment", async () => {
  const fs = new MemFs();
  const db = await DB.open("/live", { ...SMALL, fs });
  const model = new Map<string, string>();
  const taken: { dir: string; model: Map<string, string> }[] = [];
  for (let i = 0; i < 6000; i++) {
    const key = `k${(i * 7919) % 1500}`;
    if (i % 9 === 0) {
      await db.delete(key);
      model.delete(key);
    } else {
      await db.put(key, `v${i}`);
      model.set(key, `v${i}`);
    }
    if (i % 1000 === 999) {
      // Background flushes and compactions are running now and then.
      const dir = `/backup${taken.length}`;
      await db.checkpoint(dir);
      taken.push({ dir, model: new Map(model) });
    }
  }
  assert.ok(db.stats().compactions.count > 0);
  await db.close();
  for (const { dir, model } of taken) {
    const verified = await verifyDatabase(dir, undefined, fs);
    assert.ok(verified.ok, `${dir}: ${JSON.stringify(verified.problems)}`);
    const copy = await DB.open(dir, { fs });
    const got = new Map<string, string>();
    for (const e of copy.scanSync()) got.set(dec(e.key)!, dec(e.value)!);
    assert.deepEqual(got, model, dir);
    // A checkpoint is a database of its own: it takes writes.
    await copy.put("mine", "1");
    await copy.close();
  }
});

Deno.test("a checkpoint holds range deletes and keeps snapshots out of it", async () => {
  const fs = new MemFs();
  await using db = await DB.open("/live", { fs });
  for (let i = 0; i < 100; i++) await db.put(`k${i}`, "v");
  await db.flush();
  await db.deleteRange("k1", "k5"); // in the memtable: in the WAL copied
  await db.checkpoint("/backup");
  const copy = await DB.open("/backup", { fs, readOnly: true });
  assert.equal([...copy.scanSync()].length, 100 - 44);
  await copy.close();
});

Deno.test("tables are copied when linking fails (another filesystem)", async () => {
  class NoLinks extends MemFs {
    override link(): Promise<void> {
      return Promise.reject(new Error("Invalid cross-device link (EXDEV)"));
    }
  }
  const fs = new NoLinks();
  const db = await DB.open("/live", { fs, memtableSize: 4096 });
  for (let i = 0; i < 500; i++) await db.put(`k${i}`, "v".repeat(40));
  await db.flush();
  const report = await db.checkpoint("/backup");
  assert.equal(report.linkedTables, 0);
  assert.ok(report.copiedTables > 0);
  await db.close();
  const copy = await DB.open("/backup", { fs });
  assert.equal([...copy.scanSync()].length, 500);
  await copy.close();
});

Deno.test("checkpoint refuses a directory with something in it, or inside the database; a failed one leaves nothing", async () => {
  const fs = new StrictFs();
  const db = await DB.open("/live", { fs });
  await db.put("k", "v");
  await fs.mkdir("/full");
  (await fs.create("/full/x")).close();
  await assert.rejects(() => db.checkpoint("/full"), ExistsError);
  await assert.rejects(
    () => db.checkpoint("/live/inner"),
    InvalidArgumentError,
  );
  await assert.rejects(() => db.checkpoint(""), InvalidArgumentError);
  // An empty directory is fine.
  await fs.mkdir("/empty");
  await db.checkpoint("/empty");
  // A disk error while copying the WAL: an IOError, and no half checkpoint.
  fs.inject({ call: "sync", nth: 1, failure: "EIO", path: /\/broken\// });
  await assert.rejects(() => db.checkpoint("/broken"), IOError);
  assert.equal(fs.stat("/broken"), undefined);
  await db.put("still", "writable");
  await db.close();
});

Deno.test("a read-only database checks out too", async () => {
  const fs = new MemFs();
  let db = await DB.open("/live", { fs });
  await db.put("a", "1");
  await db.flush();
  await db.put("b", "2"); // in the WAL only
  await db.close();
  db = await DB.open("/live", { fs, readOnly: true });
  await db.checkpoint("/backup");
  await db.close();
  const copy = await DB.open("/backup", { fs, readOnly: true });
  assert.deepEqual([...copy.scanSync()].map((e) => dec(e.key)), ["a", "b"]);
  await copy.close();
});

Deno.test("a checkpoint of an openKv database reads back through openKv", async () => {
  const root = await Deno.makeTempDir({ prefix: "strata_kv_checkpoint_" });
  try {
    const kv = await openKv(join(root, "live"));
    await kv.set(["users", 1n], { name: "Ada" });
    await kv.set(["users", 2n], { name: "Grace" }, { expireIn: 60_000 });
    await kv.atomic().sum(["visits"], 5n).commit();
    const before = await kv.get(["users", 1n]);
    await kv.checkpoint(join(root, "backup"));
    await kv.set(["users", 3n], { name: "later" });
    await kv.closed();
    const backup = await openKv(join(root, "backup"));
    const users = [];
    for await (const e of backup.list({ prefix: ["users"] })) users.push(e);
    assert.deepEqual(users.map((e) => e.key), [["users", 1n], ["users", 2n]]);
    assert.equal(
      (await backup.get(["users", 1n])).versionstamp,
      before.versionstamp,
    );
    assert.equal(
      ((await backup.get(["visits"])).value as Deno.KvU64).value,
      5n,
    );
    // New commits get versionstamps after every one the source gave.
    const commit = await backup.set(["new"], 1);
    assert.ok(commit.versionstamp > before.versionstamp!);
    await backup.closed();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
