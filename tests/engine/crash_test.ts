// Crash recovery: a child process writes with sync true and false, flushing
// and compacting as it goes, and is killed with SIGKILL at a random moment.
// Every write it saw acknowledged must be there after reopen, no deleted key
// may come back, and no batch may be half applied.

import assert from "node:assert/strict";
import { DB } from "../../mod.ts";
import { TYPE_PUT } from "../../lib/iterator/internal_key.ts";
import { encodeWalRecord, logNumberOf } from "../../lib/wal/wal.ts";

const CHILD = new URL("../fixtures/crash_writer.ts", import.meta.url).pathname;
const ROUNDS = 6;

async function runChildUntilKilled(
  dir: string,
  round: number,
  lifeMs: number,
): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dir, String(round)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let buffered = "";
  let killed = false;
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line === "ready" && !killed) {
          setTimeout(() => {
            killed = true;
            child.kill("SIGKILL");
          }, lifeMs);
        }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const status = await child.status;
  await reading;
  const err = await stderr;
  assert.equal(status.signal, "SIGKILL", `child ended on its own: ${err}`);
  return lines;
}

Deno.test("acknowledged writes survive SIGKILL; batches are all or nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_crash_" });
  const seed = Date.now();
  try {
    const expected = new Map<string, string>();
    const deleted = new Set<string>();
    const batches: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const lifeMs = 200 + ((seed + round * 7919) % 700);
      const lines = await runChildUntilKilled(dir, round, lifeMs);
      for (const line of lines) {
        const [kind, key, value] = line.split(" ");
        if (kind === "put") expected.set(key!, value!);
        if (kind === "batch") batches.push(key!);
        if (kind === "del") deleted.add(key!);
      }
      assert.ok(
        lines.length > 1,
        `round ${round}: the child acknowledged nothing`,
      );

      const db = await DB.open(dir);
      try {
        for (const [key, value] of expected) {
          const got = await db.get(key);
          assert.equal(
            got && new TextDecoder().decode(got),
            value,
            `round ${round}: lost ${key}`,
          );
        }
        for (const key of deleted) {
          assert.equal(
            await db.get(key),
            undefined,
            `round ${round}: ${key} came back`,
          );
        }
        for (const b of batches) {
          for (let j = 0; j < 10; j++) {
            assert.ok(
              await db.get(`${b}-${j}`),
              `round ${round}: batch ${b} lost entry ${j}`,
            );
          }
        }
        // Unacknowledged batches too: all or nothing.
        const counts = new Map<string, number>();
        for await (const { key } of db.scan({ prefix: `b${round}-` })) {
          const id = new TextDecoder().decode(key).split("-").slice(0, 2).join(
            "-",
          );
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        for (const [id, n] of counts) {
          assert.ok(
            n === 10,
            `round ${round}: batch ${id} half applied (${n} of 10)`,
          );
        }
      } finally {
        await db.close();
      }
    }
  } catch (err) {
    console.error(`crash test failed (timing seed ${seed})`);
    throw err;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a recycled WAL's records from its earlier use never come back after SIGKILL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_recycle_" });
  try {
    const db = await DB.open(dir, { flushOnClose: false });
    for (let i = 0; i < 50; i++) await db.put(`base-${i}`, `v${i}`);
    await db.close();
    // The log the next open replays and then reuses: after its records,
    // records of another use of the file, valid in every field but their
    // log number, with sequence numbers newer than anything written.
    const logs = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.endsWith(".log")
    );
    assert.equal(logs.length, 1);
    const path = `${dir}/${logs[0]!.name}`;
    const other = logNumberOf(path)! + 1000;
    const ghosts: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      ghosts.push(encodeWalRecord(1e9 + i, [{
        type: TYPE_PUT,
        key: new TextEncoder().encode(`ghost-${i}`),
        value: new Uint8Array(200),
      }], other));
    }
    const file = await Deno.open(path, { append: true });
    for (const g of ghosts) await file.write(g);
    file.close();
    const lines = await runChildUntilKilled(dir, 0, 300);
    const acked = lines.filter((l) => l.startsWith("put ")).map((l) =>
      l.split(" ")
    );
    assert.ok(acked.length > 0, "the child acknowledged nothing");
    const again = await DB.open(dir);
    try {
      for (let i = 0; i < 50; i++) {
        assert.equal(text(await again.get(`base-${i}`)), `v${i}`);
      }
      for (const [, key, value] of acked) {
        assert.equal(text(await again.get(key!)), value, `lost ${key}`);
      }
      for await (const { key } of again.scan({ prefix: "ghost-" })) {
        assert.fail(`a stale record came back: ${text(key)}`);
      }
      assert.ok(again.stats().sequence < 1e9, "a stale sequence was taken");
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes && new TextDecoder().decode(bytes);
}
