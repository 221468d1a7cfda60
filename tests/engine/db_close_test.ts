// close() with work in flight: once it resolves, the handle touches no
// file, nothing it was doing resolves as if done, and the directory opens
// again at once.

import assert from "node:assert/strict";
import { ClosedError, DB } from "../../mod.ts";

const listing = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).sort().join(",");

Deno.test("close() with writes and flush() calls in flight: nothing happens after it resolves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_close_test_" });
  try {
    for (let round = 0; round < 25; round++) {
      const db = await DB.open(dir, { memtableSize: 2048 });
      let closeResolved = false;
      const late: string[] = [];
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0;; i++) {
          try {
            await db.put(`w${w}-${i % 50}`, "x".repeat(100));
          } catch (err) {
            assert.ok(err instanceof ClosedError, String(err));
            return;
          }
        }
      });
      const flushes = Array.from({ length: 3 }, async () => {
        for (;;) {
          try {
            await db.flush();
            if (closeResolved) late.push("a flush() resolved after close()");
          } catch (err) {
            assert.ok(err instanceof ClosedError, String(err));
            return;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 5 + (round % 7) * 3));
      await db.close();
      closeResolved = true;
      const atClose = listing(dir);
      // Everything in flight settles (a flush() waiting for a rotation that
      // close() cut short used to wait forever).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settled = await Promise.race([
        Promise.all([...writers, ...flushes]).then(() => true),
        new Promise<false>((r) => timer = setTimeout(() => r(false), 10_000)),
      ]);
      clearTimeout(timer);
      assert.ok(settled, `round ${round}: a write or flush() never settled`);
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(late, []);
      assert.equal(
        listing(dir),
        atClose,
        `round ${round}: files changed after close()`,
      );
      // Reopen at once: always works.
      const again = await DB.open(dir, { memtableSize: 2048 });
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second close() waits for the first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_close_test_" });
  try {
    const db = await DB.open(dir, { memtableSize: 2048 });
    for (let i = 0; i < 500; i++) await db.put(`k${i}`, "v".repeat(64));
    const first = db.close();
    await db.close();
    const again = await DB.open(dir); // the first close released the lock
    await again.close();
    await first;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() lets the compactions under way finish, so the next open starts on a settled tree", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_close_drain_" });
  try {
    const db = await DB.open(dir, { memtableSize: 64 * 1024 });
    const value = new Uint8Array(200);
    // Random keys, written as fast as possible: flushes outrun compaction,
    // so level 0 is over its trigger (or being compacted) when close comes.
    for (let i = 0; i < 30000; i += 200) {
      const batch = db.batch();
      for (let j = i; j < i + 200; j++) {
        const k = (j * 7919) % 30000;
        value[0] = j & 0xff;
        batch.put(`key${String(k).padStart(6, "0")}`, value);
      }
      await db.write(batch);
    }
    await db.close();
    const again = await DB.open(dir, { readOnly: true });
    const level0 = again.stats().levels[0]!.files;
    await again.close();
    assert.ok(level0 < 4, `${level0} level-0 tables left at close`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() writes the memtables to a table and leaves an empty log; without it, the next open replays the log and reuses its file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_close_test_" });
  try {
    // A small memtable and no compaction: full memtables wait as immutable
    // ones behind the live one, and close writes them all.
    const db = await DB.open(dir, {
      memtableSize: 64 * 1024,
      l0CompactionTrigger: 64,
    });
    const model = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const k = `k${(i * 7919) % 2000}`;
      await db.put(k, `v${i}`);
      model.set(k, `v${i}`);
    }
    await db.deleteRange("k1", "k2");
    for (const k of [...model.keys()]) {
      if (k >= "k1" && k < "k2") model.delete(k);
    }
    await db.put("k1-after", "kept");
    model.set("k1-after", "kept");
    await db.close();
    const logs = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.endsWith(".log")
    ).map((e) => Deno.statSync(`${dir}/${e.name}`));
    const again = await DB.open(dir);
    try {
      assert.equal(again.recovery.entries, 0, "nothing left to replay");
      assert.equal(again.recovery.logFiles, 1, "only an empty log");
      // Close then merged the level-0 tables into level 1 (no compaction
      // would have, with this trigger): a reopen's reads probe none.
      assert.equal(again.stats().levels[0]!.files, 0, "level 0 settled");
      assert.ok(again.stats().levels[1]!.files > 0);
      const got = new Map<string, string>();
      for await (const { key, value } of again.scan()) {
        got.set(new TextDecoder().decode(key), new TextDecoder().decode(value));
      }
      assert.deepEqual(got, model);
      // Close left only the empty log: no WAL's worth of disk.
      const wals = [...Deno.readDirSync(dir)].filter((e) =>
        e.name.endsWith(".log")
      );
      assert.equal(wals.length, 1);
      assert.equal(logs.length, 1);
      assert.equal(logs[0]!.size, 8);
    } finally {
      await again.close();
    }
    // flushOnClose: false leaves the writes in the WAL for the next open,
    // which replays it and reuses it as its WAL (the same inode).
    const keep = await DB.open(dir, { flushOnClose: false });
    await keep.put("late", "x");
    await keep.close();
    const kept = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.endsWith(".log")
    ).map((e) => Deno.statSync(`${dir}/${e.name}`));
    assert.equal(kept.length, 1);
    const third = await DB.open(dir);
    assert.equal(third.recovery.entries, 1);
    assert.equal(new TextDecoder().decode(await third.get("late")), "x");
    const reused = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.endsWith(".log")
    ).map((e) => Deno.statSync(`${dir}/${e.name}`));
    assert.equal(reused.length, 1);
    assert.equal(reused[0]!.ino, kept[0]!.ino);
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
