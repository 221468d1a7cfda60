// The Deno KV API's surface: it is a Deno.Kv, a closed handle fails as
// Deno KV's does, handles on one directory share one database, another
// process meets the lock, Deno KV's limits by default and Strata's on
// request, values that own their bytes, and durability through reopen.

import assert from "node:assert/strict";
import { KvU64, LockedError, openKv } from "../../mod.ts";
import type { Kv } from "../../mod.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "strata_kv_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kv: a Kv is a Deno.Kv, its parts are Deno's types", async () => {
  const kv = await openKv(":memory:");
  // Type-level: these assignments compile only if the shapes match.
  const asDeno: Deno.Kv = kv;
  const atomic: Deno.AtomicOperation = kv.atomic();
  const iterator: Deno.KvListIterator<unknown> = kv.list({ prefix: [] });
  const u64: Deno.KvU64 = new KvU64(1n);
  assert.ok(asDeno && atomic && iterator && u64);
  assert.equal(typeof kv.commitVersionstamp(), "symbol");
  kv.close();
});

Deno.test("kv: a closed handle throws Deno.errors.BadResource", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["a"], 1);
  kv.close();
  const bad = { name: "BadResource", message: "Bad resource ID" };
  await assert.rejects(() => kv.get(["a"]), bad);
  await assert.rejects(() => kv.set(["a"], 1), bad);
  await assert.rejects(() => kv.delete(["a"]), bad);
  await assert.rejects(() => kv.enqueue(1), bad);
  await assert.rejects(() => kv.atomic().set(["a"], 2).commit(), bad);
  await assert.rejects(async () => {
    for await (const _ of kv.list({ prefix: [] })) { /* none */ }
  }, bad);
  assert.throws(() => kv.watch([["a"]]), bad);
  assert.throws(() => kv.close(), bad);
  await assert.rejects(() => kv.listenQueue(() => {}), {
    name: "Error",
    message: "Queue already closed",
  });
  kv[Symbol.dispose](); // no throw
});

Deno.test("kv: writes survive close and reopen, versionstamps keep growing", async () => {
  await withDir(async (dir) => {
    let kv = await openKv(dir);
    const first = await kv.set(["k"], { n: 1 });
    await kv.set(["bytes"], new Uint8Array([1, 2, 3]));
    kv.close();
    kv = await openKv(dir);
    const e = await kv.get<{ n: number }>(["k"]);
    assert.deepEqual(e.value, { n: 1 });
    assert.equal(e.versionstamp, first.versionstamp);
    const second = await kv.set(["k"], { n: 2 });
    assert.ok(second.versionstamp > first.versionstamp);
    const bytes = (await kv.get<Uint8Array>(["bytes"])).value!;
    // A returned Uint8Array owns its buffer.
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, 3);
    await kv.closed();
  });
});

Deno.test("kv: one commit's entries share its versionstamp", async () => {
  const kv = await openKv(":memory:");
  const r = await kv.atomic().set(["a"], 1).set(["b"], 2).sum(["c"], 3n)
    .commit();
  assert.ok(r.ok);
  const entries = await kv.getMany([["a"], ["b"], ["c"]]);
  for (const e of entries) assert.equal(e.versionstamp, r.versionstamp);
  kv.close();
});

Deno.test("kv: handles on one directory share one database; reopen after close works", async () => {
  await withDir(async (dir) => {
    const [a, b] = await Promise.all([openKv(dir), openKv(`${dir}/.`)]);
    await a.set(["x"], 1);
    assert.equal((await b.get(["x"])).value, 1);
    a.close();
    assert.equal((await b.get(["x"])).value, 1); // still open
    b.close();
    const c = await openKv(dir); // right after the last close
    assert.equal((await c.get(["x"])).value, 1);
    await c.closed();
  });
});

Deno.test("kv: another process gets LockedError", async () => {
  await withDir(async (dir) => {
    const kv = await openKv(dir);
    const mod = new URL("../../mod.ts", import.meta.url).href;
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { openKv } from ${JSON.stringify(mod)};
         try { await openKv(${JSON.stringify(dir)}); console.log("opened"); }
         catch (e) { console.log(e.name); }`,
      ],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(stdout).trim(), LockedError.name);
    kv.close();
  });
});

Deno.test("kv: Deno KV's limits by default, Strata's on request", async () => {
  const deno = await openKv(":memory:");
  const big = "x".repeat(70_000);
  await assert.rejects(() => deno.set(["big"], big), {
    name: "TypeError",
    message: "Value too large (max 65536 bytes)",
  });
  const many = deno.atomic();
  for (let i = 0; i < 1001; i++) many.set(["m", i], i);
  await assert.rejects(() => many.commit(), {
    message: "Too many mutations (max 1000)",
  });
  await assert.rejects(
    () => deno.getMany(Array.from({ length: 11 }, (_, i) => ["g", i])),
    { message: "Too many ranges (max 10)" },
  );
  assert.throws(
    () => deno.watch(Array.from({ length: 11 }, (_, i) => ["w", i])),
    {
      message: "Too many keys (max 10)",
    },
  );
  deno.close();

  const strata: Kv = await openKv(":memory:", { limits: "strata" });
  await strata.set(["big"], "y".repeat(5_000_000));
  assert.equal((await strata.get<string>(["big"])).value?.length, 5_000_000);
  const large = strata.atomic();
  for (let i = 0; i < 20_000; i++) large.set(["m", i], i);
  assert.ok((await large.commit()).ok);
  const watched = strata.watch(Array.from({ length: 500 }, (_, i) => ["m", i]));
  const reader = watched.getReader();
  assert.equal((await reader.read()).value?.length, 500);
  await reader.cancel();
  strata.close();
});

Deno.test("kv: bad options are InvalidArgumentError", async () => {
  await assert.rejects(() => openKv(":memory:", { limits: "huge" as "deno" }), {
    name: "InvalidArgumentError",
  });
  await assert.rejects(
    () => openKv(":memory:", { nope: true } as unknown as { sync: boolean }),
    /Unknown option "nope"/,
  );
});

Deno.test("kv: sync false (relaxed) writes read back and survive reopen", async () => {
  await withDir(async (dir) => {
    let kv = await openKv(dir, { sync: false });
    for (let i = 0; i < 100; i++) await kv.set(["r", i], i);
    kv.close();
    kv = await openKv(dir);
    assert.equal((await kv.get(["r", 99])).value, 99);
    kv.close();
  });
});

const hasDenoKv = typeof (Deno as { openKv?: unknown }).openKv === "function";

Deno.test({
  name:
    "kv: a range whose start is a prefix of its end pages past its first key, as Deno KV does",
  ignore: !hasDenoKv,
  fn: async () => {
    // The first entry's key is the selector's common prefix: its cursor is
    // "", which must resume after it (it looped on that entry forever).
    const keys: Deno.KvKey[] = [
      ["ab"],
      ["ab", 0],
      ["ab", new Uint8Array([0])],
      ["ab", new Uint8Array([255])],
      ["ab", new Uint8Array([255]), "a"],
      ["ab", new Uint8Array([255]), "é"],
      ["ac"],
    ];
    const selector = {
      start: ["ab"],
      end: ["ab", new Uint8Array([255]), "é"],
    };
    const listAll = async (kv: Deno.Kv) => {
      for (const k of keys) await kv.set(k, k.length);
      const out: unknown[] = [];
      for (const reverse of [false, true]) {
        for (const batchSize of [1, 2, 3]) {
          const it = kv.list(selector, { batchSize, reverse });
          const seen: unknown[] = [];
          for await (const e of it) {
            seen.push(e.key);
            if (seen.length > keys.length) break; // looping
          }
          const first = kv.list(selector, { limit: 1, reverse, batchSize });
          for await (const _ of first) { /* one */ }
          const rest: unknown[] = [];
          for await (
            const e of kv.list(selector, { cursor: first.cursor, reverse })
          ) rest.push(e.key);
          out.push({ reverse, batchSize, seen, cursor: first.cursor, rest });
        }
      }
      return out;
    };
    const denoKv = await Deno.openKv(":memory:");
    const expected = await listAll(denoKv);
    denoKv.close();
    await withDir(async (dir) => {
      const kv = await openKv(dir);
      try {
        assert.deepStrictEqual(await listAll(kv as Deno.Kv), expected);
      } finally {
        kv.close();
      }
    });
  },
});
