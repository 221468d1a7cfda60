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
