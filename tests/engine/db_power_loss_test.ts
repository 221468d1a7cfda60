// Power loss, simulated with StrictFs: what survives is what was synced,
// and every write acknowledged with sync: true must be there.

import assert from "node:assert/strict";
import { DB } from "../../mod.ts";
import { StrictFs } from "../../lib/fs/strict_fs.ts";

const text = (b: Uint8Array | undefined) => b && new TextDecoder().decode(b);

Deno.test("power loss after a WAL rotation keeps durable writes that follow a sync: false tail", async () => {
  // The interleaving: sync: false writes fill WAL A (its last record is one
  // of them), the memtable rotates to WAL B, sync: true writes go to B and
  // are acknowledged; then power fails with a prefix of A's unsynced tail
  // on disk, cutting its last record in the middle. Recovery stops at that
  // torn record and skips the logs after it, so a durable write to B may
  // only be acknowledged once A is synced.
  const memtableSize = 1 << 20; // a flush that takes several slices
  const fs = new StrictFs();
  const db = await DB.open("/db", { fs, memtableSize });
  const filler = "f".repeat(200);
  let i = 0;
  while (db.stats().memtableBytes < memtableSize) {
    await db.put(`a${i++}`, filler); // sync: false
  }
  const durable: string[] = [];
  for (let j = 0; j < 20; j++) {
    await db.put(`d${j}`, `durable ${j}`, { sync: true });
    durable.push(`d${j}`);
  }
  // Power fails now: A's flush has not finished (it takes several slices).
  for (const keep of [0.25, 0.5, 0.75]) {
    const image = fs.crashImage({ torn: true, random: () => keep });
    const after = await DB.open("/db", { fs: image, memtableSize });
    for (const key of durable) {
      assert.equal(
        text(await after.get(key)),
        `durable ${key.slice(1)}`,
        `lost ${key} (kept ${keep} of the unsynced tails); recovery: ${
          after.recovery.dropReasons.join("; ")
        }`,
      );
    }
    await after.close();
  }
  await db.close();
});
