// Opening a directory: what counts as a database, what is created afresh,
// and the errors a user meets (a StrataError always, never a raw Deno one).

import assert from "node:assert/strict";
import { join } from "node:path";
import { CorruptionError, DB, NotFoundError, StrataError } from "../../mod.ts";

const CHILD =
  new URL("../fixtures/create_crasher.ts", import.meta.url).pathname;
const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const text = (b: Uint8Array | undefined) => b && new TextDecoder().decode(b);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "strata_open_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const point of ["manifest:new-written", "current:temp-written"]) {
  Deno.test(`a crash at ${point} of the first open leaves a directory that opens`, async () => {
    await withDir(async (dir) => {
      const { signal, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CHILD, dir, point],
        stderr: "piped",
      }).output();
      assert.equal(signal, "SIGKILL", new TextDecoder().decode(stderr));
      assert.ok(!(await Deno.stat(join(dir, "CURRENT")).catch(() => null)));
      // readOnly or createIfMissing: false see no database there.
      await assert.rejects(
        () => DB.open(dir, { readOnly: true }),
        NotFoundError,
      );
      // The CLI too: one line, exit 2, no stack trace, no raw Deno error.
      const cli = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "put", dir, "k", "v"],
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(cli.stderr);
      assert.equal(cli.code, 0, err);
      const db = await DB.open(dir);
      assert.equal(text(await db.get("k")), "v");
      await db.put("k2", "v2", { sync: true });
      await db.close();
      const again = await DB.open(dir);
      assert.equal(text(await again.get("k2")), "v2");
      await again.close();
    });
  });
}

Deno.test("a database whose CURRENT is gone is CorruptionError, and nothing is deleted", async () => {
  await withDir(async (dir) => {
    const db = await DB.open(dir, { memtableSize: 4096 });
    for (let i = 0; i < 300; i++) await db.put(`k${i}`, "v".repeat(40));
    await db.flush();
    await db.close();
    const before = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    await Deno.remove(join(dir, "CURRENT"));
    for (
      const options of [{}, { readOnly: true }, { createIfMissing: false }]
    ) {
      await assert.rejects(
        () => DB.open(dir, options),
        (err: unknown) =>
          err instanceof CorruptionError && /CURRENT/.test(err.file) &&
          /is missing, but the directory holds database files/.test(
            err.message,
          ),
      );
    }
    const after = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(after, before.filter((n) => n !== "CURRENT"));
  });
});

Deno.test("a filesystem error at open is a StrataError naming the database", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "plain-file");
    await Deno.writeTextFile(file, "not a directory");
    await assert.rejects(
      () => DB.open(join(file, "db")),
      (err: unknown) =>
        err instanceof StrataError && err.code === "IO_ERROR" &&
        err.message.includes(join(file, "db")),
    );
  });
});
