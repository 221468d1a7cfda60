/**
 * KV Connect data path protobuf: our codec (`lib/server/datapath_codec.ts`,
 * the baseline of every group) against protobufjs (types parsed at run time
 * from the real `datapath.proto` text, its encoders and decoders generated
 * with `new Function`) and @bufbuild/protobuf (reflection over a descriptor
 * built with its runtime API; protobuf-es v2's generated code works the same
 * way). Messages are what Deno's remote client and the server exchange:
 * 16-byte tuple-encoded keys, 100-byte V8 values, 10-byte versionstamps.
 *
 * Encoders get a ready message (protobufjs `fromObject`, bufbuild `create`,
 * done once outside the loop); decoders get bytes and stop at the library's
 * own message object (no `toObject`). Bytes fields decode as views in all
 * three.
 *
 * Run: `deno bench -A bench/datapath_codec_bench.ts`
 */

// Pinned inline: deno.json stays free of dependencies, which only tests and
// benchmarks have.
// deno-lint-ignore-file no-import-prefix

import {
  fromBinary,
  type Message,
  toBinary,
} from "npm:@bufbuild/protobuf@2.17.0";
import type protobuf from "npm:protobufjs@8.8.1";
import * as codec from "../lib/server/datapath_codec.ts";
import type {
  AtomicWrite,
  KvEntry,
  Mutation,
  ReadRange,
  SnapshotRead,
  SnapshotReadOutput,
} from "../lib/server/datapath_codec.ts";
// The same schema text and library set-ups the cross-check tests use.
import {
  bufbuildMessage,
  bufbuildRegistry,
  type MessageName,
  protobufjsTypes,
  toBufbuild,
} from "../tests/server/datapath_codec_test.ts";

const PBJS = protobufjsTypes();
const BUF = bufbuildRegistry();

// Tuple-encoded ["users", n] as Deno KV packs it: string part, then a
// float64 number part. 1 + 5 + 1 + 1 + 8 = 16 bytes.
function key(n: number): Uint8Array {
  const k = new Uint8Array(16);
  k.set([0x02, 0x75, 0x73, 0x65, 0x72, 0x73, 0x00, 0x21]);
  const view = new DataView(k.buffer);
  view.setFloat64(8, n);
  k[8] = k[8]! ^ 0x80; // positive numbers flip the sign bit to sort as unsigned
  return k;
}

// A V8-serialized value: version header, then payload bytes.
function value(n: number): Uint8Array {
  const v = new Uint8Array(100);
  v.set([0xff, 0x0f, 0x53, 0x60]);
  for (let i = 4; i < v.length; i++) v[i] = (n * 31 + i * 7) & 0xff;
  return v;
}

function versionstamp(n: number): Uint8Array {
  const vs = new Uint8Array(10);
  new DataView(vs.buffer).setUint32(4, n);
  return vs;
}

const EMPTY = new Uint8Array(0);

// Deno's get(): a one-key range [key, key + 0x00).
function pointRange(n: number): ReadRange {
  const start = key(n);
  const end = new Uint8Array(17);
  end.set(start);
  return { start, end, limit: 1, reverse: false };
}

function set(n: number): Mutation {
  return {
    key: key(n),
    value: { data: value(n), encoding: codec.ValueEncoding.VE_V8 },
    mutationType: codec.MutationType.M_SET,
    expireAtMs: 0,
    sumMin: EMPTY,
    sumMax: EMPTY,
    sumClamp: false,
  };
}

const read1: SnapshotRead = { ranges: [pointRange(1)] };
const read10: SnapshotRead = {
  ranges: Array.from({ length: 10 }, (_, i) => pointRange(i)),
};
const entries: KvEntry[] = Array.from({ length: 100 }, (_, i) => ({
  key: key(i),
  value: value(i),
  encoding: codec.ValueEncoding.VE_V8,
  versionstamp: versionstamp(i),
}));
const readOutput100: SnapshotReadOutput = {
  ranges: [{ values: entries }],
  readDisabled: false,
  readIsStronglyConsistent: true,
  status: codec.SnapshotReadStatus.SR_SUCCESS,
};
const write3: AtomicWrite = {
  checks: [{ key: key(1), versionstamp: versionstamp(7) }],
  mutations: [set(1), {
    // Deno's client sends deletes with an empty VE_BYTES value.
    key: key(2),
    value: { data: EMPTY, encoding: codec.ValueEncoding.VE_BYTES },
    mutationType: codec.MutationType.M_DELETE,
    expireAtMs: 0,
    sumMin: EMPTY,
    sumMax: EMPTY,
    sumClamp: false,
  }],
  enqueues: [],
};
const write64: AtomicWrite = {
  checks: [],
  mutations: Array.from({ length: 64 }, (_, i) => set(i)),
  enqueues: [],
};

// Results land here so no call is optimized away.
let _sink: unknown;

interface Case {
  label: string;
  message: MessageName;
  msg: object;
  encode(msg: never): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const CASES: Case[] = [
  {
    label: "SnapshotRead, 1 range",
    message: "SnapshotRead",
    msg: read1,
    encode: codec.encodeSnapshotRead,
    decode: codec.decodeSnapshotRead,
  },
  {
    label: "SnapshotRead, 10 ranges",
    message: "SnapshotRead",
    msg: read10,
    encode: codec.encodeSnapshotRead,
    decode: codec.decodeSnapshotRead,
  },
  {
    label: "SnapshotReadOutput, 1 ReadRangeOutput of 100 entries",
    message: "SnapshotReadOutput",
    msg: readOutput100,
    encode: codec.encodeSnapshotReadOutput,
    decode: codec.decodeSnapshotReadOutput,
  },
  {
    label: "AtomicWrite, 1 check + 2 mutations",
    message: "AtomicWrite",
    msg: write3,
    encode: codec.encodeAtomicWrite,
    decode: codec.decodeAtomicWrite,
  },
  {
    label: "AtomicWrite, 64 mutations",
    message: "AtomicWrite",
    msg: write64,
    encode: codec.encodeAtomicWrite,
    decode: codec.decodeAtomicWrite,
  },
];

for (const c of CASES) {
  const bytes = c.encode(c.msg as never);
  const t: protobuf.Type = PBJS[c.message];
  const pbjsMsg = t.fromObject(c.msg as Record<string, unknown>);
  const desc = bufbuildMessage(BUF, c.message);
  const bufMsg: Message = toBufbuild(desc, c.msg);
  const group = `${c.label} (${bytes.length} B)`;

  Deno.bench({
    name: "ours: encode",
    group: `${group}: encode`,
    baseline: true,
    fn() {
      _sink = c.encode(c.msg as never);
    },
  });
  Deno.bench({
    name: "protobufjs: encode",
    group: `${group}: encode`,
    fn() {
      _sink = t.encode(pbjsMsg).finish();
    },
  });
  Deno.bench({
    name: "@bufbuild/protobuf: toBinary",
    group: `${group}: encode`,
    fn() {
      _sink = toBinary(desc, bufMsg);
    },
  });

  Deno.bench({
    name: "ours: decode",
    group: `${group}: decode`,
    baseline: true,
    fn() {
      _sink = c.decode(bytes);
    },
  });
  Deno.bench({
    name: "protobufjs: decode",
    group: `${group}: decode`,
    fn() {
      _sink = t.decode(bytes);
    },
  });
  Deno.bench({
    name: "@bufbuild/protobuf: fromBinary",
    group: `${group}: decode`,
    fn() {
      _sink = fromBinary(desc, bytes);
    },
  });
}
