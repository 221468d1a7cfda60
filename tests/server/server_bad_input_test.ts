// `strata serve` (a child: `deno run -A cli.ts serve`) against clients'
// mistakes and misbehaviour: wrong and missing tokens (401), garbage and
// truncated protobuf and bad requests (400 with a one-line reason), bodies
// over the limit, announced or streamed (413), unknown paths (404), slow
// clients, and clients that vanish halfway through a body or a watch.
// Through all of it the server serves everyone else, the data stays as it
// was, it stops cleanly on SIGTERM, and its stderr never holds a stack
// trace.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";
import { encodeKey } from "../../lib/kv/key_codec.ts";
import {
  encodeAtomicWrite,
  encodeSnapshotRead,
  encodeWatch,
  type Mutation,
  MutationType,
  ValueEncoding,
} from "../../lib/server/datapath_codec.ts";
import {
  deadline,
  fixture,
  hasStackTrace,
  post,
  Proc,
  rawGet,
  rawList,
  rawSet,
  readBody,
  readResponse,
  requestHead,
  type ServerProc,
  setBody,
  sleep,
  startServer,
  stopProc,
  writeAll,
} from "../fixtures/server_harness.ts";
import { rng } from "../fixtures/rng.ts";

const TOKEN = "bad-input-token-" + crypto.randomUUID();
/** The server's default body limit (64 MiB). */
const MAX_BODY = 64 * 1024 * 1024;
const SEED = 20;

const encoder = new TextEncoder();

function mutation(fields: Partial<Mutation>): Mutation {
  return {
    key: encodeKey(["bad"]),
    value: { data: encoder.encode("x"), encoding: ValueEncoding.VE_BYTES },
    mutationType: MutationType.M_SET,
    expireAtMs: 0,
    sumMin: new Uint8Array(0),
    sumMax: new Uint8Array(0),
    sumClamp: false,
    ...fields,
  };
}

const write = (
  m: Mutation[],
  checks: { key: Uint8Array; versionstamp: Uint8Array }[] = [],
) => encodeAtomicWrite({ checks, mutations: m, enqueues: [] });

const watchBody = (keys: Deno.KvKey[]) =>
  encodeWatch({ keys: keys.map((k) => ({ key: encodeKey(k) })) });

/** A client's mistake is answered with its status and one line. */
function assertReason(
  r: { status: number; text: string },
  status: number,
  what: string,
): void {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
  assert.match(r.text, /^[^\n]+\n$/, `${what}: not one line: ${r.text}`);
  assert.ok(!hasStackTrace(r.text), `${what}: a stack trace: ${r.text}`);
}

/** Opens a TCP connection to the server. */
const connect = (server: ServerProc) =>
  Deno.connect({ hostname: "127.0.0.1", port: server.port });

Deno.test("serve bad input: 401, 400, 413, 404, slow and vanishing clients", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "strata_serve_bad_" });
  let server: ServerProc | undefined;
  try {
    server = await startServer(dir, TOKEN);
    const { url } = server;
    for (let i = 0; i < SEED; i++) {
      assert.ok(await rawSet(url, TOKEN, ["seed", i], `value ${i}`));
    }

    await t.step("401 without the token, or with a wrong one", async () => {
      const bodies: [string, Uint8Array][] = [
        ["/", encoder.encode(JSON.stringify({ supportedVersions: [2, 3] }))],
        ["/v2/snapshot_read", readBody(encodeKey(["seed"]), encodeKey(["z"]))],
        ["/v2/atomic_write", setBody(["unauthorized"], "no")],
        ["/v2/watch", watchBody([["seed", 0]])],
      ];
      const wrong = [
        undefined,
        "",
        "wrong",
        TOKEN + "x",
        TOKEN.slice(0, -1),
        TOKEN.toUpperCase(),
      ];
      for (const [path, body] of bodies) {
        for (const token of wrong) {
          assertReason(
            await post(url, path, body, token),
            401,
            `${path} with token ${JSON.stringify(token)}`,
          );
        }
        // A scheme other than Bearer is no token either.
        assertReason(
          await post(url, path, body, undefined, {
            authorization: `Basic ${btoa(`user:${TOKEN}`)}`,
          }),
          401,
          `${path} with basic auth`,
        );
      }
      // Deno's own client, given a wrong token, says so and gets nothing.
      const child = new Proc([
        "run",
        "-A",
        "--unstable-kv",
        fixture("server_transfer_client.ts"),
        "dump",
        url,
      ], { DENO_KV_ACCESS_TOKEN: "wrong" });
      const status = await deadline(child.status, 120_000, "client");
      assert.ok(!status.success);
      assert.match(child.stderr, /401 Unauthorized/);
      assert.equal(child.stdout, "");
      assert.deepStrictEqual(await rawList(url, TOKEN, ["unauthorized"]), []);
    });

    await t.step(
      "400 for garbage, truncated protobuf and bad requests",
      async () => {
        // Random bytes: some decode as a valid read by chance, which is fine;
        // nothing else than an answer or a 400 is.
        const random = rng(7);
        for (let i = 0; i < 200; i++) {
          const body = Uint8Array.from(
            { length: 1 + Math.floor(random() * 64) },
            () => Math.floor(random() * 256),
          );
          const r = await post(url, "/v2/snapshot_read", body, TOKEN);
          if (r.status !== 200) assertReason(r, 400, `garbage read ${i}`);
        }
        const garbage = [
          new Uint8Array([0xff]), // a varint that never ends
          new Uint8Array([0x0a, 0x05, 0x61, 0x62]), // 5 bytes announced, 2 sent
          new Uint8Array([0x0b]), // wire type 3: a group, which proto3 lacks
          new Uint8Array([0x0f]), // wire type 7: none such
          encoder.encode("GET / HTTP/1.1\r\n\r\n"),
          new Uint8Array(Array(20).fill(0x80)), // varint over 10 bytes
        ];
        for (
          const path of ["/v2/snapshot_read", "/v2/atomic_write", "/v2/watch"]
        ) {
          for (const [i, body] of garbage.entries()) {
            assertReason(
              await post(url, path, body, TOKEN),
              400,
              `${path} #${i}`,
            );
          }
        }
        // Truncated: cut inside the one length-delimited field at the top.
        const valid: [string, Uint8Array][] = [
          [
            "/v2/snapshot_read",
            readBody(encodeKey(["seed"]), encodeKey(["z"])),
          ],
          ["/v2/atomic_write", write([mutation({ key: encodeKey(["cut"]) })])],
          [
            "/v2/watch",
            encodeWatch({ keys: [{ key: encodeKey(["seed", 1]) }] }),
          ],
        ];
        for (const [path, body] of valid) {
          for (const cut of [1, 2, body.length >> 1, body.length - 1]) {
            assertReason(
              await post(url, path, body.subarray(0, cut), TOKEN),
              400,
              `${path} cut at ${cut} of ${body.length}`,
            );
          }
        }
        // The metadata exchange takes JSON with versions it speaks.
        for (
          const body of [
            "not json",
            "",
            "null",
            "[]",
            "{}",
            '{"supportedVersions":"3"}',
            '{"supportedVersions":[1]}',
            '{"supportedVersions":[99]}',
          ]
        ) {
          assertReason(
            await post(url, "/", body, TOKEN),
            400,
            `metadata ${JSON.stringify(body)}`,
          );
        }
        // Well-formed protobuf that asks for what cannot be.
        const seed0 = encodeKey(["seed", 0]);
        const bad: [string, string, Uint8Array][] = [
          [
            "read limit 0",
            "/v2/snapshot_read",
            readBody(encodeKey(["seed"]), encodeKey(["z"]), 0),
          ],
          [
            "too many ranges",
            "/v2/snapshot_read",
            encodeSnapshotRead({
              ranges: Array.from({ length: 11 }, () => ({
                start: encodeKey(["a"]),
                end: encodeKey(["b"]),
                limit: 1,
                reverse: false,
              })),
            }),
          ],
          [
            "not a KV key",
            "/v2/atomic_write",
            write([mutation({ key: new Uint8Array([0x99, 1]) })]),
          ],
          [
            "empty key",
            "/v2/atomic_write",
            write([mutation({ key: new Uint8Array(0) })]),
          ],
          [
            "set without a value",
            "/v2/atomic_write",
            write([mutation({ value: undefined })]),
          ],
          [
            "unknown mutation",
            "/v2/atomic_write",
            write([mutation({ mutationType: 42 })]),
          ],
          [
            "unknown encoding",
            "/v2/atomic_write",
            write([
              mutation({ value: { data: new Uint8Array(1), encoding: 99 } }),
            ]),
          ],
          [
            "value over the limit",
            "/v2/atomic_write",
            write([mutation({
              value: {
                data: new Uint8Array(70_000),
                encoding: ValueEncoding.VE_BYTES,
              },
            })]),
          ],
          [
            "sum onto bytes",
            "/v2/atomic_write",
            write([
              mutation({ key: encodeKey(["bad", 2]) }),
              mutation({
                key: seed0,
                mutationType: MutationType.M_SUM,
                value: {
                  data: new Uint8Array(8),
                  encoding: ValueEncoding.VE_LE64,
                },
              }),
            ]),
          ],
          [
            "check with a 3-byte versionstamp",
            "/v2/atomic_write",
            write([mutation({})], [{
              key: seed0,
              versionstamp: new Uint8Array(3),
            }]),
          ],
          [
            "too many mutations",
            "/v2/atomic_write",
            write(
              Array.from(
                { length: 1001 },
                (_, i) => mutation({ key: encodeKey(["bad", i]) }),
              ),
            ),
          ],
          [
            "too many watched keys",
            "/v2/watch",
            watchBody(Array.from({ length: 11 }, (_, i) => ["seed", i])),
          ],
        ];
        for (const [what, path, body] of bad) {
          assertReason(await post(url, path, body, TOKEN), 400, what);
        }
        assert.deepStrictEqual(await rawList(url, TOKEN, ["bad"]), []);
        assert.deepStrictEqual(await rawList(url, TOKEN, ["cut"]), []);
      },
    );

    await t.step(
      "413 for bodies over the limit, announced or streamed",
      async () => {
        // Announced: answered before a byte of the body is read.
        const conn = await connect(server!);
        await writeAll(
          conn,
          requestHead("/v2/atomic_write", TOKEN, {
            "Content-Length": MAX_BODY + 1,
            "Content-Type": "application/x-protobuf",
          }),
        );
        assertReason(
          await deadline(readResponse(conn), 60_000, "413"),
          413,
          "content-length",
        );
        conn.close();
        // Streamed, with no content-length: cut off once past the limit. The
        // stream is bounded in case the server kept reading; the bound is
        // far past what the socket buffers hold beyond the limit.
        for (
          const [path, limit] of [["/", 1 << 16], [
            "/v2/atomic_write",
            MAX_BODY,
          ]] as const
        ) {
          let sent = 0;
          const bound = 2 * limit + (32 << 20);
          const chunk = new Uint8Array(limit >> 4);
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (sent >= bound) return controller.close();
              sent += chunk.length;
              controller.enqueue(chunk);
            },
          });
          assertReason(
            await deadline(post(url, path, body, TOKEN), 120_000, "streamed"),
            413,
            `${path} streamed`,
          );
          assert.ok(
            sent < bound,
            `${path}: the server read the whole body`,
          );
        }
      },
    );

    await t.step(
      "404 for unknown paths, 405 for GET on the data path",
      async () => {
        const get = async (path: string, method = "GET") => {
          const res = await fetch(`${url}${path}`, {
            method,
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return { status: res.status, text: await res.text() };
        };
        assertReason(await get("/nope"), 404, "GET /nope");
        assertReason(await get("/nope", "POST"), 404, "POST /nope");
        assertReason(await get("/v2/nope", "POST"), 404, "POST /v2/nope");
        assertReason(await get("/v3/snapshot_read", "POST"), 404, "POST /v3/…");
        assertReason(await get("/", "PUT"), 404, "PUT /");
        assertReason(
          await get("/v2/snapshot_read"),
          405,
          "GET /v2/snapshot_read",
        );
      },
    );

    await t.step("slow clients, byte by byte, block nobody", async () => {
      // Four connections dribble their requests; one even its head.
      const slow = await Promise.all([0, 1, 2, 3].map(async (i) => {
        const conn = await connect(server!);
        const body = setBody(["slow", i], `slow ${i}`);
        const head = requestHead("/v2/atomic_write", TOKEN, {
          "Content-Length": body.length,
        });
        return {
          conn,
          bytes: new Uint8Array([...head, ...body]),
          sent: i === 0 ? 0 : head.length,
        };
      }));
      for (const s of slow) await writeAll(s.conn, s.bytes.subarray(0, s.sent));
      /** One byte at a time, to each in turn, up to `until` of its bytes. */
      const dribble = async (until: (length: number) => number) => {
        for (let more = true; more;) {
          more = false;
          for (const s of slow) {
            if (s.sent >= until(s.bytes.length)) continue;
            await writeAll(s.conn, s.bytes.subarray(s.sent, s.sent + 1));
            s.sent++;
            more = true;
          }
          await sleep(1);
        }
      };
      await dribble((n) => n - 8); // all but the last bytes
      // Meanwhile everyone else is served, in full.
      for (let i = 0; i < 20; i++) {
        assert.ok(await rawSet(url, TOKEN, ["fast", i], `fast ${i}`));
      }
      assert.equal((await rawList(url, TOKEN, ["fast"])).length, 20);
      assert.equal((await rawList(url, TOKEN, ["seed"])).length, SEED);
      await dribble((n) => n);
      for (const [i, s] of slow.entries()) {
        const r = await deadline(readResponse(s.conn), 60_000, "slow answer");
        assert.equal(r.status, 200, `slow client ${i}: ${r.text}`);
        s.conn.close();
      }
      assert.deepStrictEqual(
        (await rawList(url, TOKEN, ["slow"])).map((e) => e.value),
        ["slow 0", "slow 1", "slow 2", "slow 3"],
      );
    });

    await t.step("clients that vanish midway disturb nobody", async () => {
      // Watches dropped after their first frame: by fetch's abort, and by
      // closing the socket. Then a write to the watched key, so the server
      // meets each dropped connection when it sends.
      for (let i = 0; i < 10; i++) {
        const abort = new AbortController();
        const res = await fetch(`${url}/v2/watch`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
          body: watchBody([["watched"], ["seed", 1]]) as BodyInit,
          signal: abort.signal,
        });
        assert.equal(res.status, 200);
        const reader = res.body!.getReader();
        const first = await reader.read();
        assert.ok(!first.done && first.value.length > 4, "a first frame");
        abort.abort();
        await reader.cancel().catch(() => {});
      }
      for (let i = 0; i < 5; i++) {
        const conn = await connect(server!);
        const body = watchBody([["watched"]]);
        await writeAll(
          conn,
          new Uint8Array([
            ...requestHead("/v2/watch", TOKEN, {
              "Content-Length": body.length,
            }),
            ...body,
          ]),
        );
        await conn.read(new Uint8Array(256)); // the head and first frame
        conn.close();
      }
      assert.ok(await rawSet(url, TOKEN, ["watched"], "changed"));
      // A body cut off halfway, then the connection closed: nothing lands.
      for (let i = 0; i < 5; i++) {
        const conn = await connect(server!);
        const body = setBody(["half", i], "never");
        await writeAll(
          conn,
          new Uint8Array([
            ...requestHead("/v2/atomic_write", TOKEN, {
              "Content-Length": body.length,
            }),
            ...body.subarray(0, body.length >> 1),
          ]),
        );
        await sleep(20);
        conn.close();
      }
      // A request whose answer nobody waits for.
      for (let i = 0; i < 5; i++) {
        const conn = await connect(server!);
        const body = readBody(encodeKey(["seed"]), encodeKey(["z"]));
        await writeAll(
          conn,
          new Uint8Array([
            ...requestHead("/v2/snapshot_read", TOKEN, {
              "Content-Length": body.length,
            }),
            ...body,
          ]),
        );
        conn.close();
      }
      await sleep(200); // let the server meet the closed connections
      assert.ok(await rawSet(url, TOKEN, ["after"], "still serving"));
      assert.deepStrictEqual(await rawList(url, TOKEN, ["half"]), []);
      assert.equal(await rawGet(url, TOKEN, ["watched"]), "changed");
    });

    await t.step(
      "the data is intact, and the server stops cleanly",
      async () => {
        const seeded = await rawList(url, TOKEN, ["seed"]);
        assert.deepStrictEqual(
          seeded.map((e) => e.value),
          Array.from({ length: SEED }, (_, i) => `value ${i}`),
        );
        const status = await stopProc(server!.proc, "SIGTERM");
        const stderr = server!.proc.stderr;
        assert.equal(status.code, 0, stderr);
        assert.ok(!hasStackTrace(stderr), `stack trace on stderr:\n${stderr}`);
        assert.match(stderr, /strata: stopped/);
        // Reopened in-process: what was acknowledged, and nothing refused.
        await using kv = await openKv(dir);
        const keys: string[] = [];
        for await (const e of kv.list({ prefix: [] })) {
          keys.push(JSON.stringify(e.key));
        }
        assert.equal(keys.length, SEED + 20 + 4 + 2);
        for (const refused of ["unauthorized", "bad", "cut", "half"]) {
          assert.ok(!keys.some((k) => k.startsWith(`["${refused}"`)), refused);
        }
      },
    );
  } finally {
    if (server) {
      server.proc.kill("SIGKILL");
      await server.proc.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
