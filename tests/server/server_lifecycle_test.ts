// The server's life cycle, in-process (serve(kv, options)), at the
// protocol level: watch frames carry every key's entry (Deno's remote
// client shows a key sent as unchanged as absent), a watch reports its
// end whichever way it ends (the server forgets it, rather than keeping
// every watch it ever served), and shutdown() lets a request still
// arriving finish while it turns new ones away.

import assert from "node:assert/strict";
import { openKv } from "../../mod.ts";
import { coreOf } from "../../lib/kv/kv.ts";
import { encodeKey } from "../../lib/kv/key_codec.ts";
import { KvConnect } from "../../lib/server/kv_connect.ts";
import { serve } from "../../lib/server/server.ts";
import {
  AtomicWriteStatus,
  decodeAtomicWriteOutput,
  decodeWatchOutput,
  encodeWatch,
} from "../../lib/server/datapath_codec.ts";
import {
  deadline,
  post,
  rawSet,
  requestHead,
  setBody,
  sleep,
  writeAll,
} from "../fixtures/server_harness.ts";

const TOKEN = "lifecycle-token";
const decoder = new TextDecoder();

/** Reads length-prefixed frames (little-endian u32) off a watch stream. */
function frames(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let buffer = new Uint8Array(0);
  return {
    async next() {
      for (;;) {
        if (buffer.length >= 4) {
          const n = new DataView(buffer.buffer, buffer.byteOffset).getUint32(
            0,
            true,
          );
          if (buffer.length >= 4 + n) {
            const frame = buffer.slice(4, 4 + n);
            buffer = buffer.slice(4 + n);
            if (n === 0) continue; // a keep-alive
            return decodeWatchOutput(frame);
          }
        }
        const { done, value } = await reader.read();
        if (done) throw new Error("the watch ended");
        const next = new Uint8Array(buffer.length + value.length);
        next.set(buffer);
        next.set(value, buffer.length);
        buffer = next;
      }
    },
    cancel: () => reader.cancel(),
  };
}

Deno.test("serve lifecycle: every watch frame carries every key's entry", async () => {
  await using kv = await openKv(":memory:");
  const server = serve(kv, { port: 0, accessToken: TOKEN });
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    assert.ok(await rawSet(url, TOKEN, ["b"], "b's value"));
    const res = await fetch(`${url}/v2/watch`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: encodeWatch({
        keys: [{ key: encodeKey(["a"]) }, { key: encodeKey(["b"]) }],
      }) as BodyInit,
    });
    assert.equal(res.status, 200);
    const watch = frames(res.body!);
    const first = await watch.next();
    assert.equal(first.keys.length, 2);
    assert.ok(first.keys[0]!.changed && !first.keys[0]!.entryIfChanged);
    assert.equal(
      decoder.decode(first.keys[1]!.entryIfChanged!.value),
      "b's value",
    );
    assert.ok(await rawSet(url, TOKEN, ["a"], "a's value"));
    const second = await watch.next();
    assert.equal(
      decoder.decode(second.keys[0]!.entryIfChanged!.value),
      "a's value",
    );
    // b did not change, and is sent all the same.
    assert.ok(second.keys[1]!.changed);
    assert.equal(
      decoder.decode(second.keys[1]!.entryIfChanged!.value),
      "b's value",
    );
    await watch.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("serve lifecycle: a watch reports its end once, however it ends", async () => {
  await using kv = await openKv(":memory:");
  const connect = new KvConnect(coreOf(kv), TOKEN);
  const body = encodeWatch({ keys: [{ key: encodeKey(["w"]) }] });
  // Cancelled by the reader (a client that went away).
  let ended = 0;
  const a = connect.watch(body, () => ended++);
  const reader = a.stream.getReader();
  await reader.read();
  await reader.cancel();
  a.end();
  assert.equal(ended, 1);
  // Ended by the server (shutdown).
  ended = 0;
  const b = connect.watch(body, () => ended++);
  const rb = b.stream.getReader();
  await rb.read();
  b.end();
  b.end();
  assert.equal(ended, 1);
  await rb.cancel();
  assert.equal(ended, 1);
  // Ended by the database closing.
  ended = 0;
  const c = connect.watch(body, () => ended++);
  const rc = c.stream.getReader();
  await rc.read();
  const closing = rc.read();
  kv.close();
  assert.equal((await closing).done, true);
  assert.equal(ended, 1);
});

Deno.test("serve lifecycle: shutdown() lets a request still arriving finish, turns new ones away", async () => {
  await using kv = await openKv(":memory:");
  const server = serve(kv, { port: 0, accessToken: TOKEN });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  try {
    const body = setBody(["arriving"], "made it");
    await writeAll(
      conn,
      new Uint8Array([
        ...requestHead("/v2/atomic_write", TOKEN, {
          "Content-Length": body.length,
        }),
        ...body.subarray(0, 4),
      ]),
    );
    await sleep(50); // the request is at the server, its body unfinished
    const stopped = server.shutdown();
    const late = await post(
      url,
      "/v2/atomic_write",
      setBody(["late"], "no"),
      TOKEN,
    );
    assert.equal(late.status, 503);
    assert.equal(late.text, "the server is stopping\n");
    await writeAll(conn, body.subarray(4));
    const answer = await deadline(readBytes(conn), 60_000, "the answer");
    assert.equal(
      decodeAtomicWriteOutput(answer).status,
      AtomicWriteStatus.AW_SUCCESS,
    );
    await deadline(stopped, 60_000, "shutdown");
    await deadline(server.finished, 60_000, "finished");
    assert.equal(
      decoder.decode((await kv.get<Uint8Array>(["arriving"])).value!),
      "made it",
    );
    assert.equal((await kv.get(["late"])).value, null);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

/** A response's body, by its content-length. */
async function readBytes(conn: Deno.Conn): Promise<Uint8Array> {
  let all = new Uint8Array(0);
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed before the answer was whole");
    const next = new Uint8Array(all.length + n);
    next.set(all);
    next.set(buf.subarray(0, n), all.length);
    all = next;
    const text = new TextDecoder("latin1").decode(all);
    const split = text.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const length = Number(/content-length:\s*(\d+)/i.exec(text)?.[1]);
    if (all.length >= split + 4 + length) {
      return all.slice(split + 4, split + 4 + length);
    }
  }
}
