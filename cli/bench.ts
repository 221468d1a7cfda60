/**
 * The db_bench workloads, after LevelDB's `db_bench`: 16-byte keys (the
 * zero-padded decimal of an index), 100-byte values, sequential or random
 * order from a seeded PRNG. The workloads run against a {@link BenchStore},
 * so the peer benchmarks can measure other stores with the very same work.
 *
 * | name         | fresh store | operations                                  |
 * | ------------ | ----------- | ------------------------------------------- |
 * | fillseq      | yes         | num puts, keys in order                     |
 * | fillrandom   | yes         | num puts, random keys (with repeats)        |
 * | overwrite    | no          | num puts, random keys                       |
 * | fillsync     | yes         | num/100 puts with sync, random keys         |
 * | fillbatch    | yes         | num puts in order, batches of 1,000         |
 * | readrandom   | no          | num gets, random keys                       |
 * | readseq      | no          | scan forward, up to num entries             |
 * | readreverse  | no          | scan backward, up to num entries            |
 * | deleterandom | no          | num deletes, random keys                    |
 *
 * @module
 */

/** The operations a store must offer to be benchmarked. */
export interface BenchStore {
  /** Stores a value; `sync` asks for durability before resolving. */
  put(key: Uint8Array, value: Uint8Array, sync: boolean): Promise<void>;
  /** Reads a value. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Deletes a key. */
  delete(key: Uint8Array): Promise<void>;
  /** Stores many entries atomically. */
  putBatch(entries: [key: Uint8Array, value: Uint8Array][]): Promise<void>;
  /** Iterates every entry in key order, or in reverse. */
  scan(reverse: boolean): AsyncIterable<{ key: Uint8Array; value: Uint8Array }>;
  /** Empties the store (a fresh database). */
  reset(): Promise<void>;
}

/** Parameters shared by every workload. */
export interface BenchConfig {
  /** Number of operations (db_bench's `--num`). */
  num: number;
  /** Bytes per value (100 by default). */
  valueSize: number;
  /** PRNG seed; the same seed replays the same keys and values. */
  seed: number;
}

/** What one workload measured. */
export interface BenchResult {
  /** Workload name. */
  name: string;
  /** Operations performed. */
  ops: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** Microseconds per operation. */
  microsPerOp: number;
  /** Operations per second. */
  opsPerSec: number;
  /** Key and value bytes written or read, per second, in MB (10^6 bytes). */
  mbPerSec: number;
  /** Extra facts, such as how many random reads found their key. */
  note: string;
}

/** Length of every benchmark key, as in db_bench. */
export const KEY_SIZE = 16;
/** Entries per batch of `fillbatch`, as in db_bench. */
export const BATCH_SIZE = 1000;
/** The workloads, in the order `strata bench` runs them by default. */
export const BENCHMARKS = [
  "fillseq",
  "fillsync",
  "fillbatch",
  "fillrandom",
  "overwrite",
  "readrandom",
  "readseq",
  "readreverse",
  "deleterandom",
] as const;
/** Name of a workload. */
export type BenchmarkName = typeof BENCHMARKS[number];

/**
 * A small seeded PRNG (mulberry32): fast, and the same seed always gives
 * the same sequence, so runs are comparable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Prng } from "./bench.ts";
 * const a = new Prng(7), b = new Prng(7);
 * assert(a.next() === b.next() && a.below(10) < 10);
 * ```
 */
export class Prng {
  #state: number;

  /** @param seed Any integer. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** @returns A uniform 32-bit unsigned integer. */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /**
   * @param n Upper bound, at most 2^32.
   * @returns A uniform integer in `[0, n)`.
   */
  below(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }
}

/**
 * Writes the benchmark key of index `i` (16 zero-padded decimal digits)
 * into `out`, which callers reuse between operations (stores copy keys).
 *
 * @param i A non-negative integer below 10^16.
 * @param out A 16-byte buffer; a fresh one when omitted.
 * @returns `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { benchKey } from "./bench.ts";
 * assert(new TextDecoder().decode(benchKey(42)) === "0000000000000042");
 * ```
 */
export function benchKey(
  i: number,
  out = new Uint8Array(KEY_SIZE),
): Uint8Array {
  let n = i;
  for (let p = KEY_SIZE - 1; p >= 0; p--) {
    out[p] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return out;
}

/**
 * Fills `pool` as db_bench's RandomGenerator fills its own with its default
 * compression ratio of 0.5: pieces of 100 bytes, each 50 random printable
 * characters written twice, so that values cut from it compress to about
 * half (as real data often does) and a compressing engine shows it.
 *
 * @param pool The buffer to fill.
 * @param prng Where the randomness comes from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillValuePool, Prng } from "./bench.ts";
 * const pool = new Uint8Array(200);
 * fillValuePool(pool, new Prng(1));
 * assert.deepEqual(pool.subarray(0, 50), pool.subarray(50, 100));
 * ```
 */
export function fillValuePool(pool: Uint8Array, prng: Prng): void {
  const PIECE = 100;
  const RANDOM = 50;
  for (let at = 0; at < pool.length; at += PIECE) {
    for (let i = 0; i < RANDOM; i++) {
      pool[at + i] = 0x20 + prng.below(95);
    }
    for (let i = RANDOM; i < PIECE && at + i < pool.length; i++) {
      pool[at + i] = pool[at + i - RANDOM]!;
    }
  }
}

/**
 * Values cut from a pool of db_bench's compressible bytes at a moving
 * offset, as db_bench's RandomGenerator does: cheap, and no two
 * consecutive values are equal.
 */
class ValueSource {
  readonly #pool: Uint8Array;
  readonly #size: number;
  #pos = 0;

  constructor(size: number, prng: Prng) {
    this.#size = size;
    // 1 MiB, plus one value so every slice fits.
    this.#pool = new Uint8Array((1 << 20) + size);
    fillValuePool(this.#pool, prng);
  }

  next(): Uint8Array {
    if (this.#pos + this.#size > this.#pool.length) this.#pos = 0;
    const v = this.#pool.subarray(this.#pos, this.#pos + this.#size);
    this.#pos += this.#size;
    return v;
  }
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  }
  return h >>> 0;
}

/**
 * Tells whether a workload starts from an empty store, as db_bench's fill
 * benchmarks do.
 *
 * @param name Workload name.
 * @returns `true` for fillseq, fillrandom, fillsync and fillbatch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { needsFreshStore } from "./bench.ts";
 * assert(needsFreshStore("fillseq") && !needsFreshStore("overwrite"));
 * ```
 */
export function needsFreshStore(name: BenchmarkName): boolean {
  return name === "fillseq" || name === "fillrandom" || name === "fillsync" ||
    name === "fillbatch";
}

/**
 * How many operations a workload performs for a given `num`.
 *
 * @param name Workload name.
 * @param num The configured count.
 * @returns `num`, or `num / 100` (at least 1) for fillsync.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plannedOps } from "./bench.ts";
 * assert(plannedOps("fillsync", 100000) === 1000);
 * ```
 */
export function plannedOps(name: BenchmarkName, num: number): number {
  return name === "fillsync" ? Math.max(1, Math.floor(num / 100)) : num;
}

/**
 * Runs one workload against a store, resetting the store first when the
 * workload wants a fresh one.
 *
 * @param store The store under test.
 * @param name Workload name.
 * @param config Sizes and seed.
 * @param onProgress Called now and then with operations done and planned.
 * @returns Timings and throughput.
 *
 * @example Against an in-memory store
 * ```ts
 * import assert from "node:assert/strict";
 * import { runBenchmark, type BenchStore } from "./bench.ts";
 * const map = new Map<string, Uint8Array>();
 * const id = (k: Uint8Array) => new TextDecoder().decode(k);
 * const store: BenchStore = {
 *   put: (k, v) => (map.set(id(k), v.slice()), Promise.resolve()),
 *   get: (k) => Promise.resolve(map.get(id(k))),
 *   delete: (k) => (map.delete(id(k)), Promise.resolve()),
 *   putBatch: (es) => (es.forEach(([k, v]) => map.set(id(k), v.slice())), Promise.resolve()),
 *   async *scan() {},
 *   reset: () => (map.clear(), Promise.resolve()),
 * };
 * const r = await runBenchmark(store, "fillseq", { num: 100, valueSize: 100, seed: 1 });
 * assert(r.ops === 100 && map.size === 100);
 * ```
 */
export async function runBenchmark(
  store: BenchStore,
  name: BenchmarkName,
  config: BenchConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<BenchResult> {
  if (needsFreshStore(name)) await store.reset();
  const prng = new Prng(config.seed ^ hashName(name));
  const values = new ValueSource(config.valueSize, prng);
  const total = plannedOps(name, config.num);
  const key = new Uint8Array(KEY_SIZE);
  const report = (done: number) => {
    if (onProgress && (done & 1023) === 0) onProgress(done, total);
  };
  let ops = 0;
  let bytes = 0;
  let note = "";
  const start = performance.now();
  switch (name) {
    case "fillseq":
    case "fillrandom":
    case "overwrite":
    case "fillsync": {
      const sequential = name === "fillseq";
      const sync = name === "fillsync";
      for (let i = 0; i < total; i++) {
        await store.put(
          benchKey(sequential ? i : prng.below(config.num), key),
          values.next(),
          sync,
        );
        report(i);
      }
      ops = total;
      bytes = total * (KEY_SIZE + config.valueSize);
      break;
    }
    case "fillbatch": {
      for (let i = 0; i < total;) {
        const entries: [Uint8Array, Uint8Array][] = [];
        const end = Math.min(total, i + BATCH_SIZE);
        for (; i < end; i++) entries.push([benchKey(i), values.next()]);
        await store.putBatch(entries);
        onProgress?.(i, total);
      }
      ops = total;
      bytes = total * (KEY_SIZE + config.valueSize);
      break;
    }
    case "readrandom": {
      let found = 0;
      for (let i = 0; i < total; i++) {
        const v = await store.get(benchKey(prng.below(config.num), key));
        if (v !== undefined) {
          found++;
          bytes += KEY_SIZE + v.length;
        }
        report(i);
      }
      ops = total;
      note = `${found} of ${total} found`;
      break;
    }
    case "readseq":
    case "readreverse": {
      for await (const e of store.scan(name === "readreverse")) {
        bytes += e.key.length + e.value.length;
        report(++ops);
        if (ops >= total) break;
      }
      break;
    }
    case "deleterandom": {
      for (let i = 0; i < total; i++) {
        await store.delete(benchKey(prng.below(config.num), key));
        report(i);
      }
      ops = total;
      bytes = total * KEY_SIZE;
      break;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    name,
    ops,
    seconds,
    microsPerOp: ops > 0 ? (seconds * 1e6) / ops : 0,
    opsPerSec: seconds > 0 ? ops / seconds : 0,
    mbPerSec: seconds > 0 ? bytes / 1e6 / seconds : 0,
    note,
  };
}
