import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ClosedError,
  CorruptionError,
  DB,
  ExistsError,
  InvalidArgumentError,
  LockedError,
  NotFoundError,
  StrataError,
  type WriteBatch,
} from "../../mod.ts";

const text = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "strata_db_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("put, get, delete survive close and reopen", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir);
    await db.put("a", "1");
    await db.put(new Uint8Array([0, 255]), new Uint8Array([9, 9]));
    await db.put("b", "2");
    await db.delete("b");
    await db.put("c", "");
    await db.close();

    const again = await DB.open(dir);
    assert.equal(text(await again.get("a")), "1");
    assert.deepEqual(
      await again.get(new Uint8Array([0, 255])),
      new Uint8Array([9, 9]),
    );
    assert.equal(await again.get("b"), undefined);
    assert.deepEqual(await again.get("c"), new Uint8Array(0));
    assert.equal(await again.get("missing"), undefined);
    await again.close();
  });
});

Deno.test("results are fresh copies and inputs are copied", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir);
    const key = new Uint8Array([1, 2, 3]);
    const value = new Uint8Array([7, 7]);
    await db.put(key, value);
    key[0] = 99;
    value[0] = 0;
    const got = await db.get(new Uint8Array([1, 2, 3]));
    assert.deepEqual(got, new Uint8Array([7, 7]));
    got![0] = 42;
    assert.deepEqual(
      await db.get(new Uint8Array([1, 2, 3])),
      new Uint8Array([7, 7]),
    );
  });
});

Deno.test("a batch of 10,000 operations applies atomically and in order", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir);
    const batch = db.batch();
    for (let i = 0; i < 10_000; i++) batch.put(`k${i}`, `v${i}`);
    batch.delete("k5").put("k7", "last wins");
    await db.write(batch, { sync: true });
    await db.close();
    const again = await DB.open(dir);
    let n = 0;
    for await (const _ of again.scan()) n++;
    assert.equal(n, 9_999);
    assert.equal(await again.get("k5"), undefined);
    assert.equal(text(await again.get("k7")), "last wins");
    assert.equal(text(await again.get("k9999")), "v9999");
    await again.close();
  });
});

Deno.test("an invalid batch entry throws at once and nothing is applied", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir);
    const batch = db.batch().put("x", "1");
    assert.throws(() => batch.put("", "2"), InvalidArgumentError);
    assert.throws(
      () => batch.put(42 as unknown as string, "2"),
      InvalidArgumentError,
    );
    assert.equal(batch.length, 1);
    await assert.rejects(
      () => db.write({} as WriteBatch),
      InvalidArgumentError,
    );
    assert.equal(await db.get("x"), undefined);
  });
});

Deno.test("bad keys, values and options are InvalidArgumentError naming the value", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir);
    await assert.rejects(() => db.put("", "v"), /Invalid key ""/);
    await assert.rejects(
      () => db.put(new Uint8Array(64 * 1024 + 1), "v"),
      /65537 bytes/,
    );
    await assert.rejects(
      () => db.put(null as unknown as string, "v"),
      /Invalid key null/,
    );
    await assert.rejects(
      () => db.put("k", 5 as unknown as string),
      /Invalid value 5/,
    );
    await assert.rejects(
      () => db.get({} as unknown as string),
      InvalidArgumentError,
    );
    await assert.rejects(
      () => db.put("k", "v", { sink: true } as never),
      /"sink"/,
    );
    await assert.rejects(
      () => db.put("k", "v", { sync: "yes" } as never),
      /"yes"/,
    );
    assert.throws(() => db.scan({ limit: -1 }), /"limit"/);
    assert.throws(() => db.scan({ bogus: 1 } as never), /"bogus"/);
    // The 64 KiB limit itself is fine.
    await db.put(new Uint8Array(64 * 1024).fill(1), "edge");
    assert.equal(text(await db.get(new Uint8Array(64 * 1024).fill(1))), "edge");
  });
  await withDir(async (dir) => {
    await assert.rejects(
      () => DB.open(dir, { memtableSize: 0 }),
      /"memtableSize": 0/,
    );
    await assert.rejects(
      () => DB.open(dir, { colour: "blue" } as never),
      /"colour"/,
    );
    await assert.rejects(() => DB.open(dir, { sync: 1 } as never), /"sync": 1/);
    await assert.rejects(() => DB.open(dir, { blockSize: 1.5 }), /1.5/);
    await assert.rejects(() => DB.open("", {}), InvalidArgumentError);
    // A failed open leaves nothing behind.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("use after close is ClosedError; close twice is fine", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir);
    await db.put("k", "v");
    const snap = db.snapshot();
    await db.close();
    await db.close();
    await assert.rejects(() => db.put("k", "v"), ClosedError);
    await assert.rejects(() => db.get("k"), ClosedError);
    assert.throws(() => db.scan(), ClosedError);
    assert.throws(() => db.snapshot(), ClosedError);
    assert.throws(() => db.stats(), ClosedError);
    snap.release();
    assert.throws(() => snap.sequence, ClosedError);
  });
});

Deno.test("createIfMissing false, errorIfExists and readOnly", async () => {
  await withDir(async (dir) => {
    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    await assert.rejects(
      () => DB.open(empty, { createIfMissing: false }),
      NotFoundError,
    );
    await assert.rejects(
      () => DB.open(join(dir, "nope"), { createIfMissing: false }),
      NotFoundError,
    );
    // Refused opens change nothing.
    assert.deepEqual([...Deno.readDirSync(empty)], []);
    await assert.rejects(
      () => Deno.stat(join(dir, "nope")),
      Deno.errors.NotFound,
    );

    const path = join(dir, "db");
    const db = await DB.open(path);
    await db.put("k", "v");
    await db.close();
    await assert.rejects(
      () => DB.open(path, { errorIfExists: true }),
      ExistsError,
    );

    const ro = await DB.open(path, { readOnly: true });
    assert.equal(text(await ro.get("k")), "v");
    const err = await ro.put("k", "w").catch((e) => e);
    assert.ok(
      err instanceof StrataError && !(err instanceof InvalidArgumentError),
    );
    await assert.rejects(() => ro.delete("k"), StrataError);
    await assert.rejects(() => ro.write(ro.batch().put("a", "b")), StrataError);
    await ro.close();
  });
});

Deno.test("a second open of the same directory is LockedError, however spelled", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(join(dir, "db"));
    await assert.rejects(() => DB.open(join(dir, "db")), LockedError);
    await assert.rejects(
      () => DB.open(join(dir, ".", "db", "..", "db")),
      LockedError,
    );
    await Deno.symlink(join(dir, "db"), join(dir, "link"));
    await assert.rejects(() => DB.open(join(dir, "link")), LockedError);
    await db.close();
    const again = await DB.open(join(dir, "link"));
    await again.close();
  });
});

Deno.test("another process holding the database makes open fail with LockedError", async () => {
  await withDir(async (dir) => {
    const script = `import { DB } from ${
      JSON.stringify(new URL("../../mod.ts", import.meta.url).href)
    };
      const db = await DB.open(${JSON.stringify(dir)});
      console.log("open");
      setInterval(() => {}, 1000);`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /open/);
    const err = await DB.open(dir).catch((e) => e);
    assert.ok(err instanceof LockedError, String(err));
    assert.match(err.message, new RegExp(`process ${child.pid}`));
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    // The dead holder leaves no stale lock.
    const db = await DB.open(dir);
    await db.close();
  });
});

Deno.test("64 concurrent sync writers share far fewer syncs (group commit)", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir);
    const before = db.stats().walSyncs;
    const writers = Array.from(
      { length: 64 },
      (_, i) => db.put(`w${i}`, "x".repeat(100), { sync: true }),
    );
    await Promise.all(writers);
    const syncs = db.stats().walSyncs - before;
    assert.ok(syncs >= 1, "at least one sync");
    assert.ok(
      syncs <= 8,
      `expected far fewer syncs than 64 writes, got ${syncs}`,
    );
  });
});

Deno.test("a torn WAL tail is dropped and reported; earlier writes survive", async () => {
  await withDir(async (dir) => {
    // The writes stay in the WAL, as after a crash.
    const db = await DB.open(dir, { flushOnClose: false });
    for (let i = 0; i < 100; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    const logs = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.endsWith(".log")
    );
    assert.equal(logs.length, 1);
    const path = join(dir, logs[0]!.name);
    const size = Deno.statSync(path).size;
    await Deno.truncate(path, size - 3);
    const again = await DB.open(dir);
    assert.ok(again.recovery.droppedBytes > 0);
    assert.match(again.recovery.dropReasons[0]!, /\.log/);
    assert.equal(text(await again.get("k98")), "v98");
    assert.equal(await again.get("k99"), undefined);
    await again.close();
    // The recovered state is durable: a clean reopen reports nothing dropped.
    const third = await DB.open(dir);
    assert.equal(third.recovery.droppedBytes, 0);
    assert.equal(text(await third.get("k98")), "v98");
    await third.close();
  });
});

Deno.test("a corrupt WAL record in the middle keeps the prefix (point-in-time)", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir, { flushOnClose: false });
    for (let i = 0; i < 50; i++) {
      await db.put(`k${String(i).padStart(2, "0")}`, "v".repeat(50));
    }
    await db.close();
    const log = [...Deno.readDirSync(dir)].find((e) =>
      e.name.endsWith(".log")
    )!;
    const path = join(dir, log.name);
    const bytes = Deno.readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    Deno.writeFileSync(path, bytes);
    const again = await DB.open(dir);
    assert.ok(again.recovery.droppedBytes > 0);
    const keys: string[] = [];
    for await (const e of again.scan()) keys.push(text(e.key)!);
    assert.ok(keys.length > 10 && keys.length < 50, `kept ${keys.length}`);
    // A prefix: exactly k00..k(n-1).
    keys.forEach((k, i) => assert.equal(k, `k${String(i).padStart(2, "0")}`));
    await again.close();
  });
});

Deno.test("a 64 MiB value round-trips through the WAL and a table", async () => {
  await withDir(async (dir) => {
    const big = new Uint8Array(64 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const db = await DB.open(dir);
    await db.put("big", big);
    await db.close();
    const again = await DB.open(dir); // recovery writes it to a table
    const got = await again.get("big");
    assert.equal(got?.length, big.length);
    assert.ok(got!.every((b, i) => b === big[i]));
    await again.close();
  });
});

Deno.test("snapshots see the data as of when they were taken, across flushes", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir, { memtableSize: 4096 });
    await db.put("k", "v1");
    await db.put("gone", "here");
    const snap = db.snapshot();
    await db.put("k", "v2");
    await db.delete("gone");
    await db.put("new", "n");
    await db.flush();
    for (let i = 0; i < 500; i++) await db.put(`fill${i}`, "x".repeat(40));
    await db.compact();
    assert.equal(text(await db.get("k", { snapshot: snap })), "v1");
    assert.equal(text(await db.get("gone", { snapshot: snap })), "here");
    assert.equal(await db.get("new", { snapshot: snap }), undefined);
    const seen: string[] = [];
    for await (const e of db.scan({ snapshot: snap })) seen.push(text(e.key)!);
    assert.deepEqual(seen, ["gone", "k"]);
    assert.equal(text(await db.get("k")), "v2");
    snap.release();
    assert.throws(() => db.scan({ snapshot: snap }), ClosedError);
  });
});

Deno.test("stats report levels, sizes and counters", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir, { memtableSize: 16 * 1024 });
    for (let i = 0; i < 2000; i++) await db.put(`key${i}`, "v".repeat(100));
    await db.flush();
    await db.waitForBackgroundWork();
    const s = db.stats();
    assert.equal(s.levels.length, 7);
    assert.ok(s.levels.reduce((n, l) => n + l.files, 0) > 0);
    assert.ok(s.diskBytes > 0);
    assert.equal(s.sequence, 2000);
    assert.ok(s.writeAmplification >= 1);
    assert.equal(typeof s.cache.hits, "number");
    assert.ok(s.compactions.count >= 1);
  });
});

Deno.test("a put that waits for room still writes the bytes it was given", async () => {
  await withDir(async (dir) => {
    await using db = await DB.open(dir, { memtableSize: 4096 });
    const key = new Uint8Array(8);
    const value = new Uint8Array(200);
    const pending: Promise<void>[] = [];
    // Not awaited: several of these find the memtable full and wait, while
    // the caller reuses its buffers right away.
    for (let i = 0; i < 200; i++) {
      key.fill(0);
      key[7] = i;
      value.fill(i);
      pending.push(db.put(key, value));
    }
    await Promise.all(pending);
    for (let i = 0; i < 200; i++) {
      const k = new Uint8Array(8);
      k[7] = i;
      assert.deepEqual(
        await db.get(k),
        new Uint8Array(200).fill(i),
        `key ${i}`,
      );
    }
  });
});

Deno.test("a burst of writes queues full memtables and loses none of them", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir, { memtableSize: 2048 });
    // Not awaited one by one: memtables fill faster than they flush, so
    // several wait in the immutable queue at once.
    await Promise.all(
      Array.from(
        { length: 3000 },
        (_, i) => db.put(`k${String(i).padStart(5, "0")}`, `v${i}`),
      ),
    );
    const live = db.stats();
    assert.ok(live.levels[0]!.files + live.levels[1]!.files > 0);
    await db.close();
    const again = await DB.open(dir);
    let n = 0;
    for await (const e of again.scan()) {
      assert.equal(text(e.value), `v${Number(text(e.key)!.slice(1))}`);
      n++;
    }
    assert.equal(n, 3000);
    await again.close();
  });
});

Deno.test("a loop of awaited gets lets a background compaction finish", async () => {
  await withDir(async (dir) => {
    const small = { memtableSize: 16 * 1024, l0CompactionTrigger: 64 };
    // Without the close flush, close leaves level 0 as it is.
    let db = await DB.open(dir, { ...small, flushOnClose: false });
    for (let i = 0; i < 4000; i++) {
      await db.put(`k${String(i % 1000).padStart(4, "0")}`, "v".repeat(40));
    }
    await db.close();
    // Reopened with a low trigger, the level-0 files need a compaction at
    // once. Awaited gets that resolve at once run in microtasks, so the
    // compaction's result is only installed if reads yield now and then.
    db = await DB.open(dir, { ...small, l0CompactionTrigger: 2 });
    assert.ok(db.stats().levels[0]!.files >= 2);
    let gets = 0;
    const compacted = () => db.stats().compactions.count > 0;
    while (gets < 2_000_000 && (gets % 1000 !== 0 || !compacted())) {
      const key = `k${String(gets % 1000).padStart(4, "0")}`;
      assert.equal(text(await db.get(key))?.length, 40);
      gets++;
    }
    assert.ok(compacted(), `no compaction after ${gets} gets`);
    await db.close();
  });
});

Deno.test("many short scans do not each queue a sweep of the directory", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir, { memtableSize: 16 * 1024 });
    for (let i = 0; i < 2000; i++) {
      await db.put(`k${String(i).padStart(4, "0")}`, "v".repeat(40));
    }
    const readDir = Deno.readDir;
    let listings = 0;
    Deno.readDir = (path) => {
      listings++;
      return readDir(path);
    };
    try {
      for (let i = 0; i < 2000; i++) {
        for await (const _ of db.scan({ gte: `k${i}`, limit: 3 })) {
          /* read */
        }
      }
      // Give queued sweeps time to run. A listing per scan once queued
      // 100,000 of them, and a flush waited 25 s behind them.
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(listings < 20, `${listings} directory listings for 2000 scans`);
    } finally {
      Deno.readDir = readDir;
    }
    await db.close();
  });
});

Deno.test("a damaged table still opens the database; reads that need it fail with CorruptionError", async () => {
  await withDir(async (dir) => {
    let db = await DB.open(dir);
    await db.put("a", "1");
    await db.close(); // the WAL becomes a table at the next open
    db = await DB.open(dir);
    await db.close();
    const table = [...Deno.readDirSync(dir)].find((e) =>
      e.name.endsWith(".sst")
    )!.name;
    const bytes = await Deno.readFile(join(dir, table));
    bytes[bytes.length - 1]! ^= 0xff; // the footer's magic number
    await Deno.writeFile(join(dir, table), bytes);
    // Tables are opened eagerly, but a failure there is left to the read.
    db = await DB.open(dir);
    await assert.rejects(
      () => db.get("a"),
      (err: unknown) =>
        err instanceof CorruptionError && err.file === join(dir, table),
    );
    await db.close();
  });
});
