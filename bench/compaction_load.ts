// Leveled compaction under load: fillrandom and overwrite of N keys
// (16-byte keys, 100-byte values, one `await db.put` each) while
// compaction runs, then readrandom; with write amplification, disk bytes
// against raw bytes, and the longest pause a concurrent reader saw.
//
// The reader runs beside the writer: a get, then a yield to the event loop
// (setTimeout 0), in a loop. A pause is the time between two of its gets;
// compaction work that does not yield shows up as a long pause.
//
//   deno run -A bench/compaction_load.ts [--num 1000000]

import { parseArgs } from "node:util";
import { DB } from "../mod.ts";
import { Prng } from "../cli/bench.ts";

const { values } = parseArgs({
  options: { num: { type: "string", default: "1000000" } },
});
const N = Number(values.num);

const prng = new Prng(301);
const random = () => prng.next() / 0x1_0000_0000;
const encoder = new TextEncoder();
const keys = Array.from(
  { length: N },
  (_, i) => encoder.encode(String(i).padStart(16, "0")),
);
const value = new Uint8Array(100).map((_, i) => (i * 37 + 11) & 0xff);
const shuffled = () => {
  const order = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
};

const dir = await Deno.makeTempDir({ prefix: "strata_compaction_bench_" });
const db = await DB.open(dir);

/** Runs `work` with a concurrent get loop; returns ops/s and the longest pause. */
async function withReader(ops: number, work: () => Promise<void>) {
  let stop = false;
  let longest = 0;
  let reads = 0;
  const reader = (async () => {
    let last = performance.now();
    while (!stop) {
      await db.get(keys[Math.floor(random() * N)]!);
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 0));
      const now = performance.now();
      if (now - last > longest) longest = now - last;
      last = now;
    }
  })();
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  stop = true;
  await reader;
  return { rate: ops / (ms / 1000), longest, reads };
}

const rows: string[] = [];
const row = (name: string, rate: number, pause?: number) =>
  rows.push(
    `| ${name} | ${Math.round(rate).toLocaleString("en-US")} | ${
      pause === undefined ? "—" : pause.toFixed(1)
    } |`,
  );

for (const name of ["fillrandom", "overwrite"]) {
  const order = shuffled();
  const r = await withReader(N, async () => {
    for (const i of order) await db.put(keys[i]!, value);
  });
  row(name, r.rate, r.longest);
}
const compactions = db.stats().compactions.count;
const settle = await withReader(0, () => db.waitForBackgroundWork());
const probes = Array.from({ length: N }, () => keys[Math.floor(random() * N)]!);
const t = performance.now();
for (const k of probes) await db.get(k);
row("readrandom (after)", N / ((performance.now() - t) / 1000));
const s = db.stats();
await db.close();
await Deno.remove(dir, { recursive: true });

const raw = N * (16 + 100);
console.log(
  `N = ${
    N.toLocaleString("en-US")
  }; ${compactions} compactions during the fills`,
);
console.log(
  "| workload | ops/s | longest reader pause (ms) |\n|---|---:|---:|",
);
console.log(rows.join("\n"));
console.log(
  `| settling (background work after the fills) | — | ${
    settle.longest.toFixed(1)
  } |`,
);
console.log();
console.log(
  `write amplification: ${
    s.writeAmplification.toFixed(2)
  } (WAL + flushes + compactions per user byte)`,
);
console.log(
  `disk bytes: ${(s.diskBytes / 2 ** 20).toFixed(1)} MiB for ${
    (raw / 2 ** 20).toFixed(1)
  } MiB of raw key+value ` +
    `(${(s.diskBytes / raw).toFixed(2)}×); levels ${
      s.levels.map((l) => l.files).join("/")
    }`,
);
