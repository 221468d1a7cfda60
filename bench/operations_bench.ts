/**
 * The operations of issue 15, measured on one database of `--gib` GiB
 * (1 by default) built from 1 KiB values:
 *
 * - `db.checkpoint(dir)` while a writer runs: how long it takes, and the
 *   writer's longest pause during it beside its longest pause over an
 *   equally long window without one; beside it, `cp -r` of the closed
 *   database (the offline copy a checkpoint replaces);
 * - `db.deleteRange` of 1,000 keys and of 1,000,000 keys (median of 5
 *   each, interleaved): the same single record either way;
 *   then how much disk a full compaction gives back;
 * - `repairDatabase` of the checkpoint after its `CURRENT` is removed:
 *   time, and what it recovered.
 *
 * Usage: deno run -A bench/operations_bench.ts [--gib 1] [--dir DIR]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { DB, repairDatabase } from "../mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: { gib: { type: "string" }, dir: { type: "string" } },
});
const gib = Number(args.values.gib ?? "1");
const root = args.values.dir ??
  await Deno.makeTempDir({ prefix: "strata_ops_bench_" });
const live = join(root, "live");
const VALUE_BYTES = 1024;
const n = Math.round(gib * 1024 * 1024 * 1024 / (VALUE_BYTES + 16));
const key = (i: number) => `key${String(i).padStart(10, "0")}`;
const ms = (t: number) => `${t.toFixed(1)} ms`;
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile) total += Deno.statSync(join(dir, e.name)).size;
  }
  return total;
}

/** Puts until `stop()`, and the longest gap between two completions. */
async function writer(db: DB, stop: () => boolean): Promise<number> {
  let longest = 0;
  let last = performance.now();
  for (let i = 0; !stop(); i++) {
    await db.put(`w${i % 50_000}`, "x".repeat(100));
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }
  return longest;
}

try {
  console.log(`Building ${n.toLocaleString()} keys of ${VALUE_BYTES} bytes…`);
  let db = await DB.open(live);
  const value = new Uint8Array(VALUE_BYTES).fill(0x61);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      value[0] = j & 0xff;
      batch.put(key(j), value);
    }
    await db.write(batch);
  }
  await db.waitForBackgroundWork();
  console.log(
    `built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${
      mib(dirBytes(live))
    } on disk`,
  );

  // ---- checkpoint while a writer runs
  let stop = false;
  const window = () => {
    stop = false;
    return { w: writer(db, () => stop) };
  };
  // The writer's pauses during the checkpoint.
  const idle = window();
  await new Promise((r) => setTimeout(r, 50));
  const c0 = performance.now();
  const report = await db.checkpoint(join(root, "backup"));
  const checkpointMs = performance.now() - c0;
  stop = true;
  const pauseDuring = await idle.w;
  // The writer's pauses without a checkpoint, over the same span.
  const quiet = window();
  await new Promise((r) => setTimeout(r, checkpointMs + 50));
  stop = true;
  const pauseWithout = await quiet.w;
  await db.close();

  const cpDir = join(root, "cp-copy");
  const cp0 = performance.now();
  const cp = await new Deno.Command("cp", { args: ["-r", live, cpDir] })
    .output();
  const cpMs = performance.now() - cp0;
  if (!cp.success) throw new Error("cp -r failed");
  await Deno.remove(cpDir, { recursive: true });

  // ---- range deletes
  db = await DB.open(live);
  // Interleaved, so that both see the same machine: 1,000 keys from
  // disjoint ranges, and the same million keys (or all but the first
  // 10,000, in a smaller database) five times over.
  const bigSize = Math.min(1_000_000, n - 10_000);
  const smallTimes: number[] = [];
  const bigTimes: number[] = [];
  const timed = async (start: number, end: number) => {
    const t = performance.now();
    await db.deleteRange(key(start), key(end), { sync: true });
    return performance.now() - t;
  };
  for (let r = 0; r < 5; r++) {
    smallTimes.push(await timed(r * 1000, r * 1000 + 1000));
    bigTimes.push(await timed(n - bigSize - r, n - r));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
  const small = median(smallTimes);
  const big = median(bigTimes);
  const before = db.stats().diskBytes;
  const k0 = performance.now();
  await db.compact();
  const compactMs = performance.now() - k0;
  const after = db.stats().diskBytes;
  const tombstones = db.stats().rangeTombstones;
  await db.close();

  // ---- repair the checkpoint
  const backup = join(root, "backup");
  await Deno.remove(join(backup, "CURRENT"));
  const r0 = performance.now();
  const repaired = await repairDatabase(backup);
  const repairMs = performance.now() - r0;

  console.log("");
  console.log("| operation | figure |");
  console.log("|---|---|");
  console.log(
    `| checkpoint of ${
      mib(report.tableBytes + report.walBytes)
    } (${report.linkedTables} tables linked, ${report.walFiles} WALs, ${
      mib(report.walBytes)
    } copied) | ${ms(checkpointMs)} |`,
  );
  console.log(`| \`cp -r\` of the closed database (peer) | ${ms(cpMs)} |`);
  console.log(
    `| longest writer pause during the checkpoint | ${ms(pauseDuring)} |`,
  );
  console.log(
    `| longest writer pause, same span, no checkpoint | ${ms(pauseWithout)} |`,
  );
  console.log(
    `| deleteRange of 1,000 keys (median of 5, sync) | ${ms(small)} |`,
  );
  console.log(
    `| deleteRange of ${bigSize.toLocaleString()} keys (median of 5, sync) | ${
      ms(big)
    } |`,
  );
  console.log(
    `| compaction after deleting ${(5000 + bigSize).toLocaleString()} keys | ${
      (compactMs / 1000).toFixed(1)
    } s, disk ${mib(before)} -> ${mib(after)}, ${tombstones} tombstones left |`,
  );
  console.log(
    `| repair of the checkpoint without CURRENT | ${
      ms(repairMs)
    }: ${repaired.keptTables.length} tables kept, ${repaired.logs.length} WALs replayed, ${repaired.entries.toLocaleString()} entries |`,
  );
} finally {
  if (!args.values.dir) await Deno.remove(root, { recursive: true });
}
