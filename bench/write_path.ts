// Write-path figures: 1,000,000 sequential `await db.put` (16-byte keys,
// 100-byte values, sync: false) and the same entries in batches of 1,000,
// each beside a plain `Map.set` loop in the same run.
//
//   deno run -A bench/write_path.ts [--num 1000000]

import { parseArgs } from "node:util";
import { DB } from "../mod.ts";

const { values } = parseArgs({
  options: { num: { type: "string", default: "1000000" } },
});
const N = Number(values.num);

const keys: Uint8Array[] = [];
const value = new Uint8Array(100);
for (let i = 0; i < value.length; i++) value[i] = (i * 131) & 0xff;
for (let i = 0; i < N; i++) {
  keys.push(new TextEncoder().encode(String(i).padStart(16, "0")));
}
const stringKeys = keys.map((k) => new TextDecoder().decode(k));

function report(name: string, ops: number, ms: number, baselineOps?: number) {
  const rate = ops / (ms / 1000);
  const ratio = baselineOps
    ? `  (${(rate / baselineOps).toFixed(2)}× Map.set)`
    : "";
  console.log(
    `${name.padEnd(34)} ${
      Math.round(rate).toLocaleString("en-US").padStart(12)
    } ops/s${ratio}`,
  );
  return rate;
}

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const map = new Map<string, Uint8Array>();
const mapRate = report(
  "Map.set (string keys)",
  N,
  await timed(() => {
    for (let i = 0; i < N; i++) map.set(stringKeys[i]!, value);
  }),
);
map.clear();

for (const mode of ["put", "batch"] as const) {
  const dir = await Deno.makeTempDir({ prefix: "strata_write_bench_" });
  const db = await DB.open(dir);
  const ms = await timed(async () => {
    if (mode === "put") {
      for (let i = 0; i < N; i++) await db.put(keys[i]!, value);
    } else {
      for (let i = 0; i < N; i += 1000) {
        const batch = db.batch();
        for (let j = i; j < Math.min(N, i + 1000); j++) {
          batch.put(keys[j]!, value);
        }
        await db.write(batch);
      }
    }
  });
  report(
    mode === "put" ? "await db.put (sync: false)" : "db.write, 1,000 per batch",
    N,
    ms,
    mapRate,
  );
  await db.close();
  await Deno.remove(dir, { recursive: true });
}
