// Reads and writes resolve through the event loop now and then, so that a
// program of tight `await db.get` loops leaves flushes, compactions and
// writers their turn. Measured as progress (gets per put, compactions
// done), never as time: four readers get a fair share of the main thread,
// not the writer's.

import assert from "node:assert/strict";
import { DB } from "../../mod.ts";

const PUTS = 15_000;

async function run(
  readers: number,
): Promise<{ getsPerPut: number; compactions: number }> {
  const dir = await Deno.makeTempDir({ prefix: "strata_pacing_" });
  try {
    const db = await DB.open(dir, {
      memtableSize: 64 * 1024,
      l0CompactionTrigger: 2,
    });
    for (let i = 0; i < 2000; i++) await db.put(`r${i}`, "x".repeat(100));
    await db.flush();
    let done = false;
    let gets = 0;
    const loops = Array.from({ length: readers }, async (_, r) => {
      for (let i = r; !done; i++) {
        assert.ok(await db.get(`r${i % 2000}`));
        gets++;
      }
    });
    for (let i = 0; i < PUTS; i++) {
      await db.put(`w${(i * 7919) % 20000}`, "y".repeat(100));
    }
    done = true;
    await Promise.all(loops);
    const compactions = db.stats().compactions.count;
    await db.close();
    return { getsPerPut: gets / PUTS, compactions };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("four loops of awaited gets do not stall a writer or its compactions", async () => {
  const alone = await run(0);
  const shared = await run(4);
  // Round-robin between five loops would be 4 gets per put; a writer that
  // waits for background work starved of event-loop turns lets the readers
  // run alone meanwhile (about 60 gets per put before reads paced together).
  assert.ok(
    shared.getsPerPut <= 30,
    `${shared.getsPerPut.toFixed(1)} gets per put: the writer stalled`,
  );
  assert.ok(
    shared.compactions * 3 >= alone.compactions,
    `${shared.compactions} compactions with readers, ${alone.compactions} without`,
  );
});
