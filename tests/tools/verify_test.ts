// Tests of verifyDatabase (lib/tools/verify.ts): a clean database passes, and
// each kind of damage is reported with the file and offset at fault.

import assert from "node:assert/strict";
import { join } from "node:path";
import { DB, NotFoundError } from "../../mod.ts";
import { verifyDatabase } from "../../lib/tools/verify.ts";
import { dumpFile } from "../../lib/tools/dump.ts";

async function withDb(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "strata-verify-test-" });
  const dir = join(root, "db");
  try {
    // One table and a WAL with records in it (close leaves them there).
    const db = await DB.open(dir, { flushOnClose: false });
    for (let i = 0; i < 300; i++) {
      await db.put(
        `key:${String(i).padStart(4, "0")}`,
        `value ${i} `.repeat(8),
      );
    }
    await db.delete("key:0003");
    await db.flush();
    await db.write(db.batch().put("wal:1", "a").put("wal:2", "b"));
    await db.put("wal:3", "c");
    await db.close();
    await fn(dir);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function fileEnding(dir: string, suffix: string): string {
  const name = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.endsWith(suffix)
  )
    .sort().at(-1);
  assert.ok(name, `no ${suffix} file in ${dir}`);
  return join(dir, name);
}

function flipByte(path: string, offset: number): void {
  const bytes = Deno.readFileSync(path);
  bytes[offset]! ^= 0x40;
  Deno.writeFileSync(path, bytes);
}

Deno.test("verifyDatabase: a clean database has no problems", async () => {
  await withDb(async (dir) => {
    const progress: number[] = [];
    const report = await verifyDatabase(dir, (done, total) => {
      assert.ok(done <= total);
      progress.push(done);
    });
    assert.deepEqual(report.problems, []);
    assert.ok(report.ok);
    assert.equal(report.inUse, false);
    assert.equal(report.checked.manifests, 1);
    assert.equal(report.checked.tables, 1);
    assert.ok(report.checked.logs >= 1);
    assert.equal(report.entries, 301 + 3);
    assert.ok(progress.length >= 2);
  });
});

Deno.test("verifyDatabase: a flipped SSTable byte is reported with file and offset", async () => {
  await withDb(async (dir) => {
    const sst = fileEnding(dir, ".sst");
    flipByte(sst, 200);
    const report = await verifyDatabase(dir);
    assert.equal(report.ok, false);
    assert.equal(report.problems.length, 1);
    const [p] = report.problems;
    assert.equal(p!.file, sst);
    assert.equal(p!.offset, 0); // the first data block, which holds byte 200
    assert.match(p!.message, /checksum/);
  });
});

Deno.test("verifyDatabase: a torn WAL tail is reported at its offset", async () => {
  await withDb(async (dir) => {
    const log = fileEnding(dir, ".log");
    const size = Deno.statSync(log).size;
    const dump = dumpFile(log);
    assert.equal(dump.kind, "log");
    const lastRecord = dump.kind === "log" ? dump.records.at(-1)!.offset : 0;
    Deno.truncateSync(log, size - 3);
    const report = await verifyDatabase(dir);
    assert.equal(report.ok, false);
    const p = report.problems.find((p) => p.file === log);
    assert.ok(p, JSON.stringify(report.problems));
    assert.equal(p.offset, lastRecord);
    assert.match(p.message, /torn/);
  });
});

Deno.test("verifyDatabase: a missing table and a damaged manifest record", async () => {
  await withDb(async (dir) => {
    const sst = fileEnding(dir, ".sst");
    await Deno.remove(sst);
    const missing = await verifyDatabase(dir);
    assert.equal(missing.ok, false);
    assert.equal(missing.problems[0]!.file, sst);
    assert.match(missing.problems[0]!.message, /missing/);

    const current = (await Deno.readTextFile(join(dir, "CURRENT"))).trim();
    const manifest = join(dir, current);
    flipByte(manifest, 8 + 8 + 2); // payload of the first record, not the last
    const damaged = await verifyDatabase(dir);
    const p = damaged.problems.find((p) => p.file === manifest);
    assert.ok(p, JSON.stringify(damaged.problems));
    assert.equal(p.offset, 8);
    assert.match(p.message, /checksum/);
  });
});

Deno.test("verifyDatabase: bad CURRENT, orphan tables and no database", async () => {
  await withDb(async (dir) => {
    const sst = fileEnding(dir, ".sst");
    await Deno.copyFile(sst, join(dir, "999999.sst"));
    const orphan = await verifyDatabase(dir);
    assert.ok(orphan.ok, JSON.stringify(orphan.problems));
    assert.deepEqual(orphan.orphans, [join(dir, "999999.sst")]);

    await Deno.writeTextFile(join(dir, "CURRENT"), "garbage");
    const bad = await verifyDatabase(dir);
    assert.equal(bad.ok, false);
    assert.equal(bad.problems[0]!.file, join(dir, "CURRENT"));

    const empty = await Deno.makeTempDir();
    try {
      await assert.rejects(() => verifyDatabase(empty), NotFoundError);
      await assert.rejects(
        () => verifyDatabase(join(empty, "nope")),
        NotFoundError,
      );
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  });
});

Deno.test("verifyDatabase: reports a database another handle holds open", async () => {
  await withDb(async (dir) => {
    const db = await DB.open(dir);
    try {
      const report = await verifyDatabase(dir);
      assert.equal(report.inUse, true);
    } finally {
      await db.close();
    }
  });
});
