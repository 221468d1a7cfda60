/**
 * One database of the Deno KV API comparison, in its own process: Strata's
 * `openKv` (durable, or relaxed with `sync: false`) or `Deno.openKv`, in a
 * directory the driver (`bench/kv_peers.ts`) made. Prints one JSON object
 * per line: the fdatasync floor, then one per workload.
 *
 * ```sh
 * deno run -A --unstable-kv bench/kv_runner.ts --engine strata --scale 2000 --dir /tmp/x
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openKv } from "../mod.ts";
import { KV_WORKLOADS, runKvWorkload } from "./kv/kv_workloads.ts";
import { measureFsyncFloor } from "./peers/fsync_floor.ts";

/** The databases the comparison runs. */
export const KV_ENGINES = ["strata", "strata-relaxed", "denokv"] as const;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      engine: { type: "string" },
      scale: { type: "string", default: "2000" },
      dir: { type: "string" },
    },
    strict: true,
  });
  const engine = values.engine as typeof KV_ENGINES[number];
  const scale = Number(values.scale);
  const dir = values.dir!;
  const floor = await measureFsyncFloor(dir, 2000);
  console.log(JSON.stringify({ engine, workload: "floor", rate: floor.rate }));
  const kv = engine === "denokv"
    ? await Deno.openKv(`${dir}/kv.sqlite`)
    : await openKv(`${dir}/db`, {
      sync: engine === "strata",
    }) as unknown as Deno.Kv;
  const workloads = engine === "strata-relaxed"
    ? KV_WORKLOADS.filter((w) => w.startsWith("set") || w.startsWith("atomic"))
    : KV_WORKLOADS;
  for (const workload of workloads) {
    const result = await runKvWorkload(kv, workload, scale);
    console.log(JSON.stringify({ engine, ...result }));
    console.error(
      `[${engine}] ${workload}: ${
        Math.round(result.rate).toLocaleString("en-US")
      }/s`,
    );
  }
  kv.close();
}
