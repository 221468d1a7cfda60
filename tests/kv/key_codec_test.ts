// Tests of the Deno KV key codec. The oracle is Deno KV itself
// (`Deno.openKv(":memory:")`, so these tests need --unstable-kv): a list
// cursor under the empty prefix is the base64 of a key's whole encoding,
// which exposes Deno KV's bytes, and list order exposes its byte order.

import assert from "node:assert/strict";
import {
  assertKeyType,
  checkReadKeySize,
  checkWriteKey,
  decodeCursor,
  decodeKey,
  encodeCursor,
  encodeKey,
  encodeSelector,
  type KvSelector,
  MAX_BIGINT_BYTES,
  MAX_READ_KEY_SIZE_BYTES,
  MAX_WRITE_KEY_SIZE_BYTES,
  normalizeSelector,
  selectorRange,
} from "../../lib/kv/key_codec.ts";
import { InvalidArgumentError } from "../../lib/util/errors.ts";
import { compareBytes, toHex } from "../../lib/util/bytes.ts";

const EVERYTHING = { prefix: [] } as const;

function hex(bytes: Uint8Array): string {
  return toHex(bytes);
}

function u8(...bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}

/** A view that is no Uint8Array, as a part: Deno KV takes any view. */
function part(view: ArrayBufferView): Deno.KvKeyPart {
  return view as unknown as Deno.KvKeyPart;
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
}

/** What an operation did: its JSON-ish result or its error class and message. */
async function outcome(f: () => unknown): Promise<string> {
  try {
    const r = await f();
    return `ok ${show(r)}`;
  } catch (e) {
    const err = e as Error;
    return `${err.name}: ${err.message}`;
  }
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

async function setAll(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<void> {
  // Deno KV caps an atomic at 1000 mutations and 80 KiB of keys.
  for (let i = 0; i < keys.length; i += 100) {
    const op = kv.atomic();
    for (const key of keys.slice(i, i + 100)) op.set(key, 0);
    assert((await op.commit()).ok);
  }
}

async function listWithCursors(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  options: Deno.KvListOptions = {},
): Promise<{ keys: Deno.KvKey[]; cursors: string[] }> {
  const it = kv.list(selector, options);
  const keys: Deno.KvKey[] = [];
  const cursors: string[] = [];
  for await (const e of it) {
    keys.push(e.key);
    cursors.push(it.cursor);
  }
  return { keys, cursors };
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function newSeed(name: string): number {
  const seed = Number(Deno.env.get("SEED") ?? (Date.now() >>> 0));
  console.log(`${name}: seed ${seed} (rerun with SEED=${seed})`);
  return seed;
}

// ---------------------------------------------------------------------------
// Byte vectors

// From denokv: npm/src/kv_key_test.ts and proto/codec.rs (explicit_bijection).
const DENOKV_VECTORS: [Deno.KvKey, number[]][] = [
  [["foo"], [2, 102, 111, 111, 0]],
  [["f\0o"], [2, 102, 0, 0xff, 111, 0]],
  [[0], [33, 128, 0, 0, 0, 0, 0, 0, 0]],
  [[123.456], [33, 192, 94, 221, 47, 26, 159, 190, 119]],
  [[-300], [33, 63, 141, 63, 255, 255, 255, 255, 255]],
  [[200], [33, 192, 105, 0, 0, 0, 0, 0, 0]],
  [[new TextEncoder().encode("foo")], [1, 102, 111, 111, 0]],
  [[u8(4, 0, 4)], [1, 4, 0, 255, 4, 0]],
  [[false], [38]],
  [[true], [39]],
  [[0n], [20]],
  [[-200n], [19, 55]],
  [[200n], [21, 200]],
  [[600n], [22, 2, 88]],
  [[70000n], [23, 1, 17, 112]],
  [[305419896n], [24, 18, 52, 86, 120]],
  [[78187493520n], [25, 18, 52, 86, 120, 144]],
  [[0x112233445566n], [26, 17, 34, 51, 68, 85, 102]],
  [[0x11223344556677n], [27, 17, 34, 51, 68, 85, 102, 119]],
  [[0x1122334455667788n], [28, 17, 34, 51, 68, 85, 102, 119, 136]],
  [[0x112233445566778899n], [
    29,
    9,
    ...[17, 34, 51, 68, 85, 102, 119, 136, 153],
  ]],
  [[0x1122334455667788990011223344556677889900n], [
    29,
    20,
    ...[17, 34, 51, 68, 85, 102, 119, 136, 153, 0],
    ...[17, 34, 51, 68, 85, 102, 119, 136, 153, 0],
  ]],
  [[-0x1122334455667788990011223344556677889900n], [
    11,
    235,
    ...[238, 221, 204, 187, 170, 153, 136, 119, 102, 255],
    ...[238, 221, 204, 187, 170, 153, 136, 119, 102, 255],
  ]],
  [["hello"], [0x02, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00]],
  [[u8(0x01, 0x02, 0x00, 0x07, 0x08)], [
    ...[0x01, 0x01, 0x02, 0x00, 0xff, 0x07, 0x08, 0x00],
  ]],
  [["hello", u8(0x01, 0x02, 0x00, 0x07, 0x08)], [
    ...[0x02, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00],
    ...[0x01, 0x01, 0x02, 0x00, 0xff, 0x07, 0x08, 0x00],
  ]],
];

Deno.test("key codec: denokv's byte vectors", () => {
  for (const [key, bytes] of DENOKV_VECTORS) {
    const encoded = encodeKey(key);
    assert.equal(hex(encoded), hex(new Uint8Array(bytes)), String(key));
    assert.deepEqual(decodeKey(new Uint8Array(bytes)), key);
  }
});

// Cursors Deno KV 2.9.6 returned for these keys under `{ prefix: [] }`,
// that is base64url of the whole encoded key (recorded by experiment; the
// oracle tests below recheck the same facts live).
const DENO_CURSORS: [Deno.KvKey, string][] = [
  [["b"], "AmIA"],
  [[true], "Jw=="],
  [[-Infinity], "IQAP________"],
  [[-Number.MIN_VALUE], "IX_________-"],
  [[-0], "IX__________"],
  [[0], "IYAAAAAAAAAA"],
  [[Number.MIN_VALUE], "IYAAAAAAAAAB"],
  [[Infinity], "If_wAAAAAAAA"],
  [[NaN], "If_4AAAAAAAA"],
  [["a", 1n], "AmEAFQE="],
  [["a", "b", "x"], "AmEAAmIAAngA"],
  [[part(new Uint16Array([0x0102, 0x0300]))], "AQIBAP8DAA=="],
];

Deno.test("key codec: cursors recorded from Deno KV", () => {
  for (const [key, cursor] of DENO_CURSORS) {
    const sel = encodeSelector(normalizeSelector(EVERYTHING));
    assert.equal(encodeCursor(sel, encodeKey(key)), cursor, String(key));
    assert.equal(hex(decodeCursor(cursor)), hex(encodeKey(key)));
  }
});

Deno.test("key codec: edge encodings", () => {
  const cases: [Deno.KvKey, string][] = [
    [[], ""],
    [[""], "0200"],
    [["\0"], "0200ff00"],
    [[new Uint8Array(0)], "0100"],
    [[u8(0, 0)], "0100ff00ff00"],
    [["é"], "02c3a900"],
    [["😀"], "02f09f988000"],
    [["\uFEFF"], "02efbbbf00"], // a BOM is data, not stripped
    [["\uD800"], "02efbfbd00"], // a lone surrogate is U+FFFD
    [["\uDC00\uD800"], "02efbfbdefbfbd00"],
    [[1n], "1501"],
    [[-1n], "13fe"],
    [[255n], "15ff"],
    [[256n], "160100"],
    [[-255n], "1300"],
    [[-256n], "12feff"],
    [[2n ** 64n - 1n], "1cffffffffffffffff"],
    [[2n ** 64n], "1d09010000000000000000"],
    [[-(2n ** 64n) + 1n], "0c0000000000000000"],
    [[-(2n ** 64n)], "0bf6fe" + "ff".repeat(8)],
    [[2n ** 53n + 1n], "1b20000000000001"],
    [[1.5], "21bff8000000000000"],
    [[-1.5], "214007ffffffffffff"],
    [[Number.MAX_VALUE], "21ffefffffffffffff"],
    [[-Infinity, Infinity], "21000fffffffffffff21fff0000000000000"],
    [[part(new DataView(new Uint8Array([5, 6, 7]).buffer, 1, 2))], "01060700"],
    [[new Uint8Array([9, 8, 7, 6]).subarray(1, 3)], "01080700"],
    [[part(new Int8Array([-1, 0]))], "01ff00ff00"],
  ];
  for (const [key, expected] of cases) {
    assert.equal(hex(encodeKey(key)), expected, String(key));
  }
});

Deno.test("key codec: long strings and byte strings", () => {
  for (const n of [63, 64, 65, 200, 3000]) {
    const ascii = "x".repeat(n);
    assert.equal(hex(encodeKey([ascii])), "02" + "78".repeat(n) + "00");
    const zeros = "\0a".repeat(n);
    assert.equal(hex(encodeKey([zeros])), "02" + "00ff61".repeat(n) + "00");
    const wide = "é😀\0".repeat(n);
    assert.equal(
      hex(encodeKey([wide])),
      "02" + "c3a9f09f988000ff".repeat(n) + "00",
    );
    assert.equal(
      hex(encodeKey(["\uD800".repeat(n)])),
      "02" + "efbfbd".repeat(n) + "00",
    );
    const bytes = new Uint8Array(n).fill(7);
    assert.equal(hex(encodeKey([bytes])), "01" + "07".repeat(n) + "00");
    bytes[n - 1] = 0;
    assert.equal(
      hex(encodeKey([bytes])),
      "01" + "07".repeat(n - 1) + "00ff" + "00",
    );
    for (const key of [[ascii], [zeros], [wide], [bytes]]) {
      assert.deepEqual(decodeKey(encodeKey(key)), key);
    }
  }
});

// ---------------------------------------------------------------------------
// Round trips

Deno.test("key codec: round trips of every part type", () => {
  const parts: Deno.KvKeyPart[] = [
    new Uint8Array(0),
    u8(0),
    u8(0xff, 0, 0xff),
    "",
    "\0",
    "\0\0",
    "a\0",
    "\uFEFFbom",
    "é€😀\u07ff\u0800\uffff\u{10ffff}",
    "x".repeat(30),
    "é".repeat(40),
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    Number.MAX_VALUE,
    Number.MAX_SAFE_INTEGER,
    0.1,
    -1e300,
    0n,
    1n,
    -1n,
    2n ** 48n - 1n,
    2n ** 48n,
    -(2n ** 48n),
    2n ** 56n - 1n,
    2n ** 63n,
    2n ** 64n - 1n,
    -(2n ** 64n - 1n),
    2n ** 64n,
    -(2n ** 64n),
    2n ** 1000n + 12345n,
    -(2n ** 1000n) - 12345n,
    2n ** BigInt(8 * MAX_BIGINT_BYTES) - 1n,
    -(2n ** BigInt(8 * MAX_BIGINT_BYTES) - 1n),
    false,
    true,
  ];
  for (const part of parts) {
    const back = decodeKey(encodeKey([part]));
    assert.equal(back.length, 1);
    if (typeof part === "number") {
      assert(Object.is(back[0], part), `${part}`);
    } else {
      assert.deepEqual(back, [part]);
    }
  }
  assert.deepEqual(decodeKey(encodeKey(parts)), parts);
  assert.deepEqual(decodeKey(new Uint8Array(0)), []);
});

Deno.test("key codec: decoded byte parts own their buffers", () => {
  const key = [u8(1, 2, 3), "s", u8(0, 0)];
  const decoded = decodeKey(encodeKey(key));
  const a = decoded[0] as Uint8Array;
  assert.equal(a.byteOffset, 0);
  assert.equal(a.buffer.byteLength, 3);
  assert.equal((decoded[2] as Uint8Array).buffer.byteLength, 2);
  // Views that are not Uint8Arrays come back as Uint8Arrays.
  const back = decodeKey(encodeKey([part(new Uint16Array([0x0102]))]));
  assert(back[0] instanceof Uint8Array);
  assert.deepEqual(back[0], u8(2, 1));
});

Deno.test("key codec: encodings do not share bytes", () => {
  const keys: Deno.KvKey[] = [];
  const encodings: Uint8Array[] = [];
  for (let i = 0; i < 5000; i++) {
    const key = ["k", i, "x".repeat(i % 300)];
    keys.push(key);
    encodings.push(encodeKey(key));
  }
  encodings[0]!.fill(0);
  for (let i = 1; i < keys.length; i++) {
    assert.deepEqual(decodeKey(encodings[i]!), keys[i]);
  }
});

Deno.test("key codec: a part getter may encode a key itself", () => {
  const key = ["outer", 1];
  Object.defineProperty(key, 1, {
    get: () => encodeKey(["inner", 2n, "padding".repeat(10)]).length,
  });
  const inner = encodeKey(["inner", 2n, "padding".repeat(10)]).length;
  assert.deepEqual(decodeKey(encodeKey(key)), ["outer", inner]);
});

Deno.test("key codec: malformed keys", () => {
  const bad: [number[], RegExp][] = [
    [[0x03], /byte 0: unknown type tag 0x3/],
    [[0x27, 0x00], /byte 1: unknown type tag 0x0/],
    [[0x02, 0x61], /byte 0: unterminated byte string/],
    [[0x01, 0x00, 0xff], /byte 0: unterminated byte string/],
    [[0x21, 0x80, 0, 0], /byte 0: number cut short/],
    [[0x16, 0x01], /byte 0: bigint cut short/],
    [[0x27, 0x1d], /byte 1: bigint length missing/],
    [[0x1d, 0x09, 1, 2], /byte 0: bigint cut short/],
    [[0x02, 0xff, 0x00], /byte 0: string is not UTF-8/],
    [[0x02, 0xed, 0xa0, 0x80, 0x00], /string is not UTF-8/], // a surrogate
    [[0x02, 0xc3, 0x00], /string is not UTF-8/],
  ];
  for (const [bytes, message] of bad) {
    assert.throws(
      () => decodeKey(new Uint8Array(bytes)),
      (e: unknown) =>
        e instanceof InvalidArgumentError && message.test(e.message),
      hex(new Uint8Array(bytes)),
    );
  }
  // denokv decodes integers that are not minimal; so do we.
  assert.deepEqual(decodeKey(u8(0x15, 0x00)), [0n]);
  assert.deepEqual(decodeKey(u8(0x1d, 0x00)), [0n]);
});

Deno.test("key codec: string parts decode as a strict TextDecoder does", () => {
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const seed = newSeed("key codec utf-8");
  const next = prng(seed);
  // Bytes around the edges of UTF-8's ranges, plus anything at all.
  const pool = [
    ...[0x01, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1],
    ...[0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3],
    ...[0xf4, 0xf5, 0xff],
  ];
  const codePoint = () => {
    const r = next() % 4;
    if (r === 0) return 1 + (next() % 0x7f);
    if (r === 1) return 0x80 + (next() % 0x780);
    if (r === 2) {
      const c = 0x800 + (next() % 0xf800);
      return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
    }
    return 0x10000 + (next() % 0x100000);
  };
  let valid = 0;
  for (let round = 0; round < 20000; round++) {
    // Valid UTF-8, then, half the time, a byte or two changed or cut.
    let text = "";
    for (let i = next() % 25; i >= 0; i--) {
      text += String.fromCodePoint(codePoint());
    }
    let data = new TextEncoder().encode(text);
    if (next() % 2) {
      for (let k = 1 + (next() % 2); k > 0; k--) {
        data[next() % data.length] = next() % 3 ? pick(next, pool) : 1;
      }
    }
    if (next() % 8 === 0) data = data.subarray(0, next() % data.length || 1);
    const encoded = new Uint8Array([0x02, ...data, 0x00]);
    let expected: string | undefined;
    try {
      expected = strict.decode(data);
    } catch {
      expected = undefined;
    }
    if (expected === undefined) {
      assert.throws(() => decodeKey(encoded), InvalidArgumentError);
    } else {
      valid++;
      assert.deepEqual(decodeKey(encoded), [expected], hex(data));
    }
  }
  assert(valid > 5000 && valid < 15000, `${valid} valid strings`);
  // And every valid string, escapes and all, comes back.
  for (let round = 0; round < 2000; round++) {
    let text = "";
    const n = next() % 30;
    for (let i = 0; i < n; i++) text += pick(next, STRING_PIECES);
    assert.deepEqual(decodeKey(encodeKey([text])), [text]);
  }
});

Deno.test("key codec: size checks", () => {
  assert.equal(MAX_WRITE_KEY_SIZE_BYTES, 2048);
  assert.equal(MAX_READ_KEY_SIZE_BYTES, 2049);
  checkWriteKey(1);
  checkWriteKey(2048);
  assert.throws(() => checkWriteKey(0), {
    name: "TypeError",
    message: "key cannot be empty",
  });
  assert.throws(() => checkWriteKey(2049), {
    name: "TypeError",
    message: "Key too large for write (max 2048 bytes)",
  });
  assert.throws(() => checkWriteKey(11, 10), {
    message: "Key too large for write (max 10 bytes)",
  });
  checkReadKeySize(0);
  checkReadKeySize(2049);
  assert.throws(() => checkReadKeySize(2050), {
    name: "TypeError",
    message: "Key too large for read (max 2049 bytes)",
  });
  assert.throws(() => checkReadKeySize(12, 11), {
    message: "Key too large for read (max 11 bytes)",
  });
  assert.throws(() => encodeKey([2n ** BigInt(8 * MAX_BIGINT_BYTES)]), {
    name: "TypeError",
    message: "BigUint requires more than 255 bytes to be represented",
  });
});

Deno.test("key codec: a selector of one start key selects that key", () => {
  const key = encodeKey(["a", 1n]);
  const sel = encodeSelector({ prefix: null, start: ["a", 1n], end: null });
  assert.deepEqual(sel.commonPrefix, key);
  const { start, end } = selectorRange(sel, false, undefined);
  assert.deepEqual(start, key);
  assert.deepEqual(end, new Uint8Array([...key, 0]));
  assert.throws(
    () => encodeSelector({ prefix: null, start: null, end: ["a"] }),
    { name: "TypeError", message: "Invalid range" },
  );
});

Deno.test("key codec: strict cursor decoding", () => {
  assert.deepEqual(decodeCursor(""), new Uint8Array(0));
  assert.deepEqual(decodeCursor("AmIA"), u8(0x02, 0x62, 0x00));
  assert.deepEqual(decodeCursor("_-8="), u8(0xff, 0xef));
  for (
    const bad of [
      "Jw",
      "Jw=",
      "Jx==",
      "Jw=A",
      "J===",
      "====",
      "AmEA====",
      " AmEA",
      "AmEA\n",
      "+w==",
      "/w==",
      "AmE\u00e9",
      "AmE\u{1F600}",
    ]
  ) {
    assert.throws(() => decodeCursor(bad), {
      name: "TypeError",
      message: "invalid cursor",
    }, JSON.stringify(bad));
  }
  // Every byte string round-trips through a cursor.
  const next = prng(7);
  const sel = encodeSelector({ prefix: [], start: null, end: null });
  for (let n = 0; n < 40; n++) {
    const bytes = new Uint8Array(n).map(() => next() & 0xff);
    assert.deepEqual(decodeCursor(encodeCursor(sel, bytes)), bytes);
  }
  assert.throws(
    () =>
      encodeCursor(
        encodeSelector(normalizeSelector({ prefix: ["a"] })),
        encodeKey(["b"]),
      ),
    {
      name: "TypeError",
      message: "Invalid boundary key",
    },
  );
});

// ---------------------------------------------------------------------------
// Against Deno KV

/** Values Deno KV refuses as keys or parts, and some it takes. */
function oddValues(): [string, unknown][] {
  return [
    ["string", "a"],
    ["number", 1],
    ["NaN", NaN],
    ["boolean", true],
    ["bigint", 1n],
    ["symbol", Symbol("s")],
    ["null", null],
    ["undefined", undefined],
    ["object", {}],
    ["array-like", { length: 1, 0: "a" }],
    ["String object", new String("a")],
    ["Number object", new Number(1)],
    ["Boolean object", new Boolean(true)],
    ["BigInt object", Object(1n)],
    ["Symbol object", Object(Symbol())],
    ["function", () => 1],
    ["class", class {}],
    ["generator function", function* () {}],
    ["async generator function", async function* () {}],
    ["async function", async () => {}],
    ["Date", new Date(0)],
    ["RegExp", /a/],
    ["Error", new Error("e")],
    ["Map", new Map()],
    ["Set", new Set()],
    ["WeakMap", new WeakMap()],
    ["WeakSet", new WeakSet()],
    ["Map Iterator", new Map().entries()],
    ["Set Iterator", new Set().values()],
    ["Array Iterator", [].values()],
    ["Promise", Promise.resolve()],
    ["ArrayBuffer", new ArrayBuffer(2)],
    ["SharedArrayBuffer", new SharedArrayBuffer(2)],
    ["DataView", new DataView(new ArrayBuffer(2))],
    ["Uint8Array", new Uint8Array(2)],
    ["Uint8ClampedArray", new Uint8ClampedArray(2)],
    ["Int8Array", new Int8Array(2)],
    ["Uint16Array", new Uint16Array(2)],
    ["Int16Array", new Int16Array(2)],
    ["Uint32Array", new Uint32Array(2)],
    ["Int32Array", new Int32Array(2)],
    ["Float16Array", new Float16Array(2)],
    ["Float32Array", new Float32Array(2)],
    ["Float64Array", new Float64Array(2)],
    ["BigInt64Array", new BigInt64Array(2)],
    ["BigUint64Array", new BigUint64Array(2)],
    ["toStringTag Date", { [Symbol.toStringTag]: "Date" }],
    ["toStringTag Map Iterator", { [Symbol.toStringTag]: "Map Iterator" }],
    ["toStringTag Promise", { [Symbol.toStringTag]: "Promise" }],
    ["toStringTag Module", {
      __proto__: null,
      [Symbol.toStringTag]: "Module",
    }],
    ["array subclass", new (class extends Array {})()],
    ["sparse array", [, 1]],
    ["nested array", [["a"]]],
    ["empty array", []],
  ];
}

Deno.test("key codec oracle: messages for values that are no key", async () => {
  await withKv(async (kv) => {
    const module = await import("data:text/javascript,export const a = 1");
    const values: [string, unknown][] = [...oddValues(), ["Module", module]];
    for (const [name, value] of values) {
      // watch() validates its keys synchronously, as one serde_v8 call.
      const deno = await outcome(async () => {
        const stream = kv.watch([value as Deno.KvKey]);
        await stream.cancel();
        return null;
      });
      const ours = await outcome(() => {
        assertKeyType(value);
        encodeKey(value);
        return null;
      });
      assert.equal(ours, deno, name);
    }
  });
});

Deno.test("key codec oracle: messages for parts that are no key part", async () => {
  await withKv(async (kv) => {
    for (const [name, value] of oddValues()) {
      const key = ["k", value] as Deno.KvKey;
      const deno = await outcome(() => kv.get(key).then(() => null));
      const ours = await outcome(() => {
        assertKeyType(key);
        encodeKey(key);
        return null;
      });
      assert.equal(ours, deno, name);
      const denoSet = await outcome(() => kv.set(key, 1).then(() => null));
      assert.equal(ours, denoSet, name);
    }
    const sym = await outcome(() => kv.get([Symbol("s")]).then(() => null));
    assert.equal(
      await outcome(() => encodeKey([Symbol("s")])),
      sym,
    );
  });
});

Deno.test("key codec oracle: bigint size limit", async () => {
  await withKv(async (kv) => {
    for (const sign of [1n, -1n]) {
      const max = sign * (2n ** BigInt(8 * MAX_BIGINT_BYTES) - 1n);
      const over = sign * 2n ** BigInt(8 * MAX_BIGINT_BYTES);
      assert.equal(await outcome(() => kv.set([max], 1).then(() => 0)), "ok 0");
      const deno = await outcome(() => kv.get([over]));
      assert.equal(await outcome(() => encodeKey([over])), deno);
      // Deno KV wraps the message for mutations and hides it for checks.
      assert.equal(
        await outcome(() => kv.set([over], 1)),
        `TypeError: Invalid mutation: ${deno.slice("TypeError: ".length)}`,
      );
      assert.equal(
        await outcome(() =>
          kv.atomic().check({ key: [over], versionstamp: null }).commit()
        ),
        "TypeError: Invalid check",
      );
    }
    const { keys, cursors } = await listWithCursors(kv, EVERYTHING);
    assert.equal(keys.length, 2);
    for (let i = 0; i < keys.length; i++) {
      assert.equal(hex(decodeCursor(cursors[i]!)), hex(encodeKey(keys[i]!)));
    }
  });
});

Deno.test("key codec oracle: key size limits", async () => {
  await withKv(async (kv) => {
    for (let n = 2043; n <= 2049; n++) {
      for (
        const key of [
          [new Uint8Array(n).fill(1)],
          ["a".repeat(n)],
          ["a".repeat(n >> 1) + "\0".repeat(n >> 2)],
          [1n, new Uint8Array(n - 8).fill(0x80), true],
        ] as Deno.KvKey[]
      ) {
        const len = encodeKey(key).length;
        const label = `${len} bytes`;
        const ours = (f: () => void) => outcome(() => (f(), null));
        const deno = (f: () => Promise<unknown>) =>
          outcome(async () => (await f(), null));
        assert.equal(
          await ours(() => checkWriteKey(len)),
          await deno(() => kv.set(key, 1)),
          `set ${label}`,
        );
        assert.equal(
          await ours(() => checkWriteKey(len)),
          await deno(() => kv.delete(key)),
          `delete ${label}`,
        );
        assert.equal(
          await ours(() => checkWriteKey(len)),
          await deno(() =>
            kv.atomic().check({ key, versionstamp: null }).commit()
          ),
          `check ${label}`,
        );
        assert.equal(
          await ours(() => checkReadKeySize(len + 1)),
          await deno(() => kv.get(key)),
          `get ${label}`,
        );
        assert.equal(
          await ours(() => checkReadKeySize(len)),
          await deno(async () => await kv.watch([key]).cancel()),
          `watch ${label}`,
        );
        const prefix = { prefix: key };
        assert.equal(
          await ours(() =>
            selectorRange(
              encodeSelector(normalizeSelector(prefix)),
              false,
              undefined,
            )
          ),
          await deno(() => Array.fromAsync(kv.list(prefix))),
          `list prefix ${label}`,
        );
        const upTo = { start: [], end: key };
        assert.equal(
          await ours(() =>
            selectorRange(
              encodeSelector(normalizeSelector(upTo)),
              false,
              undefined,
            )
          ),
          await deno(() => Array.fromAsync(kv.list(upTo))),
          `list up to ${label}`,
        );
        const range = { start: key, end: [false] };
        assert.equal(
          await ours(() =>
            selectorRange(
              encodeSelector(normalizeSelector(range)),
              true,
              undefined,
            )
          ),
          await deno(() => Array.fromAsync(kv.list(range, { reverse: true }))),
          `list range ${label}`,
        );
      }
    }
    for (
      const op of [
        () => kv.set([], 1),
        () => kv.delete([]),
        () => kv.atomic().check({ key: [], versionstamp: null }).commit(),
      ]
    ) {
      assert.equal(
        await outcome(op),
        await outcome(() => checkWriteKey(encodeKey([]).length)),
      );
    }
    assert.equal(await outcome(() => kv.get([]).then(() => 0)), "ok 0");
  });
});

type Gen = () => number;

function pick<T>(next: Gen, items: readonly T[]): T {
  return items[next() % items.length]!;
}

const STRING_PIECES = [
  "",
  "\0",
  "a",
  "b",
  "z",
  "A",
  "\u0001",
  "\u007f",
  "\u0080",
  "é",
  "€",
  "😀",
  "\uFEFF",
  "\uffff",
  "\u{10ffff}",
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  2,
  10,
  -10,
  Infinity,
  -Infinity,
  NaN,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  2 ** 53,
  -(2 ** 53),
];
const BIGINTS = [
  0n,
  1n,
  -1n,
  255n,
  256n,
  -255n,
  -256n,
  2n ** 64n - 1n,
  2n ** 64n,
  -(2n ** 64n) + 1n,
  -(2n ** 64n),
];
const BYTES = [0, 0, 1, 0x7f, 0x80, 0xfe, 0xff, 0xff];

function randomPart(next: Gen): Deno.KvKeyPart {
  switch (next() % 5) {
    case 0: {
      const n = pick(next, [0, 1, 1, 2, 3, 5, 9]);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        b[i] = next() % 3 === 0 ? next() & 0xff : pick(next, BYTES);
      }
      return b;
    }
    case 1: {
      let s = "";
      const n = pick(next, [0, 1, 1, 2, 3, 4]);
      for (let i = 0; i < n; i++) s += pick(next, STRING_PIECES);
      return s;
    }
    case 2: {
      const r = next() % 4;
      if (r === 0) return pick(next, NUMBERS);
      if (r === 1) return (next() % 2000) - 1000;
      if (r === 2) return ((next() | 0) / 0x10000) * (next() % 2 ? 1 : -1);
      // Any 64 bits: denormals, NaNs with payloads and either sign.
      const view = new DataView(new ArrayBuffer(8));
      view.setUint32(0, next());
      view.setUint32(4, next());
      return view.getFloat64(0);
    }
    case 3: {
      const r = next() % 3;
      if (r === 0) return pick(next, BIGINTS);
      const bytes = r === 1 ? 1 + (next() % 8) : 1 + (next() % 40);
      let v = 0n;
      for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(next() & 0xff);
      return next() % 2 ? v : -v;
    }
    default:
      return next() % 2 === 0;
  }
}

function randomKeys(next: Gen, count: number): Deno.KvKey[] {
  const keys: Deno.KvKey[] = [];
  while (keys.length < count) {
    let key: Deno.KvKeyPart[];
    if (keys.length > 0 && next() % 3 === 0) {
      // Extend or cut an earlier key, so that keys share prefixes.
      const base = pick(next, keys);
      key = base.slice(0, next() % (base.length + 1));
      if (key.length === 0 || next() % 2) key.push(randomPart(next));
    } else {
      key = [];
      const n = 1 + (next() % 4);
      for (let i = 0; i < n; i++) key.push(randomPart(next));
    }
    keys.push(key);
  }
  return keys;
}

Deno.test("key codec oracle: random keys sort as Deno KV lists them", async () => {
  const seed = newSeed("key codec order");
  const next = prng(seed);
  const keys = randomKeys(next, 3000);
  // A rare part: the largest bigints.
  const huge = 2n ** BigInt(8 * MAX_BIGINT_BYTES) - 1n;
  keys.push([huge], [-huge], ["a", huge, "b"]);
  await withKv(async (kv) => {
    await setAll(kv, keys);
    const { keys: listed, cursors } = await listWithCursors(kv, EVERYTHING);

    const byBytes = new Map<string, Uint8Array>();
    for (const key of keys) {
      const encoded = encodeKey(key);
      byBytes.set(hex(encoded), encoded);
    }
    const sorted = [...byBytes.values()].sort(compareBytes);
    assert.equal(sorted.length, listed.length, "distinct keys");
    const sel = encodeSelector(normalizeSelector(EVERYTHING));
    for (let i = 0; i < sorted.length; i++) {
      const ours = sorted[i]!;
      assert.deepEqual(decodeKey(ours), listed[i], `key #${i}`);
      assert.equal(encodeCursor(sel, ours), cursors[i], `cursor #${i}`);
      // Deno KV's cursor is its encoding of the key it listed.
      assert.equal(
        hex(encodeKey(listed[i]!)),
        hex(decodeCursor(cursors[i]!)),
        `bytes #${i}`,
      );
    }
  });
});

Deno.test("key codec oracle: a NaN with its sign bit set", async () => {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, 0xfff80001);
  const negNaN = view.getFloat64(0);
  // In a mixed array V8 keeps the NaN's bits; Deno KV keeps its sign.
  const key: Deno.KvKey = ["x", negNaN];
  // Run it hot, so that optimized code is seen to keep the bits too.
  for (let i = 0; i < 20000; i++) encodeKey(key);
  assert.equal(hex(encodeKey(key)), "0278002100" + "07ffffffffffff");
  assert.equal(hex(encodeKey(["x", NaN])), "027800" + "21fff8000000000000");
  await withKv(async (kv) => {
    await setAll(kv, [["x", -Infinity], key, ["x", NaN], ["x", 0]]);
    const selector = { prefix: ["x"] };
    const { keys, cursors } = await listWithCursors(kv, selector);
    const sel = encodeSelector(normalizeSelector(selector));
    const ours = [["x", -Infinity], key, ["x", NaN], ["x", 0]]
      .map((k) => encodeKey(k))
      .sort(compareBytes);
    assert.deepEqual(keys, ours.map((k) => decodeKey(k)));
    assert.deepEqual(keys[0], ["x", NaN]); // before -Infinity
    assert.deepEqual(cursors, ours.map((k) => encodeCursor(sel, k)));
    // Deno KV's cursor for it names the positive NaN.
    assert.equal(cursors[0], "If_4AAAAAAAA");
  });
});

/** A list, modelled on our codec over the sorted encoded keys. */
function modelList(
  sorted: Uint8Array[],
  selector: Deno.KvListSelector,
  options: { reverse: boolean; cursor: string | undefined },
): { keys: Deno.KvKey[]; cursors: string[] } {
  const sel: KvSelector = encodeSelector(normalizeSelector(selector));
  // `list` takes a `cursor: ""` option for none.
  const cursor = options.cursor === "" ? undefined : options.cursor;
  const { start, end } = selectorRange(sel, options.reverse, cursor);
  const picked = sorted.filter((k) =>
    compareBytes(k, start) >= 0 && compareBytes(k, end) < 0
  );
  if (options.reverse) picked.reverse();
  return {
    keys: picked.map((k) => decodeKey(k)),
    cursors: picked.map((k) => encodeCursor(sel, k)),
  };
}

Deno.test("key codec oracle: selectors and cursors behave as Deno KV's", async () => {
  const data: Deno.KvKey[] = [
    ["a"],
    ["a", "a"],
    ["a", "b"],
    ["a", "b", "x"],
    ["a", "b\0"],
    ["a", "c"],
    ["a", "d"],
    ["a", 1n],
    ["a", -5n],
    ["a", 2],
    ["a", true],
    ["a\0"],
    ["ab"],
    ["b"],
    ["b", new Uint8Array([0, 1])],
    [new Uint8Array([])],
    [new Uint8Array([0])],
    [new Uint8Array([0xff])],
    [3n],
    [-0],
    [0],
    [false],
    [true],
    [true, "z"],
  ];
  const selectors = [
    { prefix: [] },
    { prefix: ["a"] },
    { prefix: ["a", "b"] },
    { prefix: ["zz"] },
    { prefix: [true] },
    { prefix: ["a"], start: ["a", "b"] },
    { prefix: ["a"], start: ["a", "b", "x"] },
    { prefix: ["a"], start: ["a", 1n] },
    { prefix: ["a"], start: ["a"] },
    { prefix: ["a"], start: ["b"] },
    { prefix: ["a"], end: ["a", "c"] },
    { prefix: ["a"], end: ["a", true] },
    { prefix: ["a"], end: ["c"] },
    { prefix: [], start: [3n] },
    { prefix: [], end: [0] },
    { start: ["a"], end: ["b"] },
    { start: ["a", "b"], end: ["a", "d"] },
    { start: ["a", "b"], end: ["a", "b"] },
    { start: ["b"], end: ["a"] },
    { start: [], end: [true] },
    { start: [new Uint8Array()], end: [false] },
    { start: [-0], end: [0] },
    { start: ["a", "b"], end: ["a", "b", "x"] },
    { prefix: ["a"], start: ["a", "b"], end: ["a", "c"] },
    { start: ["a"] },
    { end: ["a"] },
    {},
    { prefix: undefined, start: ["a"], end: ["b"] },
    { prefix: [{}] },
    { start: ["a"], end: [Symbol("s")] },
    { prefix: [2n ** 2048n] },
    { prefix: "a" },
    null,
  ] as unknown as Deno.KvListSelector[];
  const fixedCursors = [
    "",
    "Jw",
    "AmEA====",
    " AmEA",
    "+w==",
    "AA==",
    "_w==",
    "AmEA",
    "AmIA",
    "YgA=",
    "ZQA=",
    "YQA=",
    "AmMA",
  ];
  await withKv(async (kv) => {
    await setAll(kv, data);
    const sorted = data.map((k) => encodeKey(k)).sort(compareBytes);
    // Cursors of whole listings, to resume from and to try elsewhere.
    const found = new Set<string>(fixedCursors);
    for (const selector of selectors) {
      for (const reverse of [false, true]) {
        const deno = await outcome(() =>
          listWithCursors(kv, selector, { reverse })
        );
        const ours = await outcome(() =>
          modelList(sorted, selector, { reverse, cursor: undefined })
        );
        assert.equal(ours, deno, `${show(selector)} ${reverse}`);
        if (deno.startsWith("ok ")) {
          const { cursors } = JSON.parse(deno.slice(3)) as {
            cursors: string[];
          };
          for (const c of cursors) found.add(c);
        }
      }
    }
    let compared = 0;
    for (const selector of selectors) {
      for (const reverse of [false, true]) {
        for (const cursor of found) {
          const label = `${show(selector)} ${reverse} ${cursor}`;
          const deno = await outcome(() =>
            listWithCursors(kv, selector, { reverse, cursor })
          );
          const ours = await outcome(() =>
            modelList(sorted, selector, { reverse, cursor })
          );
          assert.equal(ours, deno, label);
          compared++;
        }
      }
    }
    assert(compared > 1000);
  });
});

Deno.test("key codec oracle: a list resumed from its cursor", async () => {
  await withKv(async (kv) => {
    const keys = randomKeys(prng(99), 300);
    await setAll(kv, keys);
    const sorted = [...new Map(keys.map((k) => {
      const e = encodeKey(k);
      return [hex(e), e];
    })).values()].sort(compareBytes);
    for (const selector of [{ prefix: [] }, { start: [""], end: [true] }]) {
      for (const reverse of [false, true]) {
        const it = kv.list(selector, { reverse, limit: 37 });
        const first = await Array.fromAsync(it);
        const cursor = it.cursor;
        const rest = await listWithCursors(kv, selector, { reverse, cursor });
        const model = modelList(sorted, selector, { reverse, cursor });
        assert.deepEqual(model, rest);
        assert.equal(
          first.length + rest.keys.length,
          modelList(sorted, selector, { reverse, cursor: undefined }).keys
            .length,
        );
      }
    }
  });
});
