/**
 * The {@link BenchStore} over a Strata database, which `strata bench` and
 * the peer benchmarks measure.
 *
 * @module
 */

import { join } from "node:path";
import { parseFileName } from "../lib/util/filenames.ts";
import { DB, type OpenOptions } from "../mod.ts";
import type { BenchStore } from "./bench.ts";

/** A benchmarkable Strata database that can be closed. */
export interface StrataBenchStore extends BenchStore {
  /** The open database (changes after {@link BenchStore.reset}). */
  readonly db: DB;
  /** Closes the database. */
  close(): Promise<void>;
}

/**
 * Opens (creating) a Strata database in `dir` for benchmarking. `reset()`
 * deletes the database's files in `dir` (other files stay), so pass a
 * directory the benchmark owns.
 *
 * @param dir Directory the benchmark owns.
 * @param options Engine options.
 * @returns The store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStrataBenchStore } from "./strata_bench_store.ts";
 * import { runBenchmark } from "./bench.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await openStrataBenchStore(dir);
 * const r = await runBenchmark(store, "fillseq", { num: 10, valueSize: 100, seed: 1 });
 * assert(r.ops === 10);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openStrataBenchStore(
  dir: string,
  options: OpenOptions = {},
): Promise<StrataBenchStore> {
  let db = await DB.open(dir, options);
  return {
    get db() {
      return db;
    },
    put: (key, value, sync) => db.put(key, value, { sync }),
    get: (key) => db.get(key),
    delete: (key) => db.delete(key),
    putBatch(entries) {
      const batch = db.batch();
      for (const [key, value] of entries) batch.put(key, value);
      return db.write(batch);
    },
    scan: (reverse) => db.scan({ reverse }),
    async reset() {
      await db.close();
      for await (const entry of Deno.readDir(dir)) {
        if (parseFileName(entry.name)) {
          await Deno.remove(join(dir, entry.name)).catch((err) => {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
          });
        }
      }
      db = await DB.open(dir, options);
    },
    close: () => db.close(),
  };
}
