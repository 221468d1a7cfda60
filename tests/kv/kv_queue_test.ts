// Queues of the Deno KV API: delay, delivery order, retries on the backoff
// schedule (Deno KV's default when none is given), keysIfUndelivered when
// retries run out, close ending listenQueue, and delivery of every
// acknowledged message after a SIGKILL and a reopen.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";

const CHILD =
  new URL("../fixtures/kv_queue_child.ts", import.meta.url).pathname;

Deno.test("queue: delayed messages arrive in order of delivery time, not before", async () => {
  const kv = await openKv(":memory:");
  const got: { n: number; at: number }[] = [];
  const start = Date.now();
  const done = kv.listenQueue((m: { n: number }) => {
    got.push({ n: m.n, at: Date.now() - start });
    if (got.length === 4) kv.close();
  });
  await kv.enqueue({ n: 3 }, { delay: 150 });
  await kv.enqueue({ n: 1 }, { delay: 50 });
  await kv.enqueue({ n: 2 }, { delay: 100 });
  await kv.enqueue({ n: 0 });
  await done; // close() ends listenQueue
  assert.deepEqual(got.map((g) => g.n), [0, 1, 2, 3]);
  for (const g of got) {
    assert.ok(g.at >= g.n * 50 - 5, `message ${g.n} early: ${g.at} ms`);
  }
});

Deno.test("queue: a failing handler is retried on the backoff schedule", async () => {
  const kv = await openKv(":memory:");
  const attempts: number[] = [];
  const start = Date.now();
  const done = kv.listenQueue(() => {
    attempts.push(Date.now() - start);
    if (attempts.length < 3) throw new Error("not yet");
    kv.close();
  });
  await kv.enqueue("job", { backoffSchedule: [40, 80] });
  await done;
  assert.equal(attempts.length, 3);
  assert.ok(
    attempts[1]! - attempts[0]! >= 35,
    `retried after ${attempts[1]! - attempts[0]!} ms`,
  );
  assert.ok(
    attempts[2]! - attempts[1]! >= 75,
    `retried after ${attempts[2]! - attempts[1]!} ms`,
  );
});

Deno.test("queue: no schedule given means Deno KV's, which starts at 100 ms", async () => {
  const kv = await openKv(":memory:");
  const attempts: number[] = [];
  const start = Date.now();
  const done = kv.listenQueue(() => {
    attempts.push(Date.now() - start);
    if (attempts.length === 1) throw new Error("once");
    kv.close();
  });
  await kv.enqueue("job");
  await done;
  assert.equal(attempts.length, 2);
  assert.ok(attempts[1]! - attempts[0]! >= 95);
});

Deno.test("queue: when retries run out the message goes to keysIfUndelivered", async () => {
  const kv = await openKv(":memory:");
  let attempts = 0;
  const listening = kv.listenQueue(() => {
    attempts++;
    throw new Error("always");
  });
  await kv.enqueue({ payload: "lost" }, {
    backoffSchedule: [10],
    keysIfUndelivered: [["dead", 1], ["dead", 2]],
  });
  for (let i = 0; i < 200 && (await kv.get(["dead", 2])).value === null; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(attempts, 2);
  assert.deepEqual((await kv.get(["dead", 1])).value, { payload: "lost" });
  assert.deepEqual((await kv.get(["dead", 2])).value, { payload: "lost" });
  kv.close();
  await listening;
});

Deno.test("queue: messages an atomic enqueues arrive only if it commits", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["guard"], 1);
  const failed = await kv.atomic().check({ key: ["guard"], versionstamp: null })
    .enqueue("never").commit();
  assert.equal(failed.ok, false);
  const got: unknown[] = [];
  const done = kv.listenQueue((m) => {
    got.push(m);
    kv.close();
  });
  await kv.atomic().enqueue("yes").commit();
  await done;
  assert.deepEqual(got, ["yes"]);
});

Deno.test("queue: every acknowledged message is delivered after a SIGKILL and a reopen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_kv_queue_" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CHILD, dir, "40"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const acked = new Set<number>();
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const m = /^enqueued (\d+)$/.exec(line);
        if (m) acked.add(Number(m[1]));
      }
      if (lines.includes("listening")) {
        await new Promise((r) => setTimeout(r, 100)); // handlers are running
        child.kill("SIGKILL");
        break;
      }
    }
    await child.status;
    await child.stderr.cancel();
    assert.equal(acked.size, 40);
    const kv = await openKv(dir);
    const delivered = new Set<number>();
    const done = kv.listenQueue((m: { n: number }) => {
      delivered.add(m.n);
      if (delivered.size === acked.size) kv.close();
    });
    await done;
    assert.deepEqual(
      [...delivered].sort((a, b) => a - b),
      [...acked].sort((a, b) => a - b),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
