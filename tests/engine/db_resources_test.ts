// What a database holds on to: every file it opens (on the main thread or
// on the background Worker) is closed once it is no longer needed, so that
// the disk space of deleted tables comes back and a long-lived process that
// opens and closes databases does not run out of descriptors.

import assert from "node:assert/strict";
import { DB } from "../../mod.ts";

/**
 * Descriptors of this process open on files in `dir` (or once in it and
 * deleted since). Test files run in parallel in one process, so only the
 * files of this test's own directory are counted.
 */
function descriptorsInto(dir: string): string[] {
  const held: string[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      if (target.startsWith(dir + "/")) held.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return held;
}

Deno.test("open, write, compact and close 40 times: no descriptor is left open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_fds_" });
  try {
    const cycle = async (round: number) => {
      const db = await DB.open(dir, {
        memtableSize: 8 * 1024,
        l0CompactionTrigger: 2,
      });
      for (let i = 0; i < 600; i++) {
        await db.put(`k${(i * 7 + round) % 400}`, `v${round}-${i}`.repeat(8));
      }
      await db.flush();
      await db.compact(); // runs on the Worker: its table cache opens files
      await db.close();
    };
    for (let round = 0; round < 40; round++) {
      await cycle(round);
      const held = descriptorsInto(dir);
      assert.deepEqual(
        held,
        [],
        `after ${
          round + 1
        } cycles, ${held.length} descriptors are still open (${
          held.filter((t) => t.endsWith(" (deleted)")).length
        } on deleted files)`,
      );
    }
    const db = await DB.open(dir);
    assert.ok(await db.get("k1"));
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
