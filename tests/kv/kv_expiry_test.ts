// expireIn: an expired entry is never returned, by any read path, the
// moment its time has passed (Deno KV may still show it a while), and
// compaction drops it, so its space comes back.

import assert from "node:assert/strict";
import { DB, openKv } from "../../mod.ts";
import { ENTRY_EXPIRY } from "../../lib/kv/kv_layout.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("expiry: invisible to get, getMany, list and watch once expired", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["e", "short"], "gone soon", { expireIn: 60 });
  await kv.set(["e", "long"], "stays", { expireIn: 60_000 });
  await kv.atomic().set(["e", "atomic"], "gone too", { expireIn: 60 }).commit();
  const reader = kv.watch([["e", "short"], ["e", "long"]]).getReader();
  const first = (await reader.read()).value!;
  assert.equal(first[0]!.value, "gone soon");
  // The watch wakes at the expiry time and reports the entry gone.
  const second = (await reader.read()).value!;
  assert.equal(second[0]!.value, null);
  assert.equal(second[0]!.versionstamp, null);
  assert.equal(second[1]!.value, "stays");
  await sleep(70); // the atomic's entry, written a moment later, too
  assert.equal((await kv.get(["e", "short"])).value, null);
  const many = await kv.getMany([["e", "short"], ["e", "atomic"], [
    "e",
    "long",
  ]]);
  assert.deepEqual(many.map((e) => e.value), [null, null, "stays"]);
  const listed = [];
  for await (const e of kv.list({ prefix: ["e"] })) listed.push(e.key[1]);
  assert.deepEqual(listed, ["long"]);
  // An expired entry is absent for checks too.
  const r = await kv.atomic().check({ key: ["e", "short"], versionstamp: null })
    .set(["e", "short"], "again").commit();
  assert.ok(r.ok);
  await reader.cancel();
  kv.close();
});

Deno.test("expiry: compaction drops expired entries and their space comes back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_kv_expiry_" });
  try {
    const kv = await openKv(dir);
    // Incompressible, each one different, so that the table bytes are
    // what was written.
    const random = () =>
      Array.from(
        crypto.getRandomValues(new Uint8Array(500)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
    const value = random();
    const batch = 250;
    for (let b = 0; b < 8; b++) {
      const atomic = kv.atomic();
      for (let i = 0; i < batch; i++) {
        atomic.set(["temp", b * batch + i], random(), { expireIn: 100 });
      }
      await atomic.commit();
    }
    await kv.set(["kept"], value);
    await kv.closed();
    // Open the engine itself to flush and compact (as the database does
    // in the background as it grows).
    const db = await DB.open(dir, { valueExpiry: ENTRY_EXPIRY });
    await db.flush();
    const tableBytes = () =>
      db.stats().levels.reduce((n, level) => n + level.bytes, 0);
    const before = tableBytes();
    await sleep(150);
    await db.compact();
    const after = tableBytes();
    assert.ok(before > 1_500_000, `only ${before} bytes before`);
    assert.ok(after < before / 20, `${before} bytes before, ${after} after`);
    await db.close();
    const again = await openKv(dir);
    assert.equal((await again.get(["kept"])).value, value);
    assert.equal((await again.get(["temp", 5])).value, null);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
