import assert from "node:assert/strict";
import {
  compactionScores,
  isTrivialMove,
  maxBytesForLevel,
  pickCompaction,
  planForInputs,
} from "../../lib/compaction/compaction.ts";
import { DEFAULT_OPTIONS } from "../../lib/engine/options.ts";
import { type FileMeta, Version } from "../../lib/manifest/version.ts";
import { DB } from "../../mod.ts";
import { checkLevelInvariants } from "../fixtures/level_invariants.ts";

const enc = new TextEncoder();
const file = (
  number: number,
  from: string,
  to: string,
  size = 100,
): FileMeta => ({
  number,
  size,
  entries: 1,
  smallestKey: enc.encode(from),
  smallestSeq: 1,
  largestKey: enc.encode(to),
  largestSeq: 1,
});

Deno.test("pickCompaction: level 0 by file count takes all of level 0 and its overlaps", () => {
  const options = { ...DEFAULT_OPTIONS, l0CompactionTrigger: 2 };
  const v = Version.empty().apply({
    added: [[0, file(5, "a", "f")], [0, file(6, "d", "k")], [
      1,
      file(3, "e", "g"),
    ], [1, file(4, "x", "z")]],
  }, "test");
  const plan = pickCompaction(v, options, [])!;
  assert.equal(plan.level, 0);
  assert.deepEqual(plan.inputs.map((f) => f.number).sort(), [5, 6]);
  assert.deepEqual(plan.overlaps.map((f) => f.number), [3]);
});

Deno.test("pickCompaction: an oversized level picks round-robin from its pointer", () => {
  const options = {
    ...DEFAULT_OPTIONS,
    memtableSize: 1024,
    l0CompactionTrigger: 1,
  };
  const big = maxBytesForLevel(1, options);
  const v = Version.empty().apply({
    added: [[1, file(1, "a", "b", big)], [1, file(2, "c", "d", big)], [
      2,
      file(9, "c", "c"),
    ]],
  }, "test");
  assert.ok(compactionScores(v, options)[1]! > 1);
  assert.equal(pickCompaction(v, options, [])!.inputs[0]!.number, 1);
  const plan = pickCompaction(v, options, [undefined, enc.encode("b")])!;
  assert.equal(plan.inputs[0]!.number, 2);
  assert.deepEqual(plan.overlaps.map((f) => f.number), [9]);
  assert.ok(!isTrivialMove(plan));
  assert.ok(isTrivialMove(planForInputs(v, 1, [v.files(1)[0]!])));
});

Deno.test("deleting 1,000,000 keys then compact() frees the disk; a snapshot keeps them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_compaction_" });
  try {
    const db = await DB.open(dir);
    const N = 1_000_000;
    const value = new Uint8Array(20).fill(7);
    const key = (i: number) => `key${String(i).padStart(10, "0")}`;
    let batch = db.batch();
    for (let i = 0; i < N; i++) {
      batch.put(key(i), value);
      if (batch.length === 1000) {
        await db.write(batch);
        batch = db.batch();
      }
    }
    await db.flush();
    const full = db.stats().diskBytes;
    const snap = db.snapshot();
    for (let i = 0; i < N; i++) {
      batch.delete(key(i));
      if (batch.length === 1000) {
        await db.write(batch);
        batch = db.batch();
      }
    }
    await db.compact();
    checkLevelInvariants(db);
    // The snapshot still reads every key.
    let seen = 0;
    for await (const _ of db.scan({ snapshot: snap, keysOnly: true })) seen++;
    assert.equal(seen, N);
    assert.deepEqual(await db.get(key(123_456), { snapshot: snap }), value);
    assert.equal(await db.get(key(123_456)), undefined);
    snap.release();
    await db.compact();
    checkLevelInvariants(db);
    const after = db.stats().diskBytes;
    assert.ok(
      after < full / 20,
      `disk ${after} bytes after compaction vs ${full} before`,
    );
    let left = 0;
    for await (const _ of db.scan()) left++;
    assert.equal(left, 0);
    assert.equal(db.levelFiles().flat().length, 0, "no table survives");
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
