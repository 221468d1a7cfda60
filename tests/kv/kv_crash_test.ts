// Crash safety of the Deno KV API: a child runs concurrent atomic
// transfers and is killed with SIGKILL; after reopening, every atomic it
// saw commit is there, none is half applied (the balances still add up,
// and the transfer counter equals the commits), and versionstamps never
// go backwards.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";

const CHILD =
  new URL("../fixtures/kv_crash_writer.ts", import.meta.url).pathname;

async function runUntilKilled(
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
  const decoder = new TextDecoder();
  let buffered = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (line === "ready") {
        timer = setTimeout(() => child.kill("SIGKILL"), lifeMs);
      }
    }
  }
  clearTimeout(timer);
  const status = await child.status;
  const err = await new Response(child.stderr).text();
  assert.equal(status.signal, "SIGKILL", `child ended on its own: ${err}`);
  return lines;
}

Deno.test("kv crash: SIGKILL during concurrent atomics loses no commit and halves none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_kv_crash_" });
  const seed = Date.now();
  try {
    const committed = new Map<string, string>();
    let highest = "";
    for (let round = 0; round < 3; round++) {
      const lines = await runUntilKilled(
        dir,
        round,
        150 + ((seed + round * 131) % 400),
      );
      for (const line of lines) {
        const [kind, id, vs] = line.split(" ");
        if (kind === "ok") {
          committed.set(id!, vs!);
          if (vs! > highest) highest = vs!;
        }
      }
      assert.ok(committed.size > 0, `round ${round}: nothing committed`);
      const kv = await openKv(dir);
      try {
        const seen = new Map<string, string>();
        for await (const e of kv.list<boolean>({ prefix: ["commit"] })) {
          seen.set(e.key[1] as string, e.versionstamp);
        }
        for (const [id, vs] of committed) {
          assert.equal(seen.get(id), vs, `round ${round}: commit ${id} lost`);
        }
        let total = 0;
        for await (const e of kv.list<number>({ prefix: ["account"] })) {
          total += e.value;
        }
        assert.equal(
          total,
          1000,
          `round ${round}: balances add up to ${total}`,
        );
        const transfers = (await kv.get<Deno.KvU64>(["transfers"])).value;
        assert.equal(transfers?.value ?? 0n, BigInt(seen.size));
        const next = await kv.set(["after", round], true);
        assert.ok(next.versionstamp > highest, "versionstamps went backwards");
        highest = next.versionstamp;
      } finally {
        await kv.closed(); // released before the next child opens it
      }
    }
  } catch (err) {
    console.error(`kv crash test failed (timing seed ${seed})`);
    throw err;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
