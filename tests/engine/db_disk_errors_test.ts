// Disk errors, injected with StrictFs at the Nth call of a kind: a full
// disk, an I/O error or a short write in a WAL append or sync, a table
// write (flush or compaction), the manifest, CURRENT's rename or a
// directory sync. The write that meets it (or the first write after a
// background job met it) fails with an error naming the operation and the
// file; every later write fails too; reads go on; nothing acknowledged is
// lost after a reopen, or after a power loss for the durable writes; the
// reopened database verifies clean.

import assert from "node:assert/strict";
import { DB, StrataError, verifyDatabase } from "../../mod.ts";
import {
  type FsCall,
  type InjectedFailure,
  StrictFs,
} from "../../lib/fs/strict_fs.ts";
import { VersionSet } from "../../lib/manifest/version_set.ts";
import {
  checkRecovered,
  runWorkload,
  SMALL_DB,
  type WriteRecord,
} from "../fixtures/durable_workload.ts";
import { rng, seeds } from "../fixtures/rng.ts";

const CASES: [string, FsCall, RegExp | undefined, InjectedFailure[]][] = [
  ["WAL append", "write", /\.log$/, ["ENOSPC", "EIO", "short"]],
  ["WAL sync", "sync", /\.log$/, ["EIO"]],
  ["WAL create", "create", /\.log$/, ["ENOSPC"]],
  ["table write", "write", /\.sst$/, ["ENOSPC", "short"]],
  ["table sync", "sync", /\.sst$/, ["EIO"]],
  ["table create", "create", /\.sst$/, ["ENOSPC"]],
  ["manifest write", "write", /MANIFEST-/, ["ENOSPC", "short"]],
  ["manifest sync", "sync", /MANIFEST-/, ["EIO"]],
  ["CURRENT rename", "rename", /CURRENT$/, ["EIO"]],
  ["directory sync", "syncDir", undefined, ["EIO"]],
];

let injected = 0;
const SEEDS = seeds([21, 22]);

for (const seed of SEEDS) {
  for (const [what, call, path, failures] of CASES) {
    for (const failure of failures) {
      Deno.test(`disk error: ${failure} at a ${what} (seed ${seed})`, async () => {
        const saved = VersionSet.manifestRewriteBytes;
        VersionSet.manifestRewriteBytes = 2048;
        try {
          await injectAndRecover(seed, what, call, path, failure);
        } finally {
          VersionSet.manifestRewriteBytes = saved;
        }
      });
    }
  }
}

async function injectAndRecover(
  seed: number,
  what: string,
  call: FsCall,
  path: RegExp | undefined,
  failure: InjectedFailure,
): Promise<void> {
  const r = rng(seed + what.length * 31 + failure.length);
  const where = `${failure} at a ${what}, seed ${seed}`;
  const fs = new StrictFs();
  const db = await DB.open("/db", { fs, ...SMALL_DB });
  const nth = 1 + Math.floor(r() * (call === "rename" ? 3 : 12));
  fs.inject(path ? { call, nth, failure, path } : { call, nth, failure });
  const history = await runWorkload(db, seed, 160);
  if (fs.pendingInjections > 0) {
    fs.clearInjections(); // this run never reached it: nothing to check
    await db.close();
    return;
  }
  injected++;
  // The failure reaches the writers: the one that met it, or the next.
  const after = await db.put("after", "the failure").then(
    () => undefined,
    (e) => e,
  );
  const err = history.firstError ?? after;
  assert.ok(err instanceof StrataError, `${where}: ${err}`);
  assert.ok(
    err.code === "IO_ERROR" || err.code === "BACKGROUND_ERROR",
    `${where}: ${err.code} ${err.message}`,
  );
  assert.match(
    err.message,
    /Cannot (write|sync|create|rename|sync directory|open) "\/db/,
    where,
  );
  assert.ok(
    after instanceof StrataError,
    `${where}: a write after the failure succeeded`,
  );
  const failedAt = history.writes.findIndex((w) => w.failed);
  if (failedAt >= 0) {
    const lateOk = history.writes.slice(failedAt + 4).filter((w) => w.acked);
    assert.equal(
      lateOk.length,
      0,
      `${where}: writes succeeded after one failed`,
    );
  }
  // Reads go on.
  for (let k = 0; k < 120; k += 7) await db.get(`k${k}`);
  for await (const _ of db.scan({ prefix: "b" })) { /* reads every batch */ }
  await db.close(); // it told the writers already: closing does not throw
  fs.clearInjections();

  // Power loss now: the durable acknowledged writes survive.
  const crashed = fs.crashImage({ torn: true, random: r });
  const afterLoss = await DB.open("/db", { fs: crashed, ...SMALL_DB });
  await checkRecovered(
    afterLoss,
    history.writes,
    history.writes,
    `${where}, power loss`,
  );
  await afterLoss.close();
  assert.ok((await verifyDatabase("/db", undefined, crashed)).ok, where);

  // No power loss: every acknowledged write survives, durable or not.
  const asDurable: WriteRecord[] = history.writes.map((w) => ({
    ...w,
    sync: true,
  }));
  const reopened = await DB.open("/db", { fs, ...SMALL_DB });
  await checkRecovered(reopened, asDurable, asDurable, `${where}, reopen`);
  await reopened.put("works", "again", { sync: true });
  await reopened.close();
  const report = await verifyDatabase("/db", undefined, fs);
  assert.ok(report.ok, `${where}: ${JSON.stringify(report.problems)}`);
}

// About 14 of the 17 cases reach their failure with a seed; SEED=n replays one.
Deno.test("disk errors: at least 7 injected per seed", () => {
  assert.ok(
    injected >= 7 * SEEDS.length,
    `${injected} injected errors reached the engine (${SEEDS.length} seeds)`,
  );
  console.log(`${injected} injected disk errors`);
});
