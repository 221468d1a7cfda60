// StrictFs models what survives power loss; each rule it models is checked
// here, since every crash test of the engine trusts it.

import assert from "node:assert/strict";
import { StrictFs } from "../../lib/fs/strict_fs.ts";
import { writeAll } from "../../lib/fs/fs.ts";
import { rng } from "../fixtures/rng.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

async function freshDir(): Promise<StrictFs> {
  const fs = new StrictFs();
  await fs.mkdir("/db");
  await fs.syncDir("/");
  return fs;
}

Deno.test("strict fs: unsynced appends are lost, synced ones kept", async () => {
  const fs = await freshDir();
  const f = await fs.create("/db/a");
  await fs.syncDir("/db");
  writeAll(f, bytes(1, 2, 3));
  await f.syncData();
  writeAll(f, bytes(4, 5));
  assert.deepEqual(fs.crashImage().readFile("/db/a"), bytes(1, 2, 3));
  await f.syncData();
  assert.deepEqual(fs.crashImage().readFile("/db/a"), bytes(1, 2, 3, 4, 5));
});

Deno.test("strict fs: a synced file whose name was never synced is lost", async () => {
  const fs = await freshDir();
  const f = await fs.create("/db/a");
  writeAll(f, bytes(1));
  await f.syncData();
  assert.equal(fs.crashImage().stat("/db/a"), undefined);
  await fs.syncDir("/db");
  assert.deepEqual(fs.crashImage().readFile("/db/a"), bytes(1));
});

Deno.test("strict fs: a directory made without syncing its parent is lost", async () => {
  const fs = new StrictFs();
  await fs.mkdir("/db");
  const f = await fs.create("/db/a");
  await fs.syncDir("/db");
  await f.syncData();
  assert.equal(fs.crashImage().stat("/db"), undefined);
  await fs.syncDir("/");
  assert.ok(fs.crashImage().stat("/db/a")?.isFile);
});

Deno.test("strict fs: renames and removals are durable after a directory sync", async () => {
  const fs = await freshDir();
  const t = await fs.create("/db/t.tmp");
  writeAll(t, bytes(9));
  await t.syncData();
  await fs.syncDir("/db");
  await fs.rename("/db/t.tmp", "/db/CURRENT");
  let image = fs.crashImage();
  assert.ok(image.stat("/db/t.tmp"));
  assert.equal(image.stat("/db/CURRENT"), undefined);
  await fs.syncDir("/db");
  image = fs.crashImage();
  assert.deepEqual(image.readFile("/db/CURRENT"), bytes(9));
  await fs.remove("/db/CURRENT");
  assert.ok(fs.crashImage().stat("/db/CURRENT"));
  await fs.syncDir("/db");
  assert.equal(fs.crashImage().stat("/db/CURRENT"), undefined);
});

Deno.test("strict fs: a hard link is durable after a directory sync", async () => {
  const fs = await freshDir();
  const t = await fs.create("/db/000005.sst");
  writeAll(t, bytes(4, 2));
  await t.syncData();
  await fs.syncDir("/db");
  await fs.mkdir("/copy");
  await fs.syncDir("/");
  await fs.link("/db/000005.sst", "/copy/000005.sst");
  assert.equal(fs.calls.link, 1);
  assert.equal(fs.crashImage().stat("/copy/000005.sst"), undefined);
  await fs.syncDir("/copy");
  assert.deepEqual(fs.crashImage().readFile("/copy/000005.sst"), bytes(4, 2));
});

Deno.test("strict fs: cutting a file keeps its durable bytes until the next sync", async () => {
  const fs = await freshDir();
  const f = await fs.create("/db/m");
  await fs.syncDir("/db");
  writeAll(f, bytes(1, 2, 3, 4));
  await f.syncData();
  f.close();
  const g = await fs.openAppend("/db/m", 2);
  writeAll(g, bytes(7));
  assert.deepEqual(fs.readFile("/db/m"), bytes(1, 2, 7));
  assert.deepEqual(fs.crashImage().readFile("/db/m"), bytes(1, 2, 3, 4));
  await g.syncData();
  assert.deepEqual(fs.crashImage().readFile("/db/m"), bytes(1, 2, 7));
});

Deno.test("strict fs: a failed sync loses its bytes even after a later sync succeeds", async () => {
  const fs = await freshDir();
  const f = await fs.create("/db/w");
  await fs.syncDir("/db");
  writeAll(f, bytes(1, 1));
  await f.syncData();
  writeAll(f, bytes(2, 2));
  fs.inject({ call: "sync", nth: 1, failure: "EIO" });
  await assert.rejects(() => f.syncData(), { code: "EIO" });
  writeAll(f, bytes(3));
  await f.syncData(); // "succeeds": the kernel had dropped the dirty pages
  assert.deepEqual(fs.crashImage().readFile("/db/w"), bytes(1, 1, 0, 0, 3));
});

Deno.test("strict fs: torn variant keeps a prefix of the unsynced appends", async () => {
  const fs = await freshDir();
  const f = await fs.create("/db/a");
  await fs.syncDir("/db");
  writeAll(f, bytes(1, 2));
  await f.syncData();
  writeAll(f, bytes(3, 4, 5, 6));
  const seen = new Set<number>();
  let r = 0;
  const random = () => (r = (r + 0.37) % 1);
  for (let i = 0; i < 40; i++) {
    const got = fs.crashImage({ torn: true, random }).readFile("/db/a");
    assert.deepEqual(got, bytes(1, 2, 3, 4, 5, 6).subarray(0, got.length));
    assert.ok(got.length >= 2);
    seen.add(got.length);
  }
  assert.ok(seen.size > 2, `lengths seen: ${[...seen]}`);
});

Deno.test("strict fs: reorder variant keeps any subset of unsynced directory changes", async () => {
  const fs = await freshDir();
  for (const name of ["a", "b", "c"]) (await fs.create(`/db/${name}`)).close();
  const shapes = new Set<string>();
  const random = rng(7);
  for (let i = 0; i < 64; i++) {
    shapes.add(
      fs.crashImage({ reorder: true, random }).listSync("/db").sort().join(),
    );
  }
  assert.ok(shapes.has(""), [...shapes].join(" | "));
  assert.ok(shapes.has("a,b,c"), [...shapes].join(" | "));
  assert.ok(shapes.size >= 6, [...shapes].join(" | "));
});

Deno.test("strict fs: crash kills the old filesystem and its handles", async () => {
  const fs = await freshDir();
  const f = await fs.create("/db/a");
  const after = fs.crash();
  assert.throws(() => f.write(bytes(1)), /crashed/);
  await assert.rejects(() => fs.create("/db/b"), /crashed/);
  assert.deepEqual(await after.list("/db"), []);
  // The image is itself a StrictFs: it can crash again.
  const g = await after.create("/db/c");
  await after.syncDir("/db");
  await g.syncData();
  assert.ok(after.crash().stat("/db/c"));
});

Deno.test("strict fs: injected errors fire at the nth matching call", async () => {
  const fs = await freshDir();
  fs.inject({ call: "create", nth: 2, failure: "ENOSPC", path: /\.sst$/ });
  (await fs.create("/db/1.sst")).close();
  (await fs.create("/db/2.log")).close();
  await assert.rejects(() => fs.create("/db/3.sst"), { code: "ENOSPC" });
  (await fs.create("/db/4.sst")).close(); // fired once only
  const f = await fs.create("/db/w");
  fs.inject({ call: "write", nth: 1, failure: "short" });
  assert.equal(f.write(new Uint8Array(10)), 5);
  assert.throws(() => f.write(new Uint8Array(5)), { code: "ENOSPC" });
  fs.inject({ call: "rename", nth: 1, failure: "EIO" });
  await assert.rejects(() => fs.rename("/db/w", "/db/x"), { code: "EIO" });
  assert.ok(fs.stat("/db/w"));
});

Deno.test("strict fs: locks are exclusive and do not survive a crash", async () => {
  const fs = await freshDir();
  const lock = fs.lock("/db/LOCK", "1\n");
  assert.ok("release" in lock);
  const again = fs.lock("/db/LOCK", "2\n");
  assert.ok(!("release" in again) && again.holder === "1\n");
  assert.ok(!("release" in fs.lockShared("/db/LOCK")));
  await fs.syncDir("/db");
  const after = fs.crash();
  assert.ok("release" in after.lock("/db/LOCK", "3\n"));
});
