/**
 * The db_bench workloads of the peer benchmark, run against one engine in
 * one process. Every single-writer loop `await`s each operation, whatever
 * the engine, because that is what a Deno program does.
 *
 * Databases: fillseq, fillbatch, fillsync and fillsync64 each write a fresh
 * database that is measured and removed; fillrandom and overwrite build the
 * "main" database, which is closed (and its disk usage measured), then
 * reopened for the read workloads and finally deleterandom.
 *
 * @module
 */

import { type EngineName, loadEngine, type PeerEngine } from "./engine.ts";
import { diskUsage, peakRss } from "./disk_usage.ts";
import { measureFsyncFloor } from "./fsync_floor.ts";
import { type KeySpace, randomIndices, shuffledIndices } from "./keys.ts";
import { equalBytes } from "../../lib/util/bytes.ts";

/** What a workload's rate counts. */
export type RateUnit = "ops/s" | "entries/s" | "seeks/s";

/** Static description of one workload. */
export interface WorkloadInfo {
  /** Command-line name. */
  readonly name: string;
  /** Row label of the report. */
  readonly label: string;
  /** Unit of its rate. */
  readonly unit: RateUnit;
  /** How many operations it runs for `--num n`. */
  readonly count: (n: number) => number;
  /** One line for the report's legend. */
  readonly about: string;
}

/** Writers of the concurrent fillsync workload. */
export const SYNC_WRITERS = 64;
/** Entries per batch of fillbatch. */
export const BATCH_SIZE = 1000;
/** Entries each seek of seekrandom reads. */
export const SEEK_NEXTS = 100;

/** All workloads, in the order they run and are reported. */
export const WORKLOADS: readonly WorkloadInfo[] = [
  {
    name: "fillseq",
    label: "fillseq",
    unit: "ops/s",
    count: (n) => n,
    about: "N puts in key order into a fresh database",
  },
  {
    name: "fillrandom",
    label: "fillrandom",
    unit: "ops/s",
    count: (n) => n,
    about:
      "N puts of every key once, in seeded random order, into a fresh database",
  },
  {
    name: "overwrite",
    label: "overwrite",
    unit: "ops/s",
    count: (n) => n,
    about: "N puts of random existing keys (with replacement) with new values",
  },
  {
    name: "fillbatch",
    label: `fillbatch (${BATCH_SIZE}/batch)`,
    unit: "entries/s",
    count: (n) => n,
    about:
      `N entries in key order, ${BATCH_SIZE} per atomic batch, into a fresh database`,
  },
  {
    name: "fillsync",
    label: "fillsync (1 writer)",
    unit: "ops/s",
    count: (n) => Math.max(1, Math.floor(n / 100)),
    about: "N/100 durable puts of random keys, one writer awaiting each",
  },
  {
    name: "fillsync64",
    label: `fillsync (${SYNC_WRITERS} writers)`,
    unit: "ops/s",
    count: (n) => Math.max(SYNC_WRITERS, Math.floor(n / 10)),
    about:
      `N/10 durable puts of random keys by ${SYNC_WRITERS} concurrent loops, each awaiting its own put`,
  },
  {
    name: "readrandom",
    label: "readrandom",
    unit: "ops/s",
    count: (n) => n,
    about: "N gets of random keys (all present)",
  },
  {
    name: "readrandomsync",
    label: "readrandom (sync get)",
    unit: "ops/s",
    count: (n) => n,
    about:
      "readrandom through the engine's synchronous get, not awaited (Strata's getSync, LMDB's and SQLite's get, classic-level's getSync); Deno KV has none and awaits its get",
  },
  {
    name: "readmissing",
    label: "readmissing",
    unit: "ops/s",
    count: (n) => n,
    about: "N gets of absent keys that sort between stored ones",
  },
  {
    name: "readseq",
    label: "readseq",
    unit: "entries/s",
    count: (n) => n,
    about: "one forward scan over all N entries",
  },
  {
    name: "readreverse",
    label: "readreverse",
    unit: "entries/s",
    count: (n) => n,
    about: "one reverse scan over all N entries",
  },
  {
    name: "seekrandom",
    label: `seekrandom (${SEEK_NEXTS} entries)`,
    unit: "seeks/s",
    count: (n) => Math.max(1, Math.floor(n / 10)),
    about: `N/10 scans from a random key, reading ${SEEK_NEXTS} entries each`,
  },
  {
    name: "deleterandom",
    label: "deleterandom",
    unit: "ops/s",
    count: (n) => n,
    about: "N deletes of every key once, in seeded random order",
  },
];

/** Names of {@link WORKLOADS}. */
export const WORKLOAD_NAMES: readonly string[] = WORKLOADS.map((w) => w.name);

/** One timed workload. */
export interface ResultLine {
  kind: "result";
  engine: EngineName;
  workload: string;
  /** Operations (puts, gets, seeks, batches' entries). */
  ops: number;
  /** Entries read or written. */
  entries: number;
  seconds: number;
  /** ops (or entries, or seeks) per second, per the workload's unit. */
  rate: number;
  /** Mean microseconds per operation. */
  microsPerOp: number;
  /** Set when a sanity check failed (wrong count, wrong value). */
  problem?: string;
}
/** Disk usage of a database after its fills, closed. */
export interface DiskLine {
  kind: "disk";
  engine: EngineName;
  /** Which fills the database saw: "fillseq" or "fillrandom+overwrite". */
  after: string;
  bytes: number;
}
/** Peak RSS of the engine's process, after all workloads. */
export interface RssLine {
  kind: "rss";
  engine: EngineName;
  bytes: number;
  /** Peak RSS before the engine was loaded: Deno plus the precomputed keys. */
  baselineBytes?: number;
}
/**
 * The fdatasync floor measured in the engine's process right before its
 * single-writer fillsync (see `fsync_floor.ts`): disks and neighbours drift,
 * so each engine is compared with a floor taken seconds earlier.
 */
export interface FloorLine {
  kind: "floor";
  engine: EngineName;
  ops: number;
  rate: number;
  microsPerOp: number;
}
/** A workload that threw. */
export interface ErrorLine {
  kind: "error";
  engine: EngineName;
  workload: string;
  message: string;
}
/** Engine description. */
export interface InfoLine {
  kind: "info";
  engine: EngineName;
  describe: string;
}
/** Any line a runner prints (one JSON object per line on stdout). */
export type RunnerLine =
  | FloorLine
  | ResultLine
  | DiskLine
  | RssLine
  | ErrorLine
  | InfoLine;

/**
 * Parses a comma-separated list of workloads and puts it in run order.
 *
 * @param list Names such as `"readrandom,fillseq"`.
 * @returns Known names in {@link WORKLOADS} order.
 * @throws {Error} When a name is unknown.
 *
 * @example
 * ```ts
 * import { parseWorkloads } from "./workloads.ts";
 * if (parseWorkloads("readrandom,fillseq").join() !== "fillseq,readrandom") throw new Error("bad");
 * ```
 */
export function parseWorkloads(list: string): string[] {
  const wanted = new Set<string>();
  for (const raw of list.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (!WORKLOAD_NAMES.includes(name)) {
      throw new Error(
        `Unknown benchmark "${name}": expected one of ${
          WORKLOAD_NAMES.join(", ")
        }`,
      );
    }
    wanted.add(name);
  }
  return WORKLOAD_NAMES.filter((n) => wanted.has(n));
}

type MainState = "none" | "open" | "closed";

/**
 * Runs workloads on one engine and reports each as a {@link RunnerLine}.
 *
 * @example Two workloads on SQLite
 * ```ts
 * import { KeySpace } from "./keys.ts";
 * import { WorkloadRunner, type RunnerLine } from "./workloads.ts";
 * const base = await Deno.makeTempDir();
 * const lines: RunnerLine[] = [];
 * const runner = new WorkloadRunner("sqlite", new KeySpace(500, 1), 1, base, (l) => lines.push(l));
 * await runner.runAll(["fillrandom", "readrandom"]);
 * const read = lines.find((l) => l.kind === "result" && l.workload === "readrandom");
 * if (read?.kind !== "result" || read.problem !== undefined) throw new Error("readrandom failed");
 * await Deno.remove(base, { recursive: true });
 * ```
 */
export class WorkloadRunner {
  readonly #engine: EngineName;
  readonly #ks: KeySpace;
  readonly #seed: number;
  readonly #base: string;
  readonly #emit: (line: RunnerLine) => void;
  #main: PeerEngine | undefined;
  #mainState: MainState = "none";
  #mainWrites: string[] = [];
  // Index of the value last written to each key, to check what reads return.
  readonly #lastWrite: Uint32Array;
  #pending: string[] = [];

  /**
   * @param engine Engine to load.
   * @param ks Keys and values.
   * @param seed Seed of the random orders.
   * @param base Empty directory for the databases (removed by the caller).
   * @param emit Receives every result line.
   */
  constructor(
    engine: EngineName,
    ks: KeySpace,
    seed: number,
    base: string,
    emit: (line: RunnerLine) => void,
  ) {
    this.#engine = engine;
    this.#ks = ks;
    this.#seed = seed;
    this.#base = base;
    this.#emit = emit;
    this.#lastWrite = new Uint32Array(ks.num);
  }

  /**
   * Runs the workloads in order; a workload that throws is reported as an
   * error line and the next one runs. Ends with the peak RSS line.
   *
   * @param names Workload names in run order.
   */
  async runAll(names: readonly string[]): Promise<void> {
    const baseline = peakRss();
    const probe = await loadEngine(this.#engine);
    this.#emit({
      kind: "info",
      engine: this.#engine,
      describe: probe.describe,
    });
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      this.#pending = names.slice(i + 1);
      try {
        await this.#run(name);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.#emit({
          kind: "error",
          engine: this.#engine,
          workload: name,
          message,
        });
        // A failed main-database workload leaves it in an unknown state.
        if (this.#main !== undefined) {
          await this.#main.close().catch(() => {});
          this.#main = undefined;
        }
        if (this.#mainState !== "none") this.#mainState = "closed";
      }
    }
    if (this.#main !== undefined) await this.#main.close();
    this.#main = undefined;
    const rss = peakRss();
    if (rss !== undefined) {
      const line: RssLine = { kind: "rss", engine: this.#engine, bytes: rss };
      if (baseline !== undefined) line.baselineBytes = baseline;
      this.#emit(line);
    }
  }

  #run(name: string): Promise<void> {
    switch (name) {
      case "fillseq":
        return this.#fillseq();
      case "fillrandom":
        return this.#fillrandom(true);
      case "overwrite":
        return this.#overwrite();
      case "fillbatch":
        return this.#fillbatch();
      case "fillsync":
        return this.#fillsync(1);
      case "fillsync64":
        return this.#fillsync(SYNC_WRITERS);
      case "readrandom":
        return this.#readrandom(false);
      case "readrandomsync":
        return this.#readrandom(true);
      case "readmissing":
        return this.#readmissing();
      case "readseq":
        return this.#readseq(false);
      case "readreverse":
        return this.#readseq(true);
      case "seekrandom":
        return this.#seekrandom();
      case "deleterandom":
        return this.#deleterandom();
      default:
        throw new Error(`Unknown benchmark "${name}"`);
    }
  }

  #report(
    workload: string,
    ops: number,
    entries: number,
    ms: number,
    problem?: string,
  ): void {
    const info = WORKLOADS.find((w) => w.name === workload)!;
    const seconds = ms / 1000;
    const counted = info.unit === "entries/s" ? entries : ops;
    const line: ResultLine = {
      kind: "result",
      engine: this.#engine,
      workload,
      ops,
      entries,
      seconds,
      rate: seconds > 0 ? counted / seconds : 0,
      microsPerOp: ops > 0 ? (ms * 1000) / ops : 0,
    };
    if (problem !== undefined) line.problem = problem;
    this.#emit(line);
  }

  async #fresh(
    sub: string,
    durable: boolean,
  ): Promise<{ db: PeerEngine; dir: string }> {
    const dir = `${this.#base}/${sub}`;
    await Deno.mkdir(dir);
    const db = await loadEngine(this.#engine);
    await db.open(dir, { durable });
    return { db, dir };
  }

  async #fillseq(): Promise<void> {
    const ks = this.#ks, n = ks.num;
    const { db, dir } = await this.#fresh("fillseq", false);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await db.put(ks.key(i), ks.value(i));
    const ms = performance.now() - t0;
    await db.close();
    this.#report("fillseq", n, n, ms);
    this.#emit({
      kind: "disk",
      engine: this.#engine,
      after: "fillseq",
      bytes: await diskUsage(dir),
    });
    await Deno.remove(dir, { recursive: true });
  }

  async #fillrandom(timed: boolean): Promise<void> {
    const ks = this.#ks, n = ks.num;
    if (this.#main !== undefined) await this.#main.close();
    const main = `${this.#base}/main`;
    await Deno.remove(main, { recursive: true }).catch(() => {});
    const { db } = await this.#fresh("main", false);
    this.#main = db;
    this.#mainState = "open";
    this.#mainWrites = ["fillrandom"];
    const order = shuffledIndices(this.#seed + 1, n);
    const t0 = performance.now();
    for (let j = 0; j < n; j++) await db.put(ks.key(order[j]!), ks.value(j));
    const ms = performance.now() - t0;
    for (let j = 0; j < n; j++) this.#lastWrite[order[j]!] = j;
    if (timed) this.#report("fillrandom", n, n, ms);
    if (!this.#pending.includes("overwrite")) await this.#closeMain();
  }

  async #overwrite(): Promise<void> {
    const db = await this.#openMain();
    const ks = this.#ks, n = ks.num;
    const idx = randomIndices(this.#seed + 2, n, n);
    const t0 = performance.now();
    for (let j = 0; j < n; j++) await db.put(ks.key(idx[j]!), ks.value(n + j));
    const ms = performance.now() - t0;
    for (let j = 0; j < n; j++) this.#lastWrite[idx[j]!] = n + j;
    this.#mainWrites.push("overwrite");
    this.#report("overwrite", n, n, ms);
    await this.#closeMain();
  }

  /** Closes the main database and reports its disk usage. */
  async #closeMain(): Promise<void> {
    await this.#main!.close();
    this.#main = undefined;
    this.#mainState = "closed";
    const bytes = await diskUsage(`${this.#base}/main`);
    this.#emit({
      kind: "disk",
      engine: this.#engine,
      after: this.#mainWrites.join("+"),
      bytes,
    });
  }

  /** The main database, filled (untimed) and reopened as needed. */
  async #openMain(): Promise<PeerEngine> {
    if (this.#mainState === "none") {
      await this.#fillrandom(false);
      if (this.#main !== undefined) return this.#main;
    }
    if (this.#mainState === "closed") {
      const db = await loadEngine(this.#engine);
      await db.open(`${this.#base}/main`, { durable: false });
      this.#main = db;
      this.#mainState = "open";
    }
    return this.#main!;
  }

  async #fillbatch(): Promise<void> {
    const ks = this.#ks, n = ks.num;
    const { db, dir } = await this.#fresh("fillbatch", false);
    const t0 = performance.now();
    for (let i = 0; i < n; i += BATCH_SIZE) {
      const end = Math.min(n, i + BATCH_SIZE);
      const keys: Uint8Array[] = [], values: Uint8Array[] = [];
      for (let k = i; k < end; k++) {
        keys.push(ks.key(k));
        values.push(ks.value(k));
      }
      await db.batch(keys, values);
    }
    const ms = performance.now() - t0;
    await db.close();
    this.#report("fillbatch", n, n, ms);
    await Deno.remove(dir, { recursive: true });
  }

  async #fillsync(writers: number): Promise<void> {
    const ks = this.#ks, n = ks.num;
    const name = writers === 1 ? "fillsync" : "fillsync64";
    const count = WORKLOADS.find((w) => w.name === name)!.count(n);
    const idx = randomIndices(this.#seed + (writers === 1 ? 3 : 4), count, n);
    if (writers === 1) {
      const floor = await measureFsyncFloor(this.#base, count);
      this.#emit({ kind: "floor", engine: this.#engine, ...floor });
    }
    const { db, dir } = await this.#fresh(name, true);
    let next = 0;
    const loop = async () => {
      for (let j = next++; j < count; j = next++) {
        await db.putDurable(ks.key(idx[j]!), ks.value(j));
      }
    };
    const t0 = performance.now();
    if (writers === 1) await loop();
    else await Promise.all(Array.from({ length: writers }, loop));
    const ms = performance.now() - t0;
    await db.close();
    this.#report(name, count, count, ms);
    await Deno.remove(dir, { recursive: true });
  }

  async #readrandom(sync: boolean): Promise<void> {
    const db = await this.#openMain();
    const ks = this.#ks, n = ks.num;
    const idx = randomIndices(this.#seed + (sync ? 9 : 5), n, n);
    const getSync = sync && db.getSync ? db.getSync.bind(db) : undefined;
    let found = 0, wrong = 0;
    const t0 = performance.now();
    for (let j = 0; j < n; j++) {
      const k = idx[j]!;
      const v = getSync ? getSync(ks.key(k)) : await db.get(ks.key(k));
      if (v === undefined) continue;
      found++;
      // Checking every 64th value keeps the check honest and off the clock.
      if ((j & 63) === 0 && !equalBytes(v, ks.value(this.#lastWrite[k]!))) {
        wrong++;
      }
    }
    const ms = performance.now() - t0;
    const problem = found !== n
      ? `found ${found} of ${n} keys`
      : wrong > 0
      ? `${wrong} sampled values were wrong`
      : undefined;
    this.#report(sync ? "readrandomsync" : "readrandom", n, found, ms, problem);
  }

  async #readmissing(): Promise<void> {
    const db = await this.#openMain();
    const ks = this.#ks, n = ks.num;
    const idx = randomIndices(this.#seed + 6, n, n);
    let found = 0;
    const t0 = performance.now();
    for (let j = 0; j < n; j++) {
      if ((await db.get(ks.missingKey(idx[j]!))) !== undefined) found++;
    }
    const ms = performance.now() - t0;
    this.#report(
      "readmissing",
      n,
      0,
      ms,
      found > 0 ? `found ${found} absent keys` : undefined,
    );
  }

  async #readseq(reverse: boolean): Promise<void> {
    const db = await this.#openMain();
    const n = this.#ks.num;
    let bytes = 0;
    const visit = (_k: Uint8Array, v: Uint8Array) => {
      bytes += v.length;
    };
    const t0 = performance.now();
    const count = await db.scan(undefined, reverse, n * 2, visit);
    const ms = performance.now() - t0;
    const problem = count !== n
      ? `scanned ${count} of ${n} entries`
      : bytes !== n * this.#ks.value(0).length
      ? `scanned ${bytes} value bytes`
      : undefined;
    this.#report(reverse ? "readreverse" : "readseq", 1, count, ms, problem);
  }

  async #seekrandom(): Promise<void> {
    const db = await this.#openMain();
    const ks = this.#ks, n = ks.num;
    const seeks = WORKLOADS.find((w) => w.name === "seekrandom")!.count(n);
    const idx = randomIndices(this.#seed + 7, seeks, n);
    let expected = 0;
    for (let j = 0; j < seeks; j++) {
      expected += Math.min(SEEK_NEXTS, n - idx[j]!);
    }
    let bytes = 0;
    const visit = (_k: Uint8Array, v: Uint8Array) => {
      bytes += v.length;
    };
    let entries = 0;
    const t0 = performance.now();
    for (let j = 0; j < seeks; j++) {
      entries += await db.scan(ks.key(idx[j]!), false, SEEK_NEXTS, visit);
    }
    const ms = performance.now() - t0;
    const problem = entries !== expected
      ? `read ${entries} entries, expected ${expected}`
      : undefined;
    this.#report("seekrandom", seeks, entries, ms, problem);
  }

  async #deleterandom(): Promise<void> {
    const db = await this.#openMain();
    const ks = this.#ks, n = ks.num;
    const order = shuffledIndices(this.#seed + 8, n);
    const t0 = performance.now();
    for (let j = 0; j < n; j++) await db.delete(ks.key(order[j]!));
    const ms = performance.now() - t0;
    let left = 0;
    for (let j = 0; j < Math.min(n, 100); j++) {
      if ((await db.get(ks.key(order[j]!))) !== undefined) left++;
    }
    this.#report(
      "deleterandom",
      n,
      n,
      ms,
      left > 0 ? `${left} of 100 deleted keys still readable` : undefined,
    );
    // The main database is empty now: later reads would need a new fill.
    await this.#main!.close();
    this.#main = undefined;
    this.#mainState = "none";
  }
}
