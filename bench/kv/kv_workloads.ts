/**
 * The workloads of the Deno KV API comparison (`bench/kv_peers.ts`): the
 * same calls, keys and values on Strata's `openKv` and on `Deno.openKv`.
 * Writes are durable per commit on both (Deno KV's promise; Strata's
 * default), except in the relaxed row, which runs Strata with `sync:
 * false` beside durable Deno KV, as the issue asks.
 *
 * @module
 */

/** What one workload measured. */
export interface KvResult {
  /** Workload name. */
  workload: string;
  /** Operations done. */
  ops: number;
  /** Operations per second. */
  rate: number;
  /** Median and 99th-percentile latency of one operation, in µs. */
  p50?: number;
  /** See p50. */
  p99?: number;
}

/** The workloads, in the order they run. */
export const KV_WORKLOADS = [
  "set",
  "set64",
  "atomic",
  "atomic64",
  "get",
  "getMany10",
  "list100",
] as const;

/** A workload name. */
export type KvWorkload = typeof KV_WORKLOADS[number];

/** Human-readable labels of the workloads. */
export const KV_LABELS: Record<KvWorkload, string> = {
  set: "set (1 writer)",
  set64: "set (64 writers)",
  atomic: "atomic: 1 check + 2 mutations (1 writer)",
  atomic64: "atomic: 1 check + 2 mutations (64 writers)",
  get: "get",
  getMany10: "getMany of 10",
  list100: "list of 100 from a prefix",
};

const VALUE = new Uint8Array(100).fill(0x61);

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Runs `op(i, writer)` for i in [0, n) on `writers` concurrent loops. */
async function timed(
  workload: string,
  n: number,
  writers: number,
  op: (i: number, writer: number) => Promise<unknown>,
): Promise<KvResult> {
  const latencies = new Float64Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, writer) => {
    for (let i = next++; i < n; i = next++) {
      const s = performance.now();
      await op(i, writer);
      latencies[i] = (performance.now() - s) * 1000;
    }
  }));
  const ms = performance.now() - t0;
  latencies.sort();
  return {
    workload,
    ops: n,
    rate: n / (ms / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

/**
 * Runs one workload on an open database.
 *
 * @param kv Strata's `Kv` or Deno's.
 * @param workload Which.
 * @param scale Operations of the write workloads with one writer; the
 * others scale from it.
 * @returns What it measured.
 *
 * @example
 * ```ts
 * import { runKvWorkload } from "./kv_workloads.ts";
 * import { openKv } from "../../mod.ts";
 * const kv = await openKv(":memory:");
 * const r = await runKvWorkload(kv as unknown as Deno.Kv, "set", 20);
 * if (r.ops !== 20) throw new Error("bad");
 * kv.close();
 * ```
 */
export async function runKvWorkload(
  kv: Deno.Kv,
  workload: KvWorkload,
  scale: number,
): Promise<KvResult> {
  switch (workload) {
    case "set":
      return await timed(workload, scale, 1, (i) => kv.set(["s", i], VALUE));
    case "set64":
      return await timed(
        workload,
        scale * 10,
        64,
        (i) => kv.set(["s64", i], VALUE),
      );
    case "atomic":
    case "atomic64": {
      const writers = workload === "atomic" ? 1 : 64;
      const n = workload === "atomic" ? scale : scale * 10;
      // Each writer checks its own account: no check fails, every commit
      // writes; the counter they all add to needs no check.
      const stamps: (string | null)[] = new Array(writers).fill(null);
      return await timed(workload, n, writers, async (_, w) => {
        const r = await kv.atomic()
          .check({ key: ["acct", workload, w], versionstamp: stamps[w]! })
          .set(["acct", workload, w], VALUE)
          .sum(["total"], 1n)
          .commit();
        if (!r.ok) throw new Error("a check failed");
        stamps[w] = r.versionstamp;
      });
    }
    case "get":
    case "getMany10":
    case "list100": {
      // Read what the write workloads left: scale entries under ["s", i].
      const n = workload === "get" ? scale * 20 : scale * 4;
      let seed = 12345;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      if (workload === "get") {
        return await timed(
          workload,
          n,
          1,
          () => kv.get(["s", random() % scale]),
        );
      }
      if (workload === "getMany10") {
        return await timed(
          workload,
          n,
          1,
          () =>
            kv.getMany(
              Array.from({ length: 10 }, () => ["s", random() % scale]),
            ),
        );
      }
      // 100 entries under each of a few prefixes.
      const groups = 20;
      for (let g = 0; g < groups; g++) {
        const atomic = kv.atomic();
        for (let j = 0; j < 100; j++) atomic.set(["p", g, j], VALUE);
        await atomic.commit();
      }
      return await timed(workload, n / 4, 1, async () => {
        let count = 0;
        for await (
          const _ of kv.list({ prefix: ["p", random() % groups] }, {
            limit: 100,
          })
        ) count++;
        if (count !== 100) throw new Error(`listed ${count}`);
      });
    }
  }
}
