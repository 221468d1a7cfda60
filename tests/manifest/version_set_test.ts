// Recovery of the version set from a damaged manifest: a torn final record
// is dropped only when nothing acted on it yet; a damaged record whose
// effects are visible (its WAL retired, its inputs deleted) makes open
// fail with a CorruptionError naming the manifest and offset, and delete
// nothing, instead of rolling the database back.

import assert from "node:assert/strict";
import { join } from "node:path";
import { CorruptionError, DB } from "../../mod.ts";
import { readManifest } from "../../lib/manifest/manifest.ts";

const text = (b: Uint8Array | undefined) => b && new TextDecoder().decode(b);
const names = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).sort();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "strata_manifest_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A database whose last manifest record is a flush that retired a WAL. */
async function flushedDatabase(dir: string): Promise<string> {
  const db = await DB.open(dir);
  await db.put("k", "old");
  await db.put("gone", "soon");
  await db.flush();
  await db.put("k", "new");
  await db.delete("gone");
  await db.flush();
  await db.close();
  return join(dir, Deno.readTextFileSync(join(dir, "CURRENT")).trim());
}

function lastRecordOffset(manifest: string): number {
  const { offsets } = readManifest(manifest);
  return offsets[offsets.length - 1]!;
}

const damages: [string, (path: string, at: number) => void][] = [
  ["a bit flipped in the last record", (path, at) => {
    const bytes = Deno.readFileSync(path);
    bytes[at + 12]! ^= 0x04;
    Deno.writeFileSync(path, bytes);
  }],
  ["the last record cut short", (path) => {
    Deno.truncateSync(path, Deno.statSync(path).size - 5);
  }],
  ["the length of an earlier record flipped", (path) => {
    const { offsets } = readManifest(path);
    const bytes = Deno.readFileSync(path);
    bytes[offsets[1]! + 6]! ^= 0x10; // its len field: now far past the end
    Deno.writeFileSync(path, bytes);
  }],
];

for (const [what, damage] of damages) {
  Deno.test(`version set: ${what} after a flush is CorruptionError, and open deletes nothing`, async () => {
    await withDir(async (dir) => {
      const manifest = await flushedDatabase(dir);
      damage(manifest, lastRecordOffset(manifest));
      const before = names(dir);
      await assert.rejects(
        () => DB.open(dir),
        (err: unknown) =>
          err instanceof CorruptionError && err.file === manifest &&
          /already acted on/.test(err.message),
      );
      await assert.rejects(
        () => DB.open(dir, { readOnly: true }),
        CorruptionError,
      );
      assert.deepEqual(names(dir), before);
    });
  });
}

Deno.test("version set: a torn append of an edit that never took effect is dropped and reported", async () => {
  await withDir(async (dir) => {
    const manifest = await flushedDatabase(dir);
    const tail = new Uint8Array([0x11, 0x22, 0x33, 0x44, 200, 0, 0, 0, 0x7b]);
    Deno.writeFileSync(manifest, tail, { append: true });
    const db = await DB.open(dir);
    assert.equal(text(await db.get("k")), "new");
    assert.equal(await db.get("gone"), undefined);
    assert.ok(
      db.recovery.dropReasons.some((r) => r.includes("MANIFEST-")),
      db.recovery.dropReasons.join("; "),
    );
    await db.close();
    const again = await DB.open(dir);
    assert.equal(again.recovery.droppedBytes, 0);
    await again.close();
  });
});
