// `strata serve` as a process (`deno run -A cli.ts serve <dir>`), stopped
// the hard way and the clean way while client processes
// (tests/fixtures/server_transfer_client.ts) run concurrent atomics
// through it:
//
// - SIGKILL, twice: after each restart every write a client saw committed
//   is there, none is half applied, and versionstamps never go back.
// - SIGTERM and SIGINT: the server exits 0, a write whose request was
//   still arriving when the signal came finishes, a client that stalls
//   halfway through its request does not keep the server from stopping,
//   and a reopen of the directory shows every acknowledged write.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";
import {
  AtomicWriteStatus,
  decodeAtomicWriteOutput,
} from "../../lib/server/datapath_codec.ts";
import {
  deadline,
  fixture,
  hasStackTrace,
  Proc,
  rawSet,
  requestHead,
  type ServerProc,
  setBody,
  sleep,
  startServer,
  stopProc,
  writeAll,
} from "../fixtures/server_harness.ts";
import {
  type Acked,
  ackedFrom,
  checkLedger,
  entriesOf,
  openAccounts,
  type PlainEntry,
} from "../fixtures/server_ledger.ts";
import { rng } from "../fixtures/rng.ts";

const TOKEN = "signals-token-" + crypto.randomUUID();
const CLIENTS = 6;

/** Starts the clients, lets them all go at once, waits for `acks` lines. */
async function startClients(
  server: ServerProc,
  round: string,
  acks: number,
): Promise<Proc[]> {
  const procs = Array.from({ length: CLIENTS }, (_, i) =>
    new Proc([
      "run",
      "-A",
      "--unstable-kv",
      fixture("server_transfer_client.ts"),
      "transfer",
      server.url,
      `${round}c${i}`,
      "0", // until killed
    ], { DENO_KV_ACCESS_TOKEN: TOKEN }));
  await Promise.all(procs.map((p) => p.waitFor("stdout", /^ready$/m, 120_000)));
  await rawSet(server.url, TOKEN, ["go"], "go");
  const end = Date.now() + 120_000;
  const acked = () =>
    procs.reduce(
      (n, p) => n + p.lines().filter((l) => /^(ok|set) /.test(l)).length,
      0,
    );
  while (acked() < acks) {
    assert.ok(Date.now() < end, "the clients commit nothing");
    await sleep(20);
  }
  return procs;
}

/** Kills the clients; returns what they saw committed. */
async function stopClients(procs: Proc[], acked: Acked): Promise<void> {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.status));
  ackedFrom(procs.flatMap((p) => p.lines()), acked);
}

/** Every entry, read by a client through the server. */
async function dump(server: ServerProc): Promise<PlainEntry[]> {
  const proc = new Proc([
    "run",
    "-A",
    "--unstable-kv",
    fixture("server_transfer_client.ts"),
    "dump",
    server.url,
  ], { DENO_KV_ACCESS_TOKEN: TOKEN });
  const status = await deadline(proc.status, 120_000, "dump");
  assert.ok(status.success, proc.stderr);
  return JSON.parse(proc.lines().at(-1)!);
}

function highest(versionstamps: Iterable<string>): string {
  let max = "";
  for (const v of versionstamps) if (v > max) max = v;
  return max;
}

Deno.test("serve signals: SIGKILL during concurrent atomics loses no acknowledged write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_serve_kill_" });
  const seed = Date.now();
  const random = rng(seed);
  const procs: Proc[] = [];
  let server: ServerProc | undefined;
  try {
    {
      await using kv = await openKv(dir);
      await openAccounts(kv);
    }
    const acked: Acked = { commits: new Map(), sets: new Map() };
    let before = "";
    for (let round = 0; round < 3; round++) {
      server = await startServer(dir, TOKEN);
      if (round > 0) {
        // A restart after SIGKILL: everything acknowledged is there.
        checkLedger(await dump(server), acked);
      }
      if (round === 2) break;
      const started = acked.commits.size + acked.sets.size;
      const clients = await startClients(server, `r${round}`, 100);
      procs.push(...clients);
      await sleep(random() * 300);
      server.proc.kill("SIGKILL");
      const status = await deadline(server.proc.status, 60_000, "SIGKILL");
      assert.equal(status.signal, "SIGKILL");
      await sleep(100); // clients meet the dead server mid-request
      await stopClients(clients, acked);
      const added = acked.commits.size + acked.sets.size - started;
      assert.ok(added >= 100, `round ${round}: ${added} acknowledged`);
      // Versionstamps go forward across the crash and restart.
      const round_ = [...acked.commits, ...acked.sets]
        .filter(([id]) => id.startsWith(`r${round}c`))
        .map(([, vs]) => vs);
      assert.ok(round_.every((v) => v > before), "versionstamps went back");
      before = highest(round_);
    }
    const status = await stopProc(server!.proc, "SIGTERM");
    assert.equal(status.code, 0, server!.proc.stderr);
    // And in-process, with the server gone.
    await using kv = await openKv(dir);
    const counts = checkLedger(await entriesOf(kv), acked);
    assert.ok(counts.transfers >= acked.commits.size);
  } catch (err) {
    console.error(`serve SIGKILL test failed (timing seed ${seed})`);
    throw err;
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    if (server) server.proc.kill("SIGKILL");
    await Promise.all(
      [...procs, ...(server ? [server.proc] : [])].map((p) => p.status),
    );
    await Deno.remove(dir, { recursive: true });
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`serve signals: ${signal} stops cleanly, finishing the writes in flight`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "strata_serve_stop_" });
    let server: ServerProc | undefined;
    let clients: Proc[] = [];
    const conns: Deno.Conn[] = [];
    try {
      {
        await using kv = await openKv(dir);
        await openAccounts(kv);
      }
      server = await startServer(dir, TOKEN);
      clients = await startClients(server, "s", 40);
      // Two requests still arriving when the signal comes: one that will
      // finish, one that stalls for good.
      const open = async (key: string) => {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: server!.port,
        });
        conns.push(conn);
        const body = setBody([key], `${signal} in flight`);
        const head = requestHead("/v2/atomic_write", TOKEN, {
          "Content-Length": body.length,
        });
        await writeAll(conn, new Uint8Array([...head, ...body.subarray(0, 5)]));
        return { conn, rest: body.subarray(5) };
      };
      const inFlight = await open("in flight");
      await open("stalled");
      await sleep(100); // both are at the server
      server.proc.kill(signal);
      await server.proc.waitFor("stderr", /strata: stopping/, 60_000);
      await writeAll(inFlight.conn, inFlight.rest);
      const answer = await deadline(readAll(inFlight.conn), 60_000, "answer");
      const status = await deadline(
        server.proc.status,
        60_000,
        `exit after ${signal}`,
      );
      const stderr = server.proc.stderr;
      assert.equal(status.code, 0, stderr);
      assert.match(stderr, /strata: stopped/);
      assert.ok(!hasStackTrace(stderr), `stack trace on stderr:\n${stderr}`);
      // The write in flight was answered, and committed.
      assert.match(answer.head, /^HTTP\/1\.1 200 /);
      assert.equal(
        decodeAtomicWriteOutput(answer.body).status,
        AtomicWriteStatus.AW_SUCCESS,
      );
      const acked: Acked = { commits: new Map(), sets: new Map() };
      await sleep(100);
      await stopClients(clients, acked);
      // Reopened: every acknowledged write, whole.
      await using kv = await openKv(dir);
      checkLedger(await entriesOf(kv), acked);
      assert.ok(acked.commits.size + acked.sets.size >= 40);
      const get = async (key: string) => {
        const v = (await kv.get<Uint8Array>([key])).value;
        return v && new TextDecoder().decode(v);
      };
      assert.equal(await get("in flight"), `${signal} in flight`);
      assert.equal(await get("stalled"), null);
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      for (const p of clients) p.kill("SIGKILL");
      if (server) server.proc.kill("SIGKILL");
      await Promise.all(
        [...clients, ...(server ? [server.proc] : [])].map((p) => p.status),
      );
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** A whole response as bytes: its head as text, its body as bytes. */
async function readAll(
  conn: Deno.Conn,
): Promise<{ head: string; body: Uint8Array }> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(4096);
  for (;;) {
    const text = new TextDecoder().decode(bytes);
    const split = text.indexOf("\r\n\r\n");
    if (split >= 0) {
      const length = Number(/content-length:\s*(\d+)/i.exec(text)?.[1] ?? NaN);
      const start = new TextEncoder().encode(text.slice(0, split + 4)).length;
      if (bytes.length - start >= length) {
        return {
          head: text.slice(0, split),
          body: bytes.slice(start, start + length),
        };
      }
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error(`connection closed: ${text}`);
    const next = new Uint8Array(bytes.length + n);
    next.set(bytes);
    next.set(buf.subarray(0, n), bytes.length);
    bytes = next;
  }
}
