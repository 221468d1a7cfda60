// Many processes, one database: 8 client processes write through
// `strata serve` at once, with Deno.openKv("http://…"): private keys, and
// transfers between 10 shared accounts (atomics that check both balances,
// retried when the check fails) that also sum a shared and a per-process
// counter. Afterwards every committed write is there with the versionstamp
// its client was given, and none is half applied.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";
import { serve } from "../../lib/server/server.ts";
import { deadline, fixture, Proc } from "../fixtures/server_harness.ts";
import {
  ackedFrom,
  checkLedger,
  entriesOf,
  openAccounts,
} from "../fixtures/server_ledger.ts";

const TOKEN = "concurrency-token-" + crypto.randomUUID();
const CLIENTS = 8;
const TRANSFERS = 100;

Deno.test("serve concurrency: 8 client processes, overlapping atomics, every commit whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_serve_many_" });
  const kv = await openKv(dir);
  const server = serve(kv, { port: 0, accessToken: TOKEN });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const procs: Proc[] = [];
  try {
    await openAccounts(kv);
    const ids = Array.from({ length: CLIENTS }, (_, i) => `p${i}`);
    for (const id of ids) {
      procs.push(
        new Proc([
          "run",
          "-A",
          "--unstable-kv",
          fixture("server_transfer_client.ts"),
          "transfer",
          url,
          id,
          String(TRANSFERS),
        ], { DENO_KV_ACCESS_TOKEN: TOKEN }),
      );
    }
    await deadline(
      Promise.all(procs.map((p) => p.waitFor("stdout", /^ready$/m, 120_000))),
      180_000,
      "the clients to start",
    );
    await kv.set(["go"], true);
    const statuses = await deadline(
      Promise.all(procs.map((p) => p.status)),
      600_000,
      "the clients to finish",
    );
    statuses.forEach((s, i) =>
      assert.ok(s.success, `client ${i} failed:\n${procs[i]!.stderr}`)
    );
    const acked = ackedFrom(procs.flatMap((p) => p.lines()));
    assert.equal(acked.commits.size, CLIENTS * TRANSFERS);
    assert.equal(acked.sets.size, CLIENTS * TRANSFERS);
    // Contention happened: some checks failed and were retried.
    const retries = procs.reduce(
      (n, p) => n + Number(/^done (\d+)$/m.exec(p.stdout)?.[1] ?? NaN),
      0,
    );
    assert.ok(Number.isInteger(retries), "every client said done");
    const counts = checkLedger(await entriesOf(kv), acked, {
      ids,
      count: TRANSFERS,
    });
    assert.equal(counts.transfers, CLIENTS * TRANSFERS);
    // Versionstamps are unique: one commit, one versionstamp.
    const all = [...acked.commits.values(), ...acked.sets.values()];
    assert.equal(new Set(all).size, all.length, "a versionstamp was reused");
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.status));
    await server.shutdown();
    await kv.closed();
    await Deno.remove(dir, { recursive: true });
  }
});
