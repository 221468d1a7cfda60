// The data path codec against the schema: round trips of every message,
// byte-for-byte agreement with @bufbuild/protobuf and decode agreement with
// protobufjs (both driven by the real datapath.proto text below), and
// malformed input, which must raise ProtobufDecodeError and nothing else.
//
// The schema text and the two library set-ups are exported because
// bench/datapath_codec_bench.ts measures against the same ones.

// Pinned inline: deno.json stays free of dependencies, which only tests and
// benchmarks have.
// deno-lint-ignore-file no-import-prefix

import assert from "node:assert/strict";
import protobuf from "npm:protobufjs@8.8.1";
import {
  create,
  createFileRegistry,
  type DescMessage,
  type FileRegistry,
  fromBinary,
  type Message,
  toBinary,
} from "npm:@bufbuild/protobuf@2.17.0";
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  type EnumDescriptorProto,
  EnumDescriptorProtoSchema,
  EnumValueDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
} from "npm:@bufbuild/protobuf@2.17.0/wkt";
import fc from "npm:fast-check@3.23.2";
import * as codec from "../../lib/server/datapath_codec.ts";
import {
  type AtomicWrite,
  type AtomicWriteOutput,
  type Check,
  type Enqueue,
  type KvEntry,
  type KvValue,
  type Mutation,
  ProtobufDecodeError,
  type ReadRange,
  type ReadRangeOutput,
  type SnapshotRead,
  type SnapshotReadOutput,
  type Watch,
  type WatchKey,
  type WatchKeyOutput,
  type WatchOutput,
} from "../../lib/server/datapath_codec.ts";
import { InvalidArgumentError } from "../../lib/util/errors.ts";

// ---------------------------------------------------------------------------
// The schema and the reference libraries

/**
 * `proto/schema/datapath.proto` of denoland/denokv (commit e3f133d, July
 * 2025), comments dropped, declarations as they are.
 */
export const DATAPATH_PROTO = `
syntax = "proto3";

package com.deno.kv.datapath;

message SnapshotRead {
  repeated ReadRange ranges = 1;
}

message SnapshotReadOutput {
  reserved 3, 5, 6, 7;
  repeated ReadRangeOutput ranges = 1;
  bool read_disabled = 2;
  bool read_is_strongly_consistent = 4;
  SnapshotReadStatus status = 8;
}

enum SnapshotReadStatus {
  SR_UNSPECIFIED = 0;
  SR_SUCCESS = 1;
  SR_READ_DISABLED = 2;
}

message ReadRange {
  bytes start = 1;
  bytes end = 2;
  int32 limit = 3;
  bool reverse = 4;
}

message ReadRangeOutput {
  repeated KvEntry values = 1;
}

message AtomicWrite {
  repeated Check checks = 1;
  repeated Mutation mutations = 2;
  repeated Enqueue enqueues = 3;
}

message AtomicWriteOutput {
  reserved 3;
  AtomicWriteStatus status = 1;
  bytes versionstamp = 2;
  repeated uint32 failed_checks = 4;
}

message Check {
  bytes key = 1;
  bytes versionstamp = 2; // 10-byte raw versionstamp
}

message Mutation {
  bytes key = 1;
  KvValue value = 2;
  MutationType mutation_type = 3;
  int64 expire_at_ms = 4;
  bytes sum_min = 5;
  bytes sum_max = 6;
  bool sum_clamp = 7;
}

message KvValue {
  bytes data = 1;
  ValueEncoding encoding = 2;
}

message KvEntry {
  bytes key = 1;
  bytes value = 2;
  ValueEncoding encoding = 3;
  bytes versionstamp = 4;
}

enum MutationType {
  M_UNSPECIFIED = 0;
  M_SET = 1;
  M_DELETE = 2;
  M_SUM = 3;
  M_MAX = 4;
  M_MIN = 5;
  M_SET_SUFFIX_VERSIONSTAMPED_KEY = 9;
}

enum ValueEncoding {
  VE_UNSPECIFIED = 0;
  VE_V8 = 1;
  VE_LE64 = 2;
  VE_BYTES = 3;
}

enum AtomicWriteStatus {
  reserved 3, 4, 6;
  AW_UNSPECIFIED = 0;
  AW_SUCCESS = 1;
  AW_CHECK_FAILURE = 2;
  AW_WRITE_DISABLED = 5;
}

message Enqueue {
  bytes payload = 1;
  int64 deadline_ms = 2;
  repeated bytes keys_if_undelivered = 3;
  repeated uint32 backoff_schedule = 4;
}

message Watch {
  repeated WatchKey keys = 1;
}

message WatchOutput {
  SnapshotReadStatus status = 1;
  repeated WatchKeyOutput keys = 2;
}

message WatchKey {
  bytes key = 1;
}

message WatchKeyOutput {
  bool changed = 1;
  KvEntry entry_if_changed = 2;
}
`;

const PACKAGE = "com.deno.kv.datapath";

/** Every message of the schema. */
export const MESSAGES = [
  "SnapshotRead",
  "SnapshotReadOutput",
  "ReadRange",
  "ReadRangeOutput",
  "AtomicWrite",
  "AtomicWriteOutput",
  "Check",
  "Mutation",
  "KvValue",
  "KvEntry",
  "Enqueue",
  "Watch",
  "WatchOutput",
  "WatchKey",
  "WatchKeyOutput",
] as const;

/** A message name of the schema. */
export type MessageName = typeof MESSAGES[number];

/**
 * protobufjs types parsed from {@link DATAPATH_PROTO}, with camelCase field
 * names like ours.
 */
export function protobufjsTypes(): Record<MessageName, protobuf.Type> {
  const root = protobuf.parse(DATAPATH_PROTO).root;
  root.resolveAll();
  const types = {} as Record<MessageName, protobuf.Type>;
  for (const name of MESSAGES) {
    types[name] = root.lookupType(`${PACKAGE}.${name}`);
  }
  return types;
}

const SCALAR_TYPES: Record<string, FieldDescriptorProto_Type> = {
  bytes: FieldDescriptorProto_Type.BYTES,
  bool: FieldDescriptorProto_Type.BOOL,
  int32: FieldDescriptorProto_Type.INT32,
  int64: FieldDescriptorProto_Type.INT64,
  uint32: FieldDescriptorProto_Type.UINT32,
};

/**
 * A @bufbuild/protobuf registry for {@link DATAPATH_PROTO}. protoc is out of
 * reach, so the FileDescriptorProto is built with the runtime API from
 * protobufjs's parse of the same text (protobufjs's own descriptor export
 * writes relative type names and `packed: false` everywhere, which is not
 * the schema).
 */
export function bufbuildRegistry(): FileRegistry {
  const root = protobuf.parse(DATAPATH_PROTO, { keepCase: true }).root;
  root.resolveAll();
  const ns = root.lookup(PACKAGE) as protobuf.Namespace;
  const messageType: DescriptorProto[] = [];
  const enumType: EnumDescriptorProto[] = [];
  for (const item of ns.nestedArray) {
    if (item instanceof protobuf.Enum) {
      enumType.push(create(EnumDescriptorProtoSchema, {
        name: item.name,
        value: Object.entries(item.values).map(([name, number]) =>
          create(EnumValueDescriptorProtoSchema, { name, number })
        ),
      }));
    } else if (item instanceof protobuf.Type) {
      messageType.push(create(DescriptorProtoSchema, {
        name: item.name,
        field: item.fieldsArray.map((f) => {
          const scalar = SCALAR_TYPES[f.type];
          const resolved = f.resolvedType;
          return create(FieldDescriptorProtoSchema, {
            name: f.name,
            number: f.id,
            label: f.repeated
              ? FieldDescriptorProto_Label.REPEATED
              : FieldDescriptorProto_Label.OPTIONAL,
            type: scalar ??
              (resolved instanceof protobuf.Enum
                ? FieldDescriptorProto_Type.ENUM
                : FieldDescriptorProto_Type.MESSAGE),
            ...(scalar === undefined ? { typeName: resolved!.fullName } : {}),
          });
        }),
      }));
    }
  }
  const file = create(FileDescriptorProtoSchema, {
    name: "datapath.proto",
    package: PACKAGE,
    syntax: "proto3",
    messageType,
    enumType,
  });
  return createFileRegistry(file, () => undefined);
}

/** Looks up a message descriptor of {@link bufbuildRegistry}. */
export function bufbuildMessage(
  registry: FileRegistry,
  name: MessageName,
): DescMessage {
  const desc = registry.getMessage(`${PACKAGE}.${name}`);
  assert.ok(desc, `${name} is in the registry`);
  return desc;
}

/**
 * Our message shape as a @bufbuild/protobuf init object (int64 as bigint,
 * absent sub-messages dropped).
 */
export function toBufbuildInit(
  desc: DescMessage,
  msg: object,
): Record<string, unknown> {
  const src = msg as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of desc.fields) {
    const v = src[field.localName];
    if (v === undefined) continue;
    if (field.fieldKind === "message") {
      out[field.localName] = toBufbuildInit(field.message, v as object);
    } else if (field.fieldKind === "list" && field.listKind === "message") {
      const sub = field.message;
      out[field.localName] = (v as object[]).map((e) => toBufbuildInit(sub, e));
    } else if (
      field.fieldKind === "scalar" &&
      field.scalar === (FieldDescriptorProto_Type.INT64 as number)
    ) {
      out[field.localName] = BigInt(v as number);
    } else {
      out[field.localName] = v;
    }
  }
  return out;
}

/** The @bufbuild/protobuf message of our message shape. */
export function toBufbuild(desc: DescMessage, msg: object): Message {
  return create(desc, toBufbuildInit(desc, msg));
}

// ---------------------------------------------------------------------------
// Our codec, by message name

interface Codec {
  encode(msg: never): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const OURS: Record<MessageName, Codec> = {
  SnapshotRead: {
    encode: codec.encodeSnapshotRead,
    decode: codec.decodeSnapshotRead,
  },
  SnapshotReadOutput: {
    encode: codec.encodeSnapshotReadOutput,
    decode: codec.decodeSnapshotReadOutput,
  },
  ReadRange: { encode: codec.encodeReadRange, decode: codec.decodeReadRange },
  ReadRangeOutput: {
    encode: codec.encodeReadRangeOutput,
    decode: codec.decodeReadRangeOutput,
  },
  AtomicWrite: {
    encode: codec.encodeAtomicWrite,
    decode: codec.decodeAtomicWrite,
  },
  AtomicWriteOutput: {
    encode: codec.encodeAtomicWriteOutput,
    decode: codec.decodeAtomicWriteOutput,
  },
  Check: { encode: codec.encodeCheck, decode: codec.decodeCheck },
  Mutation: { encode: codec.encodeMutation, decode: codec.decodeMutation },
  KvValue: { encode: codec.encodeKvValue, decode: codec.decodeKvValue },
  KvEntry: { encode: codec.encodeKvEntry, decode: codec.decodeKvEntry },
  Enqueue: { encode: codec.encodeEnqueue, decode: codec.decodeEnqueue },
  Watch: { encode: codec.encodeWatch, decode: codec.decodeWatch },
  WatchOutput: {
    encode: codec.encodeWatchOutput,
    decode: codec.decodeWatchOutput,
  },
  WatchKey: { encode: codec.encodeWatchKey, decode: codec.decodeWatchKey },
  WatchKeyOutput: {
    encode: codec.encodeWatchKeyOutput,
    decode: codec.decodeWatchKeyOutput,
  },
};

function encode(name: MessageName, msg: unknown): Uint8Array {
  return OURS[name].encode(msg as never);
}

// ---------------------------------------------------------------------------
// Random messages

const SEED = Number(Deno.env.get("SEED") ?? 20250729);
console.log(`datapath_codec_test: seed ${SEED} (rerun with SEED=${SEED})`);
const RUNS = 150;

const anyBytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  // Long enough for two-byte lengths and for the set() copy path.
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 300 }) },
);
const int32 = fc.oneof(
  fc.integer({ min: -2, max: 200 }),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
const uint32 = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const int64 = fc.oneof(
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 32, Date.UTC(2030, 0, 1)),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
);
// Enums are open: unknown numbers must survive too.
const enumValue = (...known: number[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, {
    weight: 1,
    arbitrary: int32,
  });
const encoding = enumValue(0, 1, 2, 3);
const list = <T>(a: fc.Arbitrary<T>, maxLength = 4) =>
  fc.array(a, { maxLength });

const readRange: fc.Arbitrary<ReadRange> = fc.record({
  start: anyBytes,
  end: anyBytes,
  limit: int32,
  reverse: fc.boolean(),
});
const kvEntry: fc.Arbitrary<KvEntry> = fc.record({
  key: anyBytes,
  value: anyBytes,
  encoding,
  versionstamp: anyBytes,
});
const readRangeOutput: fc.Arbitrary<ReadRangeOutput> = fc.record({
  values: list(kvEntry),
});
const kvValue: fc.Arbitrary<KvValue> = fc.record({ data: anyBytes, encoding });
const check: fc.Arbitrary<Check> = fc.record({
  key: anyBytes,
  versionstamp: anyBytes,
});
const mutation: fc.Arbitrary<Mutation> = fc.record({
  key: anyBytes,
  value: fc.option(kvValue, { nil: undefined }),
  mutationType: enumValue(0, 1, 2, 3, 4, 5, 9),
  expireAtMs: int64,
  sumMin: anyBytes,
  sumMax: anyBytes,
  sumClamp: fc.boolean(),
});
const enqueue: fc.Arbitrary<Enqueue> = fc.record({
  payload: anyBytes,
  deadlineMs: int64,
  keysIfUndelivered: list(anyBytes),
  backoffSchedule: list(uint32, 12),
});
const watchKey: fc.Arbitrary<WatchKey> = fc.record({ key: anyBytes });
const watchKeyOutput: fc.Arbitrary<WatchKeyOutput> = fc.record({
  changed: fc.boolean(),
  entryIfChanged: fc.option(kvEntry, { nil: undefined }),
});
const snapshotStatus = enumValue(0, 1, 2);

const snapshotRead: fc.Arbitrary<SnapshotRead> = fc.record({
  ranges: list(readRange),
});
const snapshotReadOutput: fc.Arbitrary<SnapshotReadOutput> = fc.record({
  ranges: list(readRangeOutput),
  readDisabled: fc.boolean(),
  readIsStronglyConsistent: fc.boolean(),
  status: snapshotStatus,
});
const atomicWrite: fc.Arbitrary<AtomicWrite> = fc.record({
  checks: list(check),
  mutations: list(mutation),
  enqueues: list(enqueue, 2),
});
const atomicWriteOutput: fc.Arbitrary<AtomicWriteOutput> = fc.record({
  status: enumValue(0, 1, 2, 5),
  versionstamp: anyBytes,
  failedChecks: list(uint32, 12),
});
const watch: fc.Arbitrary<Watch> = fc.record({ keys: list(watchKey) });
const watchOutput: fc.Arbitrary<WatchOutput> = fc.record({
  status: snapshotStatus,
  keys: list(watchKeyOutput),
});

const ARBITRARIES: Record<MessageName, fc.Arbitrary<unknown>> = {
  SnapshotRead: snapshotRead,
  SnapshotReadOutput: snapshotReadOutput,
  ReadRange: readRange,
  ReadRangeOutput: readRangeOutput,
  AtomicWrite: atomicWrite,
  AtomicWriteOutput: atomicWriteOutput,
  Check: check,
  Mutation: mutation,
  KvValue: kvValue,
  KvEntry: kvEntry,
  Enqueue: enqueue,
  Watch: watch,
  WatchOutput: watchOutput,
  WatchKey: watchKey,
  WatchKeyOutput: watchKeyOutput,
};

function property(
  name: MessageName,
  fn: (msg: unknown) => void,
  runs = RUNS,
): void {
  fc.assert(fc.property(ARBITRARIES[name], fn), {
    seed: SEED,
    numRuns: runs,
  });
}

// ---------------------------------------------------------------------------
// Comparing across libraries

/**
 * A plain form for deepEqual across the three object models: bytes as hex
 * (protobufjs hands out Buffers), int64 as numbers (bufbuild's bigint), absent
 * sub-messages and library bookkeeping (`$typeName`, `$unknown`) dropped.
 */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    return Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || x === null || k.startsWith("$")) continue;
      out[k] = plain(x);
    }
    return out;
  }
  return v;
}

function protobufjsDecode(t: protobuf.Type, bytes: Uint8Array): unknown {
  return t.toObject(t.decode(bytes), {
    longs: Number,
    enums: Number,
    defaults: true,
    arrays: true,
  });
}

function protobufjsEncode(t: protobuf.Type, msg: unknown): Uint8Array {
  return t.encode(t.fromObject(msg as Record<string, unknown>)).finish();
}

const PBJS = protobufjsTypes();
const BUF = bufbuildRegistry();

// ---------------------------------------------------------------------------
// Round trips and agreement

Deno.test("datapath codec: the bufbuild descriptor matches the schema", () => {
  for (const name of MESSAGES) {
    const desc = bufbuildMessage(BUF, name);
    const t = PBJS[name];
    assert.deepEqual(
      desc.fields.map((f) => [f.localName, f.number, f.fieldKind]),
      t.fieldsArray.map((f) => [
        f.name,
        f.id,
        f.repeated
          ? "list"
          : f.resolvedType instanceof protobuf.Type
          ? "message"
          : f.resolvedType instanceof protobuf.Enum
          ? "enum"
          : "scalar",
      ]),
      name,
    );
  }
  const failedChecks = bufbuildMessage(BUF, "AtomicWriteOutput").fields
    .find((f) => f.number === 4)!;
  assert.ok(failedChecks.fieldKind === "list" && failedChecks.packed);
});

for (const name of MESSAGES) {
  Deno.test(`datapath codec: ${name} round trips`, () => {
    property(name, (msg) => {
      assert.deepEqual(OURS[name].decode(encode(name, msg)), msg);
    });
  });

  Deno.test(`datapath codec: ${name} bytes equal @bufbuild/protobuf's`, () => {
    const desc = bufbuildMessage(BUF, name);
    property(name, (msg) => {
      const ours = encode(name, msg);
      // Same field order, defaults omitted, packed lists: identical bytes.
      assert.deepEqual(ours, toBinary(desc, toBufbuild(desc, msg as object)));
      assert.deepEqual(plain(fromBinary(desc, ours)), plain(msg));
    });
  });

  Deno.test(`datapath codec: ${name} agrees with protobufjs`, () => {
    const t = PBJS[name];
    property(name, (msg) => {
      assert.deepEqual(
        plain(protobufjsDecode(t, encode(name, msg))),
        plain(msg),
      );
      // protobufjs writes default values it is given (limit: 0, empty
      // bytes), so its bytes differ from ours; they must still decode.
      assert.deepEqual(
        plain(OURS[name].decode(protobufjsEncode(t, msg))),
        plain(msg),
      );
    });
  });
}

// ---------------------------------------------------------------------------
// Malformed input

/** Decodes `bytes` as `name`; any error but ours fails the test. */
function decodeOrOurError(name: MessageName, bytes: Uint8Array): void {
  try {
    OURS[name].decode(bytes);
  } catch (err) {
    if (!(err instanceof ProtobufDecodeError)) {
      throw new Error(
        `${name} threw ${err} on ${Array.from(bytes).join(",")}`,
        { cause: err },
      );
    }
    assert.ok(!err.message.includes("\n"), "one line");
    assert.ok(err.offset >= 0 && err.offset <= bytes.length, err.message);
    assert.ok(err.message.includes(`byte ${err.offset}`), err.message);
  }
}

Deno.test("datapath codec: every prefix decodes or throws ProtobufDecodeError", () => {
  for (const name of MESSAGES) {
    property(name, (msg) => {
      const full = encode(name, msg);
      for (let n = 0; n < full.length; n++) {
        decodeOrOurError(name, full.subarray(0, n));
      }
    }, 40);
  }
});

Deno.test("datapath codec: a message cut inside a field is an error", () => {
  const write = codec.encodeAtomicWrite({
    checks: [{
      key: new Uint8Array([1, 2, 3]),
      versionstamp: new Uint8Array(10),
    }],
    mutations: [],
    enqueues: [],
  });
  // Cut inside the check: its declared length runs past the end.
  for (let n = 1; n < write.length; n++) {
    assert.throws(
      () => codec.decodeAtomicWrite(write.subarray(0, n)),
      ProtobufDecodeError,
      `cut at ${n}`,
    );
  }
});

Deno.test("datapath codec: garbage and flipped bytes never raise another error", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (garbage) => {
      for (const name of MESSAGES) decodeOrOurError(name, garbage);
    }),
    { seed: SEED, numRuns: 400 },
  );
  for (const name of MESSAGES) {
    const arb = fc.tuple(
      ARBITRARIES[name],
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
    );
    fc.assert(
      fc.property(arb, ([msg, flips]) => {
        const bytes = encode(name, msg).slice();
        if (bytes.length === 0) return;
        for (const [at, b] of flips) bytes[at % bytes.length] = b;
        decodeOrOurError(name, bytes);
      }),
      { seed: SEED, numRuns: 60 },
    );
  }
});

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtobufDecodeError, String(err));
    return err.message;
  }
  assert.fail("no error");
}

Deno.test("datapath codec: errors name the field and the offset", () => {
  const u = (...b: number[]) => new Uint8Array(b);
  const cases: [string, () => unknown, RegExp][] = [
    [
      "truncated varint",
      () => codec.decodeReadRange(u(0x18, 0x80)),
      /byte 1: ReadRange\.limit: truncated varint/,
    ],
    [
      "varint longer than 10 bytes",
      () => codec.decodeMutation(u(0x20, ...Array(10).fill(0xff), 0x01)),
      /byte 1: Mutation\.expire_at_ms: varint longer than 64 bits/,
    ],
    [
      "tenth varint byte above 1",
      () => codec.decodeReadRange(u(0x18, ...Array(9).fill(0x80), 0x02)),
      /byte 1: ReadRange\.limit: varint longer than 64 bits/,
    ],
    [
      "length past the end",
      () => codec.decodeKvEntry(u(0x0a, 5, 1, 2)),
      /byte 1: KvEntry\.key: length 5 runs past the end \(2 left\)/,
    ],
    [
      "sub-message longer than its parent",
      () => codec.decodeSnapshotRead(u(0x0a, 3, 0x0a, 5, 1)),
      /byte 3: ReadRange\.start: length 5 runs past the end \(1 left\)/,
    ],
    [
      "known field, wrong wire type",
      () => codec.decodeCheck(u(0x08, 1)),
      /byte 0: Check\.key: wire type VARINT, expected LEN/,
    ],
    [
      "field number 0",
      () => codec.decodeWatch(u(0x02, 0)),
      /byte 0: Watch: field number 0/,
    ],
    [
      "int64 outside the safe range",
      () =>
        codec.decodeEnqueue(
          u(0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10),
        ),
      /Enqueue\.deadline_ms: int64 value outside the safe integer range/,
    ],
    [
      "end group without start",
      () => codec.decodeKvValue(u(0x7c)),
      /byte 0: KvValue field 15: group end without a start/,
    ],
    [
      "unterminated group",
      () => codec.decodeKvValue(u(0x7b, 0x08, 1)),
      /KvValue field 15: group without an end/,
    ],
    [
      "mismatched group end",
      () => codec.decodeKvValue(u(0x7b, 0x74)),
      /byte 1: KvValue field 15: group ended by field 14/,
    ],
    [
      "groups nested too deep",
      () => codec.decodeKvValue(new Uint8Array(40).fill(0x7b)),
      /groups nested too deep/,
    ],
    [
      "wire type 6",
      () => codec.decodeWatchKey(u(0x7e)),
      /byte 0: WatchKey field 15: invalid wire type 6/,
    ],
    [
      "truncated I64",
      () => codec.decodeWatchKey(u(0x79, 1, 2, 3)),
      /WatchKey field 15: truncated I64/,
    ],
    [
      "packed run cut mid-varint",
      () => codec.decodeAtomicWriteOutput(u(0x22, 1, 0x80)),
      /byte 2: AtomicWriteOutput\.failed_checks: truncated varint/,
    ],
    [
      "tag wider than 32 bits",
      () => codec.decodeWatch(u(0x8a, 0x80, 0x80, 0x80, 0x80, 0x01)),
      /byte 0: Watch: tag wider than 32 bits/,
    ],
  ];
  for (const [what, fn, re] of cases) assert.match(reasonOf(fn), re, what);
});

// ---------------------------------------------------------------------------
// proto3 semantics

/** A field of the given number, wire type and raw payload. */
function field(no: number, wire: number, payload: number[]): number[] {
  return [...varint(no * 8 + wire), ...payload];
}

function varint(v: number): number[] {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function len(no: number, payload: number[] | Uint8Array): number[] {
  return field(no, 2, [...varint(payload.length), ...payload]);
}

/** One unknown field of each wire type, a group with a nested group too. */
function unknownFields(no: number): number[] {
  return [
    ...field(no, 0, varint(2 ** 40)),
    ...field(no + 1, 1, [1, 2, 3, 4, 5, 6, 7, 8]),
    ...len(no + 2, [0xff, 0xff, 0xff]),
    ...field(no + 3, 5, [1, 2, 3, 4]),
    ...field(no + 4, 3, [
      ...field(1, 0, [5]),
      ...field(2, 3, field(2, 4, [])),
      ...field(no + 4, 4, []),
    ]),
  ];
}

Deno.test("datapath codec: unknown fields are skipped at every level", () => {
  for (const name of MESSAGES) {
    property(name, (msg) => {
      const bytes = encode(name, msg);
      const wrapped = new Uint8Array([
        ...unknownFields(20),
        ...bytes,
        ...unknownFields(1000),
      ]);
      assert.deepEqual(OURS[name].decode(wrapped), msg);
    }, 30);
  }
  // Nested: an entry with unknown fields, inside a range, inside an output;
  // and the output's reserved numbers 3, 5, 6, 7.
  const entry = codec.encodeKvEntry({
    key: new Uint8Array([1]),
    value: new Uint8Array([2]),
    encoding: 1,
    versionstamp: new Uint8Array(10),
  });
  const body = new Uint8Array([
    ...field(3, 0, [1]),
    ...len(1, len(1, [...unknownFields(9), ...entry, ...unknownFields(99)])),
    ...field(7, 5, [0, 0, 0, 0]),
    ...field(8, 0, [1]),
  ]);
  const out = codec.decodeSnapshotReadOutput(body);
  assert.equal(out.status, 1);
  assert.deepEqual(out.ranges[0]!.values[0], codec.decodeKvEntry(entry));
});

Deno.test("datapath codec: repeated singular fields keep the last, sub-messages merge", () => {
  const m = codec.decodeMutation(
    new Uint8Array([
      ...len(1, [1]),
      ...len(2, [...len(1, [7]), ...field(2, 0, [1])]),
      ...field(3, 0, [1]),
      ...len(1, [2]),
      ...len(2, field(2, 0, [3])),
      ...field(3, 0, [2]),
    ]),
  );
  assert.deepEqual([...m.key], [2]);
  assert.deepEqual(m.value && [[...m.value.data], m.value.encoding], [[7], 3]);
  assert.equal(m.mutationType, 2);
  const w = codec.decodeWatchKeyOutput(
    new Uint8Array([
      ...len(2, len(1, [1])),
      ...len(2, field(3, 0, [2])),
    ]),
  );
  assert.deepEqual(
    w.entryIfChanged && [[...w.entryIfChanged.key], w.entryIfChanged.encoding],
    [[1], 2],
  );
});

Deno.test("datapath codec: packed and unpacked uint32 lists mix", () => {
  const out = codec.decodeAtomicWriteOutput(
    new Uint8Array([
      ...field(4, 0, [1]),
      ...len(4, [2, ...varint(300)]),
      ...field(4, 0, varint(0xffffffff)),
      ...len(4, []),
    ]),
  );
  assert.deepEqual(out.failedChecks, [1, 2, 300, 0xffffffff]);
});

Deno.test("datapath codec: negative int32 and int64 take ten bytes", () => {
  const ten = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  const range = codec.encodeReadRange({
    start: new Uint8Array(0),
    end: new Uint8Array(0),
    limit: -1,
    reverse: false,
  });
  assert.deepEqual([...range], [0x18, ...ten]);
  assert.equal(codec.decodeReadRange(range).limit, -1);
  const bytes = codec.encodeEnqueue({
    payload: new Uint8Array(0),
    deadlineMs: Number.MIN_SAFE_INTEGER,
    keysIfUndelivered: [],
    backoffSchedule: [],
  });
  assert.equal(bytes.length, 11);
  assert.equal(codec.decodeEnqueue(bytes).deadlineMs, Number.MIN_SAFE_INTEGER);
  // A bool is any non-zero varint, even one whose low 32 bits are zero.
  assert.equal(
    codec.decodeReadRange(new Uint8Array(field(4, 0, varint(2 ** 32))))
      .reverse,
    true,
  );
});

Deno.test("datapath codec: encoders refuse int64 values that are not safe integers", () => {
  for (const bad of [2 ** 53, 1.5, NaN, Infinity]) {
    assert.throws(
      () =>
        codec.encodeMutation({
          key: new Uint8Array(0),
          mutationType: 1,
          expireAtMs: bad,
          sumMin: new Uint8Array(0),
          sumMax: new Uint8Array(0),
          sumClamp: false,
        }),
      InvalidArgumentError,
    );
  }
});

Deno.test("datapath codec: decoded bytes are views into the input", () => {
  const input = codec.encodeCheck({
    key: new Uint8Array([1, 2]),
    versionstamp: new Uint8Array([3]),
  });
  const check = codec.decodeCheck(input);
  assert.equal(check.key.buffer, input.buffer);
  input[2] = 9;
  assert.equal(check.key[0], 9);
});

Deno.test("datapath codec: a watch frame is a little-endian length and the message", () => {
  property("WatchOutput", (msg) => {
    const frame = codec.encodeWatchOutputFrame(msg as WatchOutput);
    const body = codec.encodeWatchOutput(msg as WatchOutput);
    const n = new DataView(frame.buffer).getUint32(0, true);
    assert.equal(n, body.length);
    assert.deepEqual(frame.subarray(4), body);
  }, 50);
});
