// The value codec beside Deno KV itself: the same values round-trip, the
// same ones are refused with the same errors, the same bytes are stored, the
// same size limit applies. The oracle (Deno.openKv) needs --unstable-kv;
// without it, results pinned from Deno 2.9.6 stand in, and this file runs
// itself again with the flag, so either command tests against Deno KV.

import assert from "node:assert/strict";
import { createSecretKey, KeyObject } from "node:crypto";
import * as nodePath from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { isKvU64, KvU64, MAX_U64 } from "../../lib/kv/kv_u64.ts";
import {
  checkEnqueuePayloadSize,
  checkValueSize,
  decodeValue,
  denoV8Codec,
  deserializeV8,
  encodeU64,
  encodeValue,
  fromKvValue,
  kvValueToStored,
  MAX_VALUE_SIZE_BYTES,
  nodeV8Codec,
  serializeV8,
  storedToKvValue,
  storedU64,
  TAG_BYTES,
  TAG_LE64,
  TAG_V8,
  toKvValue,
  v8Codec,
  valueSize,
  VE_BYTES,
  VE_LE64,
  VE_V8,
} from "../../lib/kv/value_codec.ts";

const HAS_KV = typeof Deno.openKv === "function";
const OTHER_MODE = "STRATA_KV_TEST_OTHER_MODE";
const DenoKvU64 = (Deno as unknown as { KvU64?: typeof KvU64 }).KvU64;

// ---------------------------------------------------------------------------
// Helpers

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return describe(e);
  }
  return "no error";
}

async function rejectionOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return describe(e);
  }
  return "no error";
}

function describe(e: unknown): string {
  const err = e as Error;
  return `${err.constructor.name}: ${err.message}`;
}

/**
 * Asserts that two values are the same structured-clone result: same kinds,
 * prototypes, primitive values (NaN equal, -0 not 0), own properties, holes,
 * Map and Set order, error fields and stacks, buffer contents, and the same
 * graph of references (cycles and sharing).
 */
function assertSame(
  a: unknown,
  b: unknown,
  path = "value",
  ab = new Map<object, object>(),
  ba = new Map<object, object>(),
): void {
  if (
    typeof a !== "object" || a === null || typeof b !== "object" || b === null
  ) {
    assert.ok(
      Object.is(a, b),
      `${path}: ${Deno.inspect(a)} ≠ ${Deno.inspect(b)}`,
    );
    return;
  }
  if (ab.has(a) || ba.has(b)) {
    assert.ok(ab.get(a) === b && ba.get(b) === a, `${path}: references differ`);
    return;
  }
  ab.set(a, b);
  ba.set(b, a);
  const tag = Object.prototype.toString.call(a);
  assert.equal(Object.prototype.toString.call(b), tag, `${path}: kind`);
  if (isKvU64(a) || isKvU64(b)) {
    // Deno's class and Strata's are one kind.
    assert.ok(isKvU64(a) && isKvU64(b), `${path}: KvU64`);
    assert.equal(a.value, b.value, `${path}.value`);
    return;
  }
  assert.equal(
    Object.getPrototypeOf(a),
    Object.getPrototypeOf(b),
    `${path}: prototype`,
  );
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const same = (k: string) => assertSame(x[k], y[k], `${path}.${k}`, ab, ba);
  let ownKeys = true;
  if (a instanceof Date) {
    assertSame(a.getTime(), (b as Date).getTime(), `${path}: time`);
  } else if (a instanceof RegExp) {
    ["source", "flags", "lastIndex"].forEach(same);
  } else if (
    ["[object Number]", "[object String]", "[object Boolean]"].includes(tag) ||
    tag === "[object BigInt]"
  ) {
    assertSame(a.valueOf(), b.valueOf(), `${path}: boxed`);
  } else if (a instanceof ArrayBuffer) {
    ["byteLength", "resizable", "maxByteLength"].forEach(same);
    assert.deepEqual(
      new Uint8Array(a),
      new Uint8Array(b as ArrayBuffer),
      `${path}: bytes`,
    );
    ownKeys = false;
  } else if (ArrayBuffer.isView(a)) {
    ["byteOffset", "byteLength", "buffer"].forEach(same);
    ownKeys = false;
  } else if (a instanceof Map) {
    const ea = [...a], eb = [...(b as Map<unknown, unknown>)];
    assert.equal(ea.length, eb.length, `${path}: size`);
    ea.forEach(([k, v], i) => {
      assertSame(k, eb[i]![0], `${path}: key ${i}`, ab, ba);
      assertSame(v, eb[i]![1], `${path}: value ${i}`, ab, ba);
    });
  } else if (a instanceof Set) {
    const ea = [...a], eb = [...(b as Set<unknown>)];
    assert.equal(ea.length, eb.length, `${path}: size`);
    ea.forEach((v, i) => assertSame(v, eb[i], `${path}: item ${i}`, ab, ba));
  } else if (a instanceof CryptoKey) {
    ["type", "extractable", "usages", "algorithm"].forEach(same);
  } else if (a instanceof KeyObject) {
    ["type", "symmetricKeySize"].forEach(same);
    assert.deepEqual(a.export(), (b as KeyObject).export(), `${path}: key`);
  } else if (a instanceof Blob) {
    ["size", "type", "name", "lastModified"].forEach(same);
  }
  if (a instanceof Error) {
    ["name", "message", "stack", "code"].forEach(same);
    assert.equal(Object.hasOwn(a, "cause"), Object.hasOwn(b, "cause"));
    same("cause");
  }
  if (Array.isArray(a)) same("length");
  if (ownKeys) {
    assert.deepEqual(Object.keys(a), Object.keys(b), `${path}: keys`);
    Object.keys(a).forEach(same);
    assert.equal(
      Object.getOwnPropertySymbols(a).length,
      Object.getOwnPropertySymbols(b).length,
      `${path}: symbol keys`,
    );
  }
}

function detached<T extends ArrayBufferView | ArrayBuffer>(value: T): T {
  const buffer = value instanceof ArrayBuffer ? value : value.buffer;
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
  return value;
}

const ports: MessagePort[] = [];
function closePorts(): void {
  for (const p of ports.splice(0)) p.close();
}

// ---------------------------------------------------------------------------
// Values Deno KV stores

const hmacKey = await crypto.subtle.generateKey(
  { name: "HMAC", hash: "SHA-256" },
  true,
  ["sign", "verify"],
);
const lockedKey = await crypto.subtle.generateKey(
  { name: "AES-GCM", length: 256 },
  false,
  ["encrypt"],
);
const ecPair = await crypto.subtle.generateKey(
  { name: "ECDSA", namedCurve: "P-256" },
  true,
  ["sign", "verify"],
);

type Make = () => unknown;
const VALUES: [string, Make][] = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["true", () => true],
  ["false", () => false],
  ["0", () => 0],
  ["-0", () => -0],
  ["NaN", () => NaN],
  ["Infinity", () => -Infinity],
  ["small int", () => 42],
  ["negative int", () => -7],
  ["2^31", () => 2 ** 31],
  ["double", () => 1.5],
  ["MAX_SAFE_INTEGER", () => Number.MAX_SAFE_INTEGER],
  ["empty string", () => ""],
  ["one-byte string", () => "hello, Latin-1: é"],
  ["two-byte string", () => "€ 𝄞 ünïcödé"],
  ["lone surrogate", () => "a\ud800b"],
  ["long string", () => "ab".repeat(5000)],
  ["0n", () => 0n],
  ["negative bigint", () => -5n],
  ["huge bigint", () => 2n ** 200n + 1n],
  ["Date", () => new Date(1_700_000_000_123)],
  ["invalid Date", () => new Date(NaN)],
  ["RegExp", () => /a+(b)?/gimsuy],
  ["RegExp with lastIndex", () => Object.assign(/x/g, { lastIndex: 3 })],
  [
    "Map",
    () => new Map<unknown, unknown>([[1, "a"], [{ k: 1 }, [2]], ["z", null]]),
  ],
  ["Set", () => new Set([1, "1", 1n, { o: 1 }, NaN])],
  ["empty object", () => ({})],
  ["nested object", () => ({ a: { b: { c: [1, { d: "e" }] } }, f: null })],
  ["numeric keys", () => ({ 2: "b", 1: "a", x: 0, "-1": "m" })],
  ["array", () => [1, "two", 3n, null, undefined, [4]]],
  ["array with holes", () => {
    const a = [1, , 3];
    a.length = 10;
    return a;
  }],
  ["array with properties", () => Object.assign([1, 2], { extra: "x" })],
  ["circular object", () => {
    const o: Record<string, unknown> = { name: "o" };
    o.self = o;
    o.list = [o, { back: o }];
    return o;
  }],
  ["shared references", () => {
    const shared = { s: 1 };
    return { a: shared, b: [shared, shared], m: new Map([[shared, shared]]) };
  }],
  ["circular Map and Set", () => {
    const m = new Map<unknown, unknown>();
    const s = new Set<unknown>([m]);
    m.set("s", s);
    m.set(m, m);
    return m;
  }],
  ["null-prototype object", () => Object.assign(Object.create(null), { a: 1 })],
  ["class instance", () => {
    class Point {
      x = 1;
      #secret = 2;
      get y() {
        return this.#secret;
      }
    }
    return new Point();
  }],
  ["symbol-keyed property", () => ({ [Symbol("s")]: 1, a: 2 })],
  ["getter", () => ({
    get g() {
      return 7;
    },
  })],
  [
    "non-enumerable property",
    () => Object.defineProperty({ a: 1 }, "hidden", { value: 2 }),
  ],
  [
    "boxed primitives",
    () => [Object(1.5), Object("s"), Object(false), Object(3n)],
  ],
  ["Error", () => new Error("boom")],
  ["EvalError", () => new EvalError("e")],
  ["RangeError", () => new RangeError("r")],
  ["ReferenceError", () => new ReferenceError("r")],
  ["SyntaxError", () => new SyntaxError("s")],
  ["TypeError", () => new TypeError("t")],
  ["URIError", () => new URIError("u")],
  ["AggregateError", () => new AggregateError([new Error("inner")], "agg")],
  [
    "Error with cause",
    () => new Error("outer", { cause: new RangeError("in") }),
  ],
  [
    "Error with own properties",
    () => Object.assign(new Error("m"), { code: 5 }),
  ],
  ["Error with a custom name", () => {
    const e = new Error("m");
    e.name = "Custom";
    return e;
  }],
  ["Error subclass", () => new (class MyError extends Error {})("mine")],
  ["Error without stack", () => {
    const e = new Error("s");
    delete e.stack;
    return e;
  }],
  ["DOMException", () => new DOMException("gone", "AbortError")],
  ["ArrayBuffer", () => new Uint8Array([1, 2, 3]).buffer],
  ["resizable ArrayBuffer", () => new ArrayBuffer(4, { maxByteLength: 16 })],
  ["Int8Array", () => new Int8Array([-1, 2])],
  ["Uint8Array in an object", () => ({ u: new Uint8Array([1, 2, 3]) })],
  ["Uint8Array view in an object", () => ({
    u: new Uint8Array(new Uint8Array([0, 1, 2, 3, 4]).buffer, 1, 2),
  })],
  ["Uint8Array over a resizable buffer, nested", () => ({
    u: new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 })),
  })],
  ["Uint8ClampedArray", () => new Uint8ClampedArray([0, 255])],
  ["Int16Array", () => new Int16Array([-300, 300])],
  ["Uint16Array", () => new Uint16Array([65535])],
  ["Int32Array", () => new Int32Array([-(2 ** 31)])],
  ["Uint32Array", () => new Uint32Array([2 ** 32 - 1])],
  ["Float16Array", () => new Float16Array([1.5, -0, NaN])],
  ["Float32Array", () => new Float32Array([1.25, Infinity])],
  ["Float64Array", () => new Float64Array([Math.PI, -0])],
  ["BigInt64Array", () => new BigInt64Array([-(2n ** 63n)])],
  ["BigUint64Array", () => new BigUint64Array([2n ** 64n - 1n])],
  ["typed array with offset", () => new Int16Array(new ArrayBuffer(10), 2, 3)],
  ["DataView", () => new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2)],
  ["two views of one buffer", () => {
    const buffer = new ArrayBuffer(8);
    return [new Uint8Array(buffer, 0, 4), new Float32Array(buffer, 4, 1)];
  }],
  ["Buffer in an object", () => ({ b: Buffer.from("pooled") })],
  ["Uint8Array", () => new Uint8Array([0, 1, 254, 255])],
  ["empty Uint8Array", () => new Uint8Array(0)],
  ["Uint8Array view", () => new Uint8Array(new ArrayBuffer(16), 3, 5).fill(7)],
  [
    "Uint8Array subclass",
    () => new (class Bytes extends Uint8Array {})([1, 2]),
  ],
  ["Buffer", () => Buffer.from("raw bytes")],
  ["detached Uint8Array", () => detached(new Uint8Array(4))],
  ["KvU64", () => new KvU64(MAX_U64)],
  ["KvU64 subclass", () => new (class Sub extends KvU64 {})(5n)],
  ["KvU64 in an object", () => ({ n: new KvU64(5n) })],
  ...(DenoKvU64 === undefined ? [] : [
    ["Deno.KvU64", () => new DenoKvU64(9n)] as [string, Make],
    ["Deno.KvU64 in an array", () => [new DenoKvU64(9n)]] as [string, Make],
  ]),
  ["CryptoKey", () => hmacKey],
  ["non-extractable CryptoKey", () => lockedKey],
  ["CryptoKey pair in an object", () => ({ ...ecPair })],
  ["node KeyObject", () => createSecretKey(new Uint8Array([1, 2, 3, 4]))],
  ["Blob", () => new Blob(["blob text"], { type: "text/plain" })],
  ["File", () => new File(["file text"], "a.txt", { lastModified: 5 })],
  ["URL", () => new URL("https://example.com/")],
  ["Headers", () => new Headers({ a: "b" })],
  ["Event", () => new Event("e")],
];

// Values whose stored form holds a handle to this process's memory (Deno
// writes a Blob as references into its blob store): the same value stores
// different bytes each time.
const PROCESS_BOUND = new Set(["Blob", "File"]);

// Deno KV stores these Web API objects as `{}`, where structuredClone
// refuses them.
const STORED_AS_EMPTY = new Set(["URL", "Headers"]);

function expectedWithoutOracle(name: string, value: unknown): unknown {
  if (STORED_AS_EMPTY.has(name)) return {};
  if (
    Object.prototype.toString.call(value) === "[object Uint8Array]" &&
    !Array.isArray(value)
  ) {
    // A detached array reads as empty, and copying it throws.
    const bytes = value as Uint8Array;
    return bytes.byteLength === 0 ? new Uint8Array(0) : Uint8Array.from(bytes);
  }
  if (isKvU64(value)) return new KvU64(value.value);
  return structuredClone(value);
}

Deno.test("every value round-trips as structured cloning predicts", async () => {
  for (const [name, make] of VALUES) {
    const value = make();
    const stored = encodeValue(value);
    const ours = decodeValue(stored);
    assertSame(ours, expectedWithoutOracle(name, value), name);
    if (typeof value === "object" && value !== null) {
      assert.ok(ours !== value, `${name}: a fresh value`);
    }
    if (ours instanceof Blob) {
      assert.equal(await ours.text(), await (value as Blob).text(), name);
    }
  }
});

Deno.test({
  name: "every value round-trips as through Deno KV (oracle)",
  ignore: !HAS_KV,
  async fn() {
    using kv = await Deno.openKv(":memory:");
    for (const [name, make] of VALUES) {
      const value = make();
      await kv.set([name], value);
      const theirs = (await kv.get([name])).value;
      const ours = decodeValue(encodeValue(value));
      assertSame(ours, theirs, name);
      if (ours instanceof Blob) {
        assert.equal(await ours.text(), await (theirs as Blob).text(), name);
      }
    }
  },
});

Deno.test("the three encodings are chosen as Deno KV chooses them", () => {
  const tag = (v: unknown) => encodeValue(v)[0];
  assert.equal(tag(new Uint8Array(1)), TAG_BYTES);
  assert.equal(tag(Buffer.from("x")), TAG_BYTES);
  assert.equal(tag(new (class extends Uint8Array {})(1)), TAG_BYTES);
  assert.equal(tag(new KvU64(1n)), TAG_LE64);
  if (DenoKvU64) assert.equal(tag(new DenoKvU64(1n)), TAG_LE64);
  for (const v of [new Uint8ClampedArray(1), [new Uint8Array(1)], 1n, {}]) {
    assert.equal(tag(v), TAG_V8);
  }
  assert.deepEqual(
    encodeValue(new KvU64(0x0102030405060708n)),
    new Uint8Array([TAG_LE64, 8, 7, 6, 5, 4, 3, 2, 1]),
  );
  assert.deepEqual(
    encodeValue(new Uint8Array(new Uint8Array([5, 6, 7, 8]).buffer, 1, 2)),
    new Uint8Array([TAG_BYTES, 6, 7]),
  );
});

Deno.test("a CryptoKey comes back usable, an unextractable one too", async () => {
  const data = new TextEncoder().encode("signed");
  const key = decodeValue(encodeValue(hmacKey)) as CryptoKey;
  assert.deepEqual(
    new Uint8Array(await crypto.subtle.sign("HMAC", key, data)),
    new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, data)),
  );
  const locked = decodeValue(encodeValue(lockedKey)) as CryptoKey;
  const iv = new Uint8Array(12);
  assert.deepEqual(
    new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv }, locked, data),
    ),
    new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv }, lockedKey, data),
    ),
  );
});

// ---------------------------------------------------------------------------
// Values Deno KV refuses

interface Refusal {
  name: string;
  make: Make;
  /** Deno KV's error in Deno 2.9.6, as "Class: message". */
  error: string;
  /** The refusal is Deno KV's own (raw bytes, u64), not V8's. */
  kvLayer?: boolean;
}

function oddU64(valueOf: unknown): KvU64 {
  return new (class extends KvU64 {
    override valueOf(): bigint {
      return valueOf as bigint;
    }
  })(1n);
}

// V8 quotes a function's source as the runtime holds it (transpiled).
const F = function f() {};
const ARROW = () => 1;
const ASYNC = async function g() {};
const CLASS = class K {};
const uncloneable = (v: unknown) =>
  `TypeError: ${String(v)} could not be cloned.`;

const REFUSALS: Refusal[] = [
  {
    name: "function",
    make: () => F,
    error: uncloneable(F),
  },
  {
    name: "function in an object",
    make: () => ({ a: 1, f: ARROW }),
    error: uncloneable(ARROW),
  },
  {
    name: "async function",
    make: () => ASYNC,
    error: uncloneable(ASYNC),
  },
  {
    name: "class",
    make: () => CLASS,
    error: uncloneable(CLASS),
  },
  {
    name: "function as a Map value",
    make: () => new Map([["k", Math.max]]),
    error: uncloneable(Math.max),
  },
  {
    name: "symbol",
    make: () => Symbol("s"),
    error: "TypeError: Symbol(s) could not be cloned.",
  },
  {
    name: "symbol in an array",
    make: () => [1, Symbol.iterator],
    error: "TypeError: Symbol(Symbol.iterator) could not be cloned.",
  },
  {
    name: "Symbol object",
    make: () => Object(Symbol("s")),
    error: "TypeError: [object Symbol] could not be cloned.",
  },
  {
    name: "WeakMap",
    make: () => new WeakMap(),
    error: "TypeError: #<WeakMap> could not be cloned.",
  },
  {
    name: "WeakSet",
    make: () => ({ w: new WeakSet() }),
    error: "TypeError: #<WeakSet> could not be cloned.",
  },
  {
    name: "WeakRef",
    make: () => new WeakRef({}),
    error: "TypeError: #<WeakRef> could not be cloned.",
  },
  {
    name: "FinalizationRegistry",
    make: () => new FinalizationRegistry(() => {}),
    error: "TypeError: #<FinalizationRegistry> could not be cloned.",
  },
  {
    name: "Promise",
    make: () => Promise.resolve(1),
    error: "TypeError: #<Promise> could not be cloned.",
  },
  {
    name: "Proxy",
    make: () => new Proxy({}, {}),
    error: "TypeError: #<Object> could not be cloned.",
  },
  {
    name: "arguments object",
    make: function () {
      return arguments;
    },
    error: "TypeError: #<Object> could not be cloned.",
  },
  {
    name: "generator object",
    make: () => (function* () {})(),
    error: "TypeError: [object Generator] could not be cloned.",
  },
  {
    name: "Map iterator",
    make: () => new Map().keys(),
    error: "TypeError: [object Map Iterator] could not be cloned.",
  },
  {
    name: "module namespace",
    make: () => nodePath,
    error: "TypeError: [object Module] could not be cloned.",
  },
  {
    name: "SharedArrayBuffer",
    make: () => new SharedArrayBuffer(8),
    error: "Error: #<SharedArrayBuffer> could not be cloned.",
  },
  {
    name: "Int16Array over a SharedArrayBuffer",
    make: () => new Int16Array(new SharedArrayBuffer(4)),
    error: "Error: #<SharedArrayBuffer> could not be cloned.",
  },
  {
    name: "Uint8Array over a SharedArrayBuffer, nested",
    make: () => ({ u: new Uint8Array(new SharedArrayBuffer(4)) }),
    error: "Error: #<SharedArrayBuffer> could not be cloned.",
  },
  {
    name: "detached ArrayBuffer",
    make: () => detached(new ArrayBuffer(4)),
    error: "TypeError: An ArrayBuffer is detached and could not be cloned.",
  },
  {
    name: "detached Int16Array",
    make: () => detached(new Int16Array(4)),
    error: "TypeError: An ArrayBuffer is detached and could not be cloned.",
  },
  {
    name: "detached Uint8Array, nested",
    make: () => [detached(new Uint8Array(4))],
    error: "TypeError: An ArrayBuffer is detached and could not be cloned.",
  },
  {
    name: "getter that throws",
    make: () => ({
      get g(): never {
        throw new RangeError("from the getter");
      },
    }),
    error: "RangeError: from the getter",
  },
  {
    name: "WebAssembly.Module",
    make: () =>
      new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
    error: "TypeError: Wasm modules cannot be stored",
  },
  {
    name: "WebAssembly.Memory",
    make: () => new WebAssembly.Memory({ initial: 1 }),
    error: "TypeError: #<Memory> could not be cloned.",
  },
  {
    name: "ReadableStream",
    make: () => new ReadableStream(),
    error: "TypeError: Unsupported object type",
  },
  {
    name: "WritableStream",
    make: () => ({ w: new WritableStream() }),
    error: "TypeError: Unsupported object type",
  },
  {
    name: "TransformStream",
    make: () => new TransformStream(),
    error: "TypeError: Unsupported object type",
  },
  {
    name: "MessagePort",
    make: () => {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      return port1;
    },
    error: "TypeError: Unsupported object type",
  },
  {
    name: "Uint8Array over a SharedArrayBuffer",
    make: () => new Uint8Array(new SharedArrayBuffer(4)),
    error:
      "TypeError: serde_v8 error: invalid type; expected: buffer, got: Uint8Array",
    kvLayer: true,
  },
  {
    name: "Uint8Array over a growable SharedArrayBuffer",
    make: () => new Uint8Array(new SharedArrayBuffer(4, { maxByteLength: 8 })),
    error:
      "TypeError: serde_v8 error: can't create slice from resizable ArrayBuffer",
    kvLayer: true,
  },
  {
    name: "Uint8Array over a resizable ArrayBuffer",
    make: () => new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 })),
    error:
      "TypeError: serde_v8 error: can't create slice from resizable ArrayBuffer",
    kvLayer: true,
  },
  {
    name: "fixed Uint8Array over a resizable ArrayBuffer",
    make: () => new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }), 0, 2),
    error:
      "TypeError: serde_v8 error: can't create slice from resizable ArrayBuffer",
    kvLayer: true,
  },
  {
    name: "KvU64 whose valueOf gives a number",
    make: () => oddU64(5),
    error:
      "TypeError: serde_v8 error: invalid type; expected: bigint, got: Number",
    kvLayer: true,
  },
  {
    name: "KvU64 whose valueOf gives a negative bigint",
    make: () => oddU64(-1n),
    error:
      "Error: Invalid mutation: out of range conversion regarding big integer attempted",
    kvLayer: true,
  },
  {
    name: "KvU64 without a value",
    make: () => Object.create(KvU64.prototype),
    error: "TypeError: missing field `value`",
    kvLayer: true,
  },
];

Deno.test("what Deno KV refuses is refused with Deno KV's error", () => {
  try {
    for (const { name, make, error } of REFUSALS) {
      assert.equal(errorOf(() => encodeValue(make())), error, name);
    }
  } finally {
    closePorts();
  }
});

Deno.test({
  name: "what Deno KV refuses is refused with Deno KV's error (oracle)",
  ignore: !HAS_KV,
  async fn() {
    using kv = await Deno.openKv(":memory:");
    try {
      for (const { name, make, error } of REFUSALS) {
        assert.equal(await rejectionOf(kv.set(["k"], make())), error, name);
      }
    } finally {
      closePorts();
    }
  },
});

// ---------------------------------------------------------------------------
// The bytes Deno KV stores

/** (encoding, bytes) of every row of a closed Deno KV SQLite file. */
function storedRows(path: string): Map<string, KvValueRow> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = new Map<string, KvValueRow>();
    const decoder = new TextDecoder();
    const all = db.prepare("SELECT k, v, v_encoding FROM kv").all();
    for (
      const row of all as { k: Uint8Array; v: Uint8Array; v_encoding: number }[]
    ) {
      // A one-string key: 0x02, the UTF-8, 0x00.
      const name = decoder.decode(row.k.subarray(1, -1));
      rows.set(name, { encoding: row.v_encoding, data: new Uint8Array(row.v) });
    }
    return rows;
  } finally {
    db.close();
  }
}
interface KvValueRow {
  encoding: number;
  data: Uint8Array;
}

Deno.test({
  name:
    "the bytes are the bytes Deno KV stores, with either serializer (oracle)",
  ignore: !HAS_KV,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/kv.sqlite3`;
      const node = await nodeV8Codec();
      // Encoded when Deno KV encodes them: a Buffer's whole pool is
      // serialized, and later Buffers write into it.
      const ours = new Map<string, [KvValueRow, Uint8Array | undefined]>();
      {
        using kv = await Deno.openKv(path);
        for (const [name, make] of VALUES) {
          if (PROCESS_BOUND.has(name)) continue;
          const value = make();
          await kv.set([name], value);
          const pair = toKvValue(value);
          const viaNode = pair.encoding === VE_V8 && !HOST_OBJECTS.has(name)
            ? node.serialize(value)
            : undefined;
          ours.set(name, [pair, viaNode]);
        }
      }
      const rows = storedRows(path);
      assert.equal(rows.size, ours.size);
      for (const [name, [pair, viaNode]] of ours) {
        const row = rows.get(name)!;
        assert.equal(pair.encoding, row.encoding, name);
        assert.deepEqual(pair.data, row.data, name);
        if (viaNode) assert.deepEqual(viaNode, row.data, `${name} (node:v8)`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------
// The node:v8 stand-in

const HOST_OBJECTS = new Set([
  "DOMException",
  "CryptoKey",
  "non-extractable CryptoKey",
  "CryptoKey pair in an object",
  "node KeyObject",
  "Blob",
  "File",
]);

Deno.test("Deno's own serializer is the one in use", () => {
  assert.equal(v8Codec.name, "deno");
  assert.ok(denoV8Codec());
});

Deno.test("the node:v8 stand-in writes Deno's bytes and refuses host objects", async () => {
  const node = await nodeV8Codec();
  const deno = denoV8Codec()!;
  for (const [name, make] of VALUES) {
    const value = make();
    if (HOST_OBJECTS.has(name)) {
      const tag = Object.prototype.toString.call(value).slice(8, -1);
      assert.equal(
        errorOf(() => node.serialize(value)),
        name === "CryptoKey pair in an object"
          ? "TypeError: CryptoKey cannot be stored without Deno's serializer"
          : `TypeError: ${tag} cannot be stored without Deno's serializer`,
        name,
      );
      // It still reads what Deno wrote.
      const bytes = deno.serialize(value);
      assertSame(node.deserialize(bytes), deno.deserialize(bytes), name);
      continue;
    }
    const refused = errorOf(() => deno.serialize(value));
    if (refused !== "no error") {
      // A detached Uint8Array: raw bytes to Deno KV, not cloneable to V8.
      assert.equal(errorOf(() => node.serialize(value)), refused, name);
      continue;
    }
    const bytes = node.serialize(value);
    assert.deepEqual(bytes, deno.serialize(value), name);
    assert.equal(bytes.buffer.byteLength, bytes.length, `${name}: owned`);
    assertSame(node.deserialize(bytes), deno.deserialize(bytes), name);
  }
  try {
    for (const { name, make, error, kvLayer } of REFUSALS) {
      if (kvLayer) continue;
      assert.equal(errorOf(() => node.serialize(make())), error, name);
    }
  } finally {
    closePorts();
  }
  for (const bad of [[], [0xff], [0xff, 0x10, 0x22, 5, 0x61], [1, 2, 3]]) {
    const bytes = new Uint8Array(bad);
    assert.equal(
      errorOf(() => node.deserialize(bytes)),
      "RangeError: could not deserialize value",
    );
    assert.equal(
      errorOf(() => deno.deserialize(bytes)),
      "RangeError: could not deserialize value",
    );
  }
});

// ---------------------------------------------------------------------------
// The size limit

/** Families of values whose serialized size grows with n. */
const FAMILIES: [string, (n: number) => unknown][] = [
  ["one-byte string", (n) => "x".repeat(n)],
  ["two-byte string", (n) => "€".repeat(n)],
  ["Uint8Array", (n) => new Uint8Array(n)],
  ["Uint8Array in an object", (n) => ({ u: new Uint8Array(n) })],
  ["array of numbers", (n) => Array.from({ length: n }, (_, i) => i)],
  [
    "object",
    (n) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])),
  ],
];

/** The largest n whose value the size limit accepts. */
function largestAccepted(family: (n: number) => unknown): number {
  let lo = 0, hi = MAX_VALUE_SIZE_BYTES + 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (valueSize(encodeValue(family(mid))) <= MAX_VALUE_SIZE_BYTES) lo = mid;
    else hi = mid;
  }
  return lo;
}

const TOO_LARGE = "TypeError: Value too large (max 65536 bytes)";

Deno.test("the size limit counts what Deno KV counts, to the byte", () => {
  assert.equal(MAX_VALUE_SIZE_BYTES, 65536);
  assert.equal(checkValueSize(encodeValue("x".repeat(65530))), 65536);
  assert.equal(
    errorOf(() => checkValueSize(encodeValue("x".repeat(65531)))),
    TOO_LARGE,
  );
  assert.equal(checkValueSize(encodeValue(new Uint8Array(65536))), 65536);
  assert.equal(
    errorOf(() => checkValueSize(encodeValue(new Uint8Array(65537)))),
    TOO_LARGE,
  );
  assert.equal(valueSize(encodeValue(new KvU64(1n))), 8);
  assert.equal(checkValueSize(encodeValue("x".repeat(100)), 104), 104);
  assert.equal(
    errorOf(() => checkValueSize(encodeValue("x".repeat(101)), 104)),
    "TypeError: Value too large (max 104 bytes)",
  );
  for (const [name, family] of FAMILIES) {
    const n = largestAccepted(family);
    assert.ok(n > 1000, name);
    checkValueSize(encodeValue(family(n)));
    assert.equal(
      errorOf(() => checkValueSize(encodeValue(family(n + 1)))),
      TOO_LARGE,
    );
  }
});

Deno.test({
  name: "the size limit counts what Deno KV counts, to the byte (oracle)",
  ignore: !HAS_KV,
  async fn() {
    using kv = await Deno.openKv(":memory:");
    for (const [name, family] of FAMILIES) {
      const n = largestAccepted(family);
      assert.equal(
        await rejectionOf(kv.set(["k"], family(n))),
        "no error",
        name,
      );
      assert.equal(
        await rejectionOf(kv.set(["k"], family(n + 1))),
        TOO_LARGE,
        name,
      );
    }
    // At exactly 65536 counted bytes, both ways.
    assert.equal(valueSize(encodeValue("x".repeat(65530))), 65536);
    assert.equal(
      await rejectionOf(kv.set(["k"], "x".repeat(65530))),
      "no error",
    );
    assert.equal(valueSize(encodeValue(new Uint8Array(65536))), 65536);
    assert.equal(
      await rejectionOf(kv.set(["k"], new Uint8Array(65536))),
      "no error",
    );
  },
});

const ENQUEUE_TOO_LARGE =
  "TypeError: enqueue payload too large (max 65536 bytes)";

Deno.test("a queue message is V8 always, and so is its size", () => {
  assert.equal(serializeV8(new Uint8Array(1))[0], TAG_V8);
  assert.ok(isKvU64(deserializeV8(serializeV8(new KvU64(1n)))) === false);
  assert.equal(checkEnqueuePayloadSize(serializeV8("x".repeat(65530))), 65536);
  for (const message of ["x".repeat(65531), new Uint8Array(65536)]) {
    assert.equal(
      errorOf(() => checkEnqueuePayloadSize(serializeV8(message))),
      ENQUEUE_TOO_LARGE,
    );
  }
});

Deno.test({
  name: "a queue message is V8 always, and so is its size (oracle)",
  ignore: !HAS_KV,
  async fn() {
    using kv = await Deno.openKv(":memory:");
    assert.equal(await rejectionOf(kv.enqueue("x".repeat(65530))), "no error");
    for (const message of ["x".repeat(65531), new Uint8Array(65536)]) {
      assert.equal(await rejectionOf(kv.enqueue(message)), ENQUEUE_TOO_LARGE);
    }
  },
});

// ---------------------------------------------------------------------------
// Ownership and the stored form

Deno.test("values are copied in and come out owning fresh buffers", () => {
  const input = new Uint8Array([1, 2, 3]);
  const stored = encodeValue(input);
  input[0] = 9;
  const out = decodeValue(stored) as Uint8Array;
  assert.deepEqual(out, new Uint8Array([1, 2, 3]));
  assert.equal(out.byteOffset, 0);
  assert.equal(out.buffer.byteLength, 3);
  out[1] = 9;
  assert.deepEqual(decodeValue(stored), new Uint8Array([1, 2, 3]));
  assert.ok(decodeValue(stored) !== decodeValue(stored));
  const obj = { a: [1] };
  const v8 = encodeValue(obj);
  obj.a.push(2);
  assert.deepEqual(decodeValue(v8), { a: [1] });
});

Deno.test("a stored value is read in place from a slab", () => {
  for (const value of [new Uint8Array([4, 5]), new KvU64(77n), { a: "b" }]) {
    const stored = encodeValue(value);
    const slab = new Uint8Array(stored.length + 20).fill(0xee);
    slab.set(stored, 7);
    const view = slab.subarray(7, 7 + stored.length);
    assertSame(decodeValue(view), decodeValue(stored));
    assert.equal(valueSize(view), valueSize(stored));
    assert.deepEqual(storedToKvValue(view), storedToKvValue(stored));
  }
  const bytes = decodeValue(
    new Uint8Array([0xee, TAG_BYTES, 1, 2, 0xee]).subarray(1, 4),
  ) as Uint8Array;
  assert.equal(bytes.buffer.byteLength, 2);
});

Deno.test("u64 helpers", () => {
  for (const n of [0n, 1n, 0xfffffffen, 2n ** 32n, MAX_U64]) {
    const stored = encodeU64(n);
    assert.equal(stored.length, 9);
    assert.equal(storedU64(stored), n);
    const back = decodeValue(stored);
    assert.ok(back instanceof KvU64);
    assert.equal((back as KvU64).value, n);
  }
  assert.equal(storedU64(encodeValue(1n)), undefined);
  assert.equal(storedU64(encodeValue(new Uint8Array(8))), undefined);
  assert.equal(storedU64(new Uint8Array([TAG_LE64, 1])), undefined);
  assert.throws(() => encodeU64(-1n), RangeError);
  assert.throws(() => encodeU64(MAX_U64 + 1n), RangeError);
});

Deno.test("a stored form that is not one is refused", () => {
  for (const bad of [[], [0], [1, 1], [4], [TAG_LE64, 1, 2], [0xfe, 0x10]]) {
    const stored = new Uint8Array(bad);
    assert.equal(
      errorOf(() => decodeValue(stored)),
      "TypeError: Invalid value type",
    );
    if (bad[0] !== TAG_LE64) {
      assert.equal(
        errorOf(() => valueSize(stored)),
        "TypeError: Invalid value type",
      );
    }
    assert.equal(
      errorOf(() => storedToKvValue(stored)),
      "TypeError: Invalid value type",
    );
  }
  assert.equal(
    errorOf(() => decodeValue(new Uint8Array([TAG_V8, 0x10, 0x99]))),
    "RangeError: could not deserialize value",
  );
});

// ---------------------------------------------------------------------------
// KV Connect

Deno.test("KV Connect pairs: the encodings, both ways", () => {
  assert.deepEqual(toKvValue(new Uint8Array([1])), {
    encoding: VE_BYTES,
    data: new Uint8Array([1]),
  });
  assert.deepEqual(toKvValue(new KvU64(258n)), {
    encoding: VE_LE64,
    data: new Uint8Array([2, 1, 0, 0, 0, 0, 0, 0]),
  });
  const v8 = toKvValue({ a: 1 });
  assert.equal(v8.encoding, VE_V8);
  assert.deepEqual(v8.data, serializeV8({ a: 1 }));
  for (const [name, make] of VALUES) {
    const value = make();
    const stored = encodeValue(value);
    const pair = storedToKvValue(stored);
    assert.deepEqual(kvValueToStored(pair.encoding, pair.data), stored, name);
    assertSame(
      fromKvValue(pair.encoding, pair.data),
      decodeValue(stored),
      name,
    );
  }
  const data = new Uint8Array([7, 8]);
  const out = fromKvValue(VE_BYTES, data) as Uint8Array;
  data[0] = 0;
  assert.deepEqual(out, new Uint8Array([7, 8]));
  assert.equal(
    errorOf(() => kvValueToStored(VE_V8, new Uint8Array([1, 2]))),
    "TypeError: Invalid V8 value: it must open with 0xFF",
  );
  assert.equal(
    errorOf(() => kvValueToStored(VE_LE64, new Uint8Array(7))),
    "TypeError: Invalid u64 value: it must be 8 bytes long",
  );
  assert.equal(
    errorOf(() => fromKvValue(0, new Uint8Array(1))),
    "TypeError: Invalid value encoding: 0",
  );
});

// ---------------------------------------------------------------------------

if (Deno.env.get(OTHER_MODE) === undefined) {
  Deno.test(
    `value_codec_test.ts passes ${
      HAS_KV ? "without" : "with"
    } --unstable-kv too`,
    async () => {
      const args = ["test", "-A", "--no-check"];
      if (!HAS_KV) args.push("--unstable-kv");
      args.push(fileURLToPath(import.meta.url));
      const out = await new Deno.Command(Deno.execPath(), {
        args,
        env: { [OTHER_MODE]: "1", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      assert.match(text, /ok \| [1-9]\d* passed \| 0 failed/);
    },
  );
}
