/**
 * The small interface every engine of the peer benchmark implements, and the
 * loader that maps an engine name to its adapter. Each method may return a
 * plain value or a promise: the workloads `await` every call either way,
 * because that is what a Deno program does.
 *
 * @module
 */

/** Engines the peer benchmark knows. */
export const ENGINE_NAMES = [
  "strata",
  "sqlite",
  "denokv",
  "leveldb",
  "lmdb",
] as const;
/** One of {@link ENGINE_NAMES}. */
export type EngineName = typeof ENGINE_NAMES[number];
/** Engines that run unless `--engines` says otherwise. */
export const DEFAULT_ENGINES: readonly EngineName[] = [
  "strata",
  "sqlite",
  "denokv",
];
/** Engines `--optional` adds (native npm packages). */
export const OPTIONAL_ENGINES: readonly EngineName[] = ["leveldb", "lmdb"];

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** How a benchmark database is opened. */
export interface PeerOpenOptions {
  /**
   * The database will only see durable writes (`putDurable`). Engines whose
   * durability is a property of the connection (SQLite's `synchronous`,
   * LMDB's `noSync`) switch it here; the others ignore it.
   */
  durable: boolean;
}

/** The operations the db_bench workloads need from an engine. */
export interface PeerEngine {
  /** Engine name as used on the command line. */
  readonly name: EngineName;
  /** One-line description: library, version, settings. */
  readonly describe: string;
  /**
   * Opens (creating it) the database in the empty directory `dir`.
   *
   * @param dir Directory that holds the database files.
   * @param options Durability mode.
   */
  open(dir: string, options: PeerOpenOptions): Promise<void>;
  /** Writes one entry; durable against a process crash, not power loss. */
  put(key: Uint8Array, value: Uint8Array): MaybePromise<void>;
  /** Writes one entry that survives power loss once the call resolves. */
  putDurable(key: Uint8Array, value: Uint8Array): MaybePromise<void>;
  /** Writes all entries atomically (keys[i] gets values[i]). */
  batch(keys: Uint8Array[], values: Uint8Array[]): MaybePromise<void>;
  /** Reads one value; `undefined` when absent. */
  get(key: Uint8Array): MaybePromise<Uint8Array | undefined>;
  /**
   * The engine's synchronous read, when it has one (Strata's `getSync`,
   * LMDB's and SQLite's `get`, classic-level's `getSync`): what the
   * readrandomsync workload calls without an `await`.
   */
  getSync?(key: Uint8Array): Uint8Array | undefined;
  /** Deletes one key (absent keys are fine). */
  delete(key: Uint8Array): MaybePromise<void>;
  /**
   * Iterates in key order from `from` (inclusive; the first or last key when
   * undefined), backwards when `reverse`, calling `visit` for at most `limit`
   * entries.
   *
   * @returns How many entries were visited.
   */
  scan(
    from: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
    visit: (key: Uint8Array, value: Uint8Array) => void,
  ): MaybePromise<number>;
  /** Closes the database; its files stay. */
  close(): Promise<void>;
}

/**
 * Loads the adapter of an engine. Adapters are imported lazily, so running
 * one engine never loads (or downloads) another's library.
 *
 * @param name Engine name.
 * @returns A new, unopened engine.
 *
 * @example
 * ```ts
 * import { loadEngine } from "./engine.ts";
 * const engine = await loadEngine("sqlite");
 * const dir = await Deno.makeTempDir();
 * await engine.open(dir, { durable: false });
 * await engine.put(new Uint8Array([1]), new Uint8Array([2]));
 * if ((await engine.get(new Uint8Array([1])))?.[0] !== 2) throw new Error("lost");
 * await engine.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadEngine(name: EngineName): Promise<PeerEngine> {
  switch (name) {
    case "strata":
      return new (await import("./strata.ts")).StrataEngine();
    case "sqlite":
      return new (await import("./sqlite.ts")).SqliteEngine();
    case "denokv":
      return new (await import("./denokv.ts")).DenoKvEngine();
    case "leveldb":
      return new (await import("./leveldb.ts")).LevelDbEngine();
    case "lmdb":
      return new (await import("./lmdb.ts")).LmdbEngine();
  }
}

/**
 * Parses a comma-separated list of engine names.
 *
 * @param list Names such as `"strata,sqlite"`.
 * @returns The engines, in the given order, without duplicates.
 * @throws {Error} When a name is unknown.
 *
 * @example
 * ```ts
 * import { parseEngines } from "./engine.ts";
 * if (parseEngines("sqlite,strata").join() !== "sqlite,strata") throw new Error("bad");
 * ```
 */
export function parseEngines(list: string): EngineName[] {
  const out: EngineName[] = [];
  for (const raw of list.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `Unknown engine "${name}": expected one of ${ENGINE_NAMES.join(", ")}`,
      );
    }
    if (!out.includes(name as EngineName)) out.push(name as EngineName);
  }
  return out;
}
