// watch: the current entries at once, then again on each change (a burst
// yields once), no emission without a change unless raw, and the stream
// ends on cancel and on close.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";

Deno.test("watch: yields at once, then on change, coalescing a burst", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["a"], 0);
  const reader = kv.watch([["a"], ["b"]]).getReader();
  const first = (await reader.read()).value!;
  assert.deepEqual(first.map((e) => e.value), [0, null]);
  assert.deepEqual(first[1]!.key, ["b"]);
  for (let i = 1; i <= 5; i++) await kv.set(["a"], i); // a burst
  const second = (await reader.read()).value!;
  assert.equal(second[0]!.value, 5);
  await kv.set(["unwatched"], 1);
  await kv.set(["b"], "b");
  const third = (await reader.read()).value!;
  assert.deepEqual(third.map((e) => e.value), [5, "b"]);
  await kv.delete(["a"]);
  const fourth = (await reader.read()).value!;
  assert.equal(fourth[0]!.versionstamp, null);
  await reader.cancel();
  kv.close();
});

Deno.test("watch: ends when the handle closes", async () => {
  const kv = await openKv(":memory:");
  const reader = kv.watch([["x"]]).getReader();
  await reader.read();
  const next = reader.read();
  kv.close();
  assert.equal((await next).done, true);
});

Deno.test("watch: raw yields on every change notification", async () => {
  const kv = await openKv(":memory:");
  const reader = kv.watch([["k"]], { raw: true }).getReader();
  await reader.read();
  // A sum of zero writes the same value, with a new versionstamp: both
  // modes see that; a commit that does not touch the key wakes neither.
  await kv.atomic().sum(["k"], 0n).commit();
  const e = (await reader.read()).value!;
  assert.notEqual(e[0]!.versionstamp, null);
  await reader.cancel();
  kv.close();
});
