/**
 * WAL append costs: the bare `writeSync` of a record's bytes (the floor),
 * against `WalWriter.append` / `appendSingle` of one 16-byte-key,
 * 100-byte-value put (encode + CRC32C + write), and a durable append
 * (`sync()` after every append, one `fdatasync` each).
 *
 * Run: `deno bench -A bench/wal_bench.ts`
 */

import { TYPE_PUT } from "../lib/iterator/internal_key.ts";
import { encodeWalRecord, type WalOp, WalWriter } from "../lib/wal/wal.ts";

const dir = await Deno.makeTempDir({ prefix: "strata_wal_bench_" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});

const key = new Uint8Array(16).map((_, i) => 0x61 + i);
const value = new Uint8Array(100).map((_, i) => i);
const op: WalOp = { type: TYPE_PUT, key, value };
const ops = [op];
const record = encodeWalRecord(1, ops, 1);

const raw = Deno.openSync(`${dir}/raw.log`, { write: true, createNew: true });
const batchWal = await WalWriter.create(`${dir}/append.log`);
const singleWal = await WalWriter.create(`${dir}/single.log`);
const syncWal = await WalWriter.create(`${dir}/sync.log`);
let seq = 1;

Deno.bench({
  name: "bare writeSync of a 145-byte record",
  group: "wal append 100B",
  baseline: true,
  fn() {
    raw.writeSync(record);
  },
});

Deno.bench({
  name: "WalWriter.append([put])",
  group: "wal append 100B",
  fn() {
    batchWal.append(seq++, ops);
  },
});

Deno.bench({
  name: "WalWriter.appendSingle(put)",
  group: "wal append 100B",
  fn() {
    singleWal.appendSingle(seq++, TYPE_PUT, key, value);
  },
});

Deno.bench({
  name: "encodeWalRecord (allocates, no write)",
  group: "wal append 100B",
  fn() {
    encodeWalRecord(seq++, ops, 1);
  },
});

Deno.bench({
  name: "appendSingle + await sync() (fdatasync per put)",
  group: "wal durable append 100B",
  n: 200,
  warmup: 10,
  async fn() {
    syncWal.appendSingle(seq++, TYPE_PUT, key, value);
    await syncWal.sync();
  },
});

Deno.bench({
  name: "64 concurrent appendSingle + sync(), time for all 64",
  group: "wal group commit 100B",
  n: 50,
  warmup: 5,
  async fn() {
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) {
      syncWal.appendSingle(seq++, TYPE_PUT, key, value);
      waits.push(syncWal.sync());
    }
    await Promise.all(waits);
  },
});
