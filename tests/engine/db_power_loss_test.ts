// Power loss, simulated with StrictFs: what survives is what was synced,
// and every write acknowledged with sync: true must be there.

import assert from "node:assert/strict";
import { DB, verifyDatabase } from "../../mod.ts";
import { StrictFs } from "../../lib/fs/strict_fs.ts";
import { VersionSet } from "../../lib/manifest/version_set.ts";
import {
  acknowledged,
  checkRecovered,
  type History,
  runWorkload,
  SMALL_DB,
  type WriteRecord,
} from "../fixtures/durable_workload.ts";
import { rng, seeds } from "../fixtures/rng.ts";

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
  fs.syncTurns = (bytes) => Math.ceil(bytes / 4096); // big syncs take longer
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

// Crash at every sync: the workload runs once on a StrictFs, and at every
// sync and directory sync (and at some calls between them) the state a
// power loss would leave is taken, plain, with torn appends or with
// reordered directory changes. Each is reopened and checked afterwards.
const CRASH_SEEDS = seeds([11, 12, 13]);

for (const seed of CRASH_SEEDS) {
  Deno.test(`power loss at every sync point keeps what was promised (seed ${seed})`, async () => {
    const saved = VersionSet.manifestRewriteBytes;
    VersionSet.manifestRewriteBytes = 2048; // manifest rewrites too
    try {
      const fs = new StrictFs();
      fs.syncTurns = (bytes) => Math.ceil(bytes / 512); // big syncs take longer
      const history: History = { writes: [], firstError: undefined };
      const crashes: {
        image: StrictFs;
        writes: WriteRecord[];
        where: string;
      }[] = [];
      const r = rng(seed * 7919);
      let calls = 0;
      fs.observer = (call, path) => {
        calls++;
        if (call !== "sync" && call !== "syncDir" && r() > 0.04) return;
        const variant = crashes.length % 3;
        const options = variant === 1
          ? { torn: true, random: r }
          : variant === 2
          ? { reorder: true, random: r }
          : {};
        crashes.push({
          image: fs.crashImage(options),
          writes: acknowledged(history),
          where: `seed ${seed}, call ${calls} (${call} ${path}), ${
            ["plain", "torn", "reordered"][variant]
          }`,
        });
      };
      const db = await DB.open("/db", { fs, ...SMALL_DB });
      await runWorkload(db, seed, 110, { history });
      await db.close();
      fs.observer = undefined;
      assert.equal(history.firstError, undefined);
      assert.ok(crashes.length >= 150, `only ${crashes.length} crash points`);
      for (const { image, writes, where } of crashes) {
        let db: DB;
        try {
          db = await DB.open("/db", { fs: image, ...SMALL_DB });
        } catch (err) {
          throw new Error(`${where}: the database does not open: ${err}`);
        }
        await checkRecovered(db, writes, history.writes, where);
        await db.close();
        const report = await verifyDatabase("/db", undefined, image);
        assert.ok(report.ok, `${where}: ${JSON.stringify(report.problems)}`);
      }
      powerLosses += crashes.length;
    } finally {
      VersionSet.manifestRewriteBytes = saved;
    }
  });
}

let powerLosses = 0;
// About 340 per seed: at least 1,000 in a run of the four; SEED=n replays one.
Deno.test("power loss: at least 250 simulated per seed", () => {
  assert.ok(
    powerLosses >= 250 * CRASH_SEEDS.length,
    `${powerLosses} simulated power losses (${CRASH_SEEDS.length} seeds)`,
  );
  console.log(`${powerLosses} simulated power losses`);
});
