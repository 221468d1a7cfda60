// DB.stats(): the figures since open, and the lifetime figures the
// manifest keeps across opens; DB.compact's progress reports.

import assert from "node:assert/strict";
import { DB, InvalidArgumentError, MemFs } from "../../mod.ts";
import type { CompactionProgress } from "../../mod.ts";

const OPTIONS = { memtableSize: 8 * 1024, blockSize: 1024 };

async function work(db: DB, from: number, n: number) {
  for (let i = from; i < from + n; i++) {
    await db.put(`k${i % 700}`, "v".repeat(60), { sync: i % 50 === 0 });
  }
  await db.compact();
}

Deno.test("lifetime counters survive close and reopen, and add up over opens; since-open counters start at zero", async () => {
  const fs = new MemFs();
  // Close writes nothing but the counters (a flush at close would count).
  const KEEP_WAL = { ...OPTIONS, flushOnClose: false };
  let db = await DB.open("/db", { ...KEEP_WAL, fs });
  await work(db, 0, 3000);
  // Work after the last flush or compaction: only close records it.
  await db.put("tail", "x", { sync: true });
  const first = db.stats();
  assert.ok(first.compactions.count > 0 && first.flushes.count > 0);
  assert.ok(first.walSyncs >= 60);
  assert.deepEqual(first.lifetime.compactions, first.compactions);
  assert.equal(first.lifetime.flushes, first.flushes.count);
  assert.equal(first.lifetime.walSyncs, first.walSyncs);
  assert.ok(first.lifetime.writeAmplification > 1);
  await db.close();

  // A read-only open (what `strata stats` does) shows the history.
  db = await DB.open("/db", { ...KEEP_WAL, fs, readOnly: true });
  const closed = db.stats();
  assert.deepEqual(closed.lifetime, first.lifetime);
  assert.equal(closed.compactions.count, 0, "since open: nothing yet");
  assert.equal(closed.writeAmplification, 0);
  await db.close();

  db = await DB.open("/db", { ...KEEP_WAL, fs });
  await work(db, 3000, 2000);
  const second = db.stats();
  await db.close();
  db = await DB.open("/db", { ...KEEP_WAL, fs, readOnly: true });
  const total = db.stats().lifetime;
  await db.close();
  assert.equal(
    total.compactions.count,
    first.compactions.count + second.compactions.count,
  );
  assert.equal(
    total.compactions.bytesWritten,
    first.compactions.bytesWritten + second.compactions.bytesWritten,
  );
  assert.equal(total.flushes, first.flushes.count + second.flushes.count);
  assert.equal(total.walSyncs, first.walSyncs + second.walSyncs);
  assert.equal(total.userBytes, second.lifetime.userBytes);
  assert.ok(total.userBytes > first.lifetime.userBytes);
});

Deno.test("a session that changes nothing appends nothing to the manifest at close", async () => {
  const fs = new MemFs();
  let db = await DB.open("/db", { fs });
  await db.put("a", "1");
  await db.close();
  const manifest = () =>
    new TextDecoder().decode(fs.readFile("/db/CURRENT")).trim();
  const size = fs.stat(`/db/${manifest()}`)!.size;
  db = await DB.open("/db", { fs, readOnly: true });
  await db.get("a");
  await db.close();
  assert.equal(fs.stat(`/db/${manifest()}`)!.size, size);
});

Deno.test("compact({ onProgress }) reports each job, growing to an exact final report", async () => {
  await using db = await DB.open(":memory:", {
    ...OPTIONS,
    l0CompactionTrigger: 2,
    levelSizeMultiplier: 2,
  });
  for (let i = 0; i < 20_000; i++) {
    await db.put(`k${(i * 7919) % 20_000}`, "v".repeat(60));
  }
  const reports: CompactionProgress[] = [];
  await db.compact({ onProgress: (p) => reports.push(p) });
  assert.ok(reports.length > 2, `${reports.length} reports`);
  for (let i = 1; i < reports.length; i++) {
    assert.ok(reports[i]!.bytesRead >= reports[i - 1]!.bytesRead);
    assert.ok(reports[i]!.level >= reports[i - 1]!.level);
  }
  const last = reports.at(-1)!;
  assert.equal(last.done, true);
  assert.equal(last.bytesRead, last.totalBytes);
  assert.ok(reports.slice(0, -1).every((p) => !p.done));
  assert.ok(reports.every((p) => p.bytesRead <= p.totalBytes));
});

Deno.test("compact checks its options", async () => {
  await using db = await DB.open(":memory:");
  await assert.rejects(
    () => db.compact({ onProgress: 5 as never }),
    InvalidArgumentError,
  );
  await assert.rejects(
    () => db.compact({ fast: true } as never),
    /Unknown compact option "fast"/,
  );
});
