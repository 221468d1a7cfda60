// `strata serve` end to end with the real clients: a child process runs one
// script of operations (tests/fixtures/server_script.ts: sets, gets, lists
// with cursors, atomics with failing and passing checks, sum/min/max,
// getMany, deletes, expireIn, versionstamped keys, a watch) through
// Deno.openKv("http://…"), and another through npm:@deno/kv's KV Connect
// client under Deno's Node compatibility; each must see exactly what the
// same script sees in-process on Strata's openKv: values, keys, order, ok
// flags and cursors equal, versionstamps in the same pattern.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";
import { serve } from "../../lib/server/server.ts";
import {
  type Json,
  runScript,
  type ScriptCaps,
  versionstampPattern,
} from "../fixtures/server_script.ts";
import { deadline, fixture, Proc } from "../fixtures/server_harness.ts";

const TOKEN = "e2e-token-" + crypto.randomUUID();

async function inProcess(caps: ScriptCaps): Promise<[string, Json][]> {
  await using kv = await openKv(":memory:");
  return await runScript(kv, caps);
}

async function throughServer(
  client: "deno" | "npm",
): Promise<[string, Json][]> {
  const dir = await Deno.makeTempDir({ prefix: "strata_serve_e2e_" });
  const kv = await openKv(dir);
  const server = serve(kv, { port: 0, accessToken: TOKEN });
  try {
    const proc = new Proc([
      "run",
      "-A",
      // Deno's remote client needs the flag; @deno/kv must not see
      // Deno.openKv at all, so that its own KV Connect code runs.
      ...(client === "deno" ? ["--unstable-kv"] : []),
      fixture("server_client.ts"),
      client,
      `http://127.0.0.1:${server.addr.port}`,
    ], { DENO_KV_ACCESS_TOKEN: TOKEN });
    let status: Deno.CommandStatus;
    try {
      // Generous: the first run may download and cache npm:@deno/kv.
      status = await deadline(proc.status, 300_000, `${client} client`);
    } catch (err) {
      proc.kill("SIGKILL");
      throw err;
    }
    assert.ok(status.success, `${client} client failed:\n${proc.stderr}`);
    const lines = proc.lines();
    return JSON.parse(lines[lines.length - 1]!);
  } finally {
    await server.shutdown();
    await kv.closed();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * npm:@deno/kv makes cursors of its own (base64 JSON of the last key; one
 * even after the last page, where Deno's is "", and none for an empty
 * list, where Deno's is ""): for it, cursors are left out of the
 * comparison; that they resume at the right place shows in the pages that
 * follow.
 */
function opaqueCursors(j: Json): Json {
  if (Array.isArray(j)) return j.map(opaqueCursors);
  if (j === null || typeof j !== "object") return j;
  return Object.fromEntries(
    Object.entries(j).map(([k, v]) => [
      k,
      k === "cursor" ? "the client's own" : opaqueCursors(v),
    ]),
  );
}

function assertSameRun(
  remote: [string, Json][],
  local: [string, Json][],
  client: string,
  ownCursors = false,
): void {
  const same = ownCursors ? opaqueCursors : (j: Json) => j;
  const r = same(versionstampPattern(remote)) as [string, Json][];
  const l = same(versionstampPattern(local)) as [string, Json][];
  assert.deepStrictEqual(
    r.map(([label]) => label),
    l.map(([label]) => label),
    `${client}: the runs took different steps`,
  );
  for (let i = 0; i < l.length; i++) {
    assert.deepStrictEqual(
      r[i]![1],
      l[i]![1],
      `${client}, step "${l[i]![0]}" differs from in-process openKv`,
    );
  }
}

Deno.test("serve e2e: Deno.openKv(url) sees what in-process openKv sees", async () => {
  const [remote, local] = await Promise.all([
    throughServer("deno"),
    inProcess({ versionstampedKeys: true }),
  ]);
  assert.ok(local.length > 60, "the script ran");
  assertSameRun(remote, local, "Deno.openKv");
});

Deno.test("serve e2e: npm:@deno/kv (under Deno) sees what in-process openKv sees", async () => {
  const [remote, local] = await Promise.all([
    throughServer("npm"),
    inProcess({ versionstampedKeys: false }),
  ]);
  assertSameRun(remote, local, "npm:@deno/kv", true);
});
