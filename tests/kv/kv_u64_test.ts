// KvU64 beside Deno.KvU64. The oracle needs --unstable-kv; each run also
// runs this file in the other mode (with the flag when it has none, without
// it when it has), since the class extends Deno's only under the flag.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { isKvU64, KvU64, MAX_U64, u64Value } from "../../lib/kv/kv_u64.ts";

type U64Class = new (value: bigint) => { readonly value: bigint };
const DenoKvU64 = (Deno as unknown as { KvU64?: U64Class }).KvU64;
const HAS_KV = typeof (Deno as { openKv?: unknown }).openKv === "function" &&
  DenoKvU64 !== undefined;
const OTHER_MODE = "STRATA_KV_TEST_OTHER_MODE";

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const err = e as Error;
    return `${err.constructor.name}: ${err.message}`;
  }
  return "no error";
}

async function rejectionOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    return `${err.constructor.name}: ${err.message}`;
  }
  return "no error";
}

const BAD_INPUTS: unknown[] = [
  5,
  "5",
  undefined,
  null,
  true,
  Symbol("s"),
  {},
  Object(5n),
  -1n,
  -(2n ** 70n),
  MAX_U64 + 1n,
];

/** Everything observable about a KvU64 class, as plain data. */
function facts(C: U64Class): Record<string, unknown> {
  const n = new C(5n);
  const proto = Object.getPrototypeOf(n);
  return {
    errors: BAD_INPUTS.map((v) => errorOf(() => new C(v as bigint))),
    withoutNew: errorOf(() => (C as unknown as (v: bigint) => unknown)(1n)),
    name: C.name,
    length: C.length,
    max: new C(MAX_U64).value,
    zero: new C(0n).value,
    value: n.value,
    valueOf: n.valueOf(),
    toString: n.toString(),
    string: String(n),
    template: `${n}`,
    plus: (n as unknown as bigint) + 1n,
    less: (n as unknown as bigint) < 6n,
    tag: Object.prototype.toString.call(n),
    frozen: Object.isFrozen(n),
    keys: Object.keys(n),
    own: Object.getOwnPropertyDescriptors(n),
    ownSymbols: Object.getOwnPropertySymbols(n).length,
    protoNames: Object.getOwnPropertyNames(proto).sort(),
    protoSymbols: Object.getOwnPropertySymbols(proto).map(String).sort(),
    inspect: Deno.inspect(n),
    inspectColors: Deno.inspect({ n }, { colors: true }),
    inspectTwice: Deno.inspect([n, n]),
    json: errorOf(() => JSON.stringify(n)),
    assign: errorOf(() => {
      (n as { value: bigint }).value = 1n;
    }),
    extend: errorOf(() => Object.defineProperty(n, "x", { value: 1 })),
    structuredClone: structuredClone(n),
  };
}

// Deno.KvU64's facts in Deno 2.9.6, for runs without the oracle.
const DENO_FACTS: Record<string, unknown> = {
  errors: [
    "TypeError: Value must be a bigint: received number",
    "TypeError: Value must be a bigint: received string",
    "TypeError: Value must be a bigint: received undefined",
    "TypeError: Value must be a bigint: received object",
    "TypeError: Value must be a bigint: received boolean",
    "TypeError: Value must be a bigint: received symbol",
    "TypeError: Value must be a bigint: received object",
    "TypeError: Value must be a bigint: received object",
    "RangeError: Value must be a positive bigint: received -1",
    "RangeError: Value must be a positive bigint: received " +
    -(2n ** 70n),
    "RangeError: Value must fit in a 64-bit unsigned integer",
  ],
  withoutNew:
    "TypeError: Class constructor KvU64 cannot be invoked without 'new'",
  name: "KvU64",
  length: 1,
  max: MAX_U64,
  zero: 0n,
  value: 5n,
  valueOf: 5n,
  toString: "5",
  string: "5",
  template: "5",
  plus: 6n,
  less: true,
  tag: "[object Deno.KvU64]",
  frozen: true,
  keys: ["value"],
  own: {
    value: {
      value: 5n,
      writable: false,
      enumerable: true,
      configurable: false,
    },
  },
  ownSymbols: 0,
  protoNames: ["constructor", "toString", "valueOf"],
  protoSymbols: [
    "Symbol(Deno.privateCustomInspect)",
    "Symbol(Symbol.toStringTag)",
  ],
  inspect: "[Deno.KvU64: 5n]",
  inspectColors: "{ n: \x1b[33m[Deno.KvU64: 5n]\x1b[39m }",
  inspectTwice: "[ [Deno.KvU64: 5n], [Deno.KvU64: 5n] ]",
  json: "TypeError: Do not know how to serialize a BigInt",
  assign:
    "TypeError: Cannot assign to read only property 'value' of object '[object Object]'",
  extend: "TypeError: Cannot define property x, object is not extensible",
  structuredClone: { value: 5n },
};

Deno.test("KvU64 behaves as Deno.KvU64 in Deno 2.9.6", () => {
  assert.deepEqual(facts(KvU64), DENO_FACTS);
});

Deno.test({
  name: "KvU64 behaves as Deno.KvU64 (oracle)",
  ignore: !HAS_KV,
  fn() {
    assert.deepEqual(facts(KvU64), facts(DenoKvU64!));
  },
});

Deno.test("isKvU64 takes KvU64s and subclasses, not look-alikes", () => {
  class Sub extends KvU64 {}
  assert.ok(isKvU64(new KvU64(0n)));
  assert.ok(isKvU64(new Sub(1n)));
  assert.ok(isKvU64(Object.create(KvU64.prototype)));
  for (const v of [1n, { value: 1n }, null, undefined, Object(1n), [1n]]) {
    assert.ok(!isKvU64(v), String(v));
  }
});

Deno.test({
  name: "KvU64 and Deno.KvU64 are one kind under --unstable-kv",
  ignore: !HAS_KV,
  fn() {
    assert.ok(new KvU64(1n) instanceof DenoKvU64!);
    assert.ok(isKvU64(new DenoKvU64!(1n)));
  },
});

Deno.test({
  name: "Deno KV stores a Strata KvU64 as a u64, and sums into it",
  ignore: !HAS_KV,
  async fn() {
    using kv = await Deno.openKv(":memory:");
    await kv.set(["n"], new KvU64(MAX_U64));
    await kv.atomic().mutate({
      type: "sum",
      key: ["n"],
      value: new KvU64(2n) as unknown as Deno.KvU64,
    }).commit();
    const got = (await kv.get(["n"])).value;
    assert.ok(got instanceof DenoKvU64!);
    assert.equal((got as Deno.KvU64).value, 1n);
  },
});

// valueOf is what Deno KV reads, so a subclass can break it in these ways.
function oddU64(valueOf: unknown): KvU64 {
  return new (class extends KvU64 {
    override valueOf(): bigint {
      return valueOf as bigint;
    }
  })(1n);
}
const ODD_VALUES: [unknown, string][] = [
  [7n, "no error"],
  [5, "TypeError: serde_v8 error: invalid type; expected: bigint, got: Number"],
  [
    "s",
    "TypeError: serde_v8 error: invalid type; expected: bigint, got: string",
  ],
  [
    true,
    "TypeError: serde_v8 error: invalid type; expected: bigint, got: Boolean",
  ],
  [
    null,
    "TypeError: serde_v8 error: invalid type; expected: bigint, got: null",
  ],
  [
    {},
    "TypeError: serde_v8 error: invalid type; expected: bigint, got: unknown",
  ],
  [[], "TypeError: serde_v8 error: invalid type; expected: bigint, got: array"],
  [
    new Date(0),
    "TypeError: serde_v8 error: invalid type; expected: bigint, got: Date",
  ],
  [undefined, "TypeError: missing field `value`"],
  [
    -1n,
    "Error: Invalid mutation: out of range conversion regarding big integer attempted",
  ],
  [
    MAX_U64 + 1n,
    "Error: Invalid mutation: out of range conversion regarding big integer attempted",
  ],
];

Deno.test("u64Value reads valueOf and fails as Deno KV does", () => {
  assert.equal(u64Value(new KvU64(MAX_U64)), MAX_U64);
  assert.equal(u64Value(oddU64(7n)), 7n);
  for (const [v, expected] of ODD_VALUES) {
    assert.equal(errorOf(() => u64Value(oddU64(v))), expected, String(v));
  }
  assert.equal(
    errorOf(() => u64Value(Object.create(KvU64.prototype))),
    "TypeError: missing field `value`",
  );
});

Deno.test({
  name: "u64Value fails as Deno KV does (oracle)",
  ignore: !HAS_KV,
  async fn() {
    using kv = await Deno.openKv(":memory:");
    for (const [v, expected] of ODD_VALUES) {
      assert.equal(await rejectionOf(kv.set(["k"], oddU64(v))), expected);
    }
    assert.equal(
      await rejectionOf(kv.set(["k"], Object.create(DenoKvU64!.prototype))),
      "TypeError: missing field `value`",
    );
  },
});

if (Deno.env.get(OTHER_MODE) === undefined) {
  Deno.test(
    `kv_u64_test.ts passes ${HAS_KV ? "without" : "with"} --unstable-kv too`,
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
