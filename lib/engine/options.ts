/**
 * Open options: their defaults, and the validation that turns whatever a
 * caller passed into a complete, checked set.
 *
 * @module
 */

import { diskFs } from "../fs/disk_fs.ts";
import type { Fs } from "../fs/fs.ts";
import type { ValueExpiry } from "../compaction/compaction.ts";
import type { Compression } from "../sstable/sstable_writer.ts";
import { InvalidArgumentError } from "../util/errors.ts";

/**
 * Options of `DB.open`. Every field is optional; the defaults are in
 * brackets.
 */
export interface OpenOptions {
  /** Create the database when the directory holds none [true]. */
  createIfMissing?: boolean;
  /** Fail with `ExistsError` when a database exists already [false]. */
  errorIfExists?: boolean;
  /** Serve reads only; every write is refused [false]. */
  readOnly?: boolean;
  /** Default `sync` of writes that do not say [false]. */
  sync?: boolean;
  /** Bytes of memtable that trigger a flush to a level-0 table [4 MiB]. */
  memtableSize?: number;
  /** Target size of an SSTable data block [4096]. */
  blockSize?: number;
  /** Bloom filter bits per key; 0 disables filters [10]. */
  bloomBitsPerKey?: number;
  /**
   * How new tables store their data blocks ["lz4"]: "lz4" compresses each
   * block that shrinks by at least 1/8 (random values stay raw, so they
   * cost nothing to read), "none" stores every block raw. Tables written
   * either way read the same, so the option may change between opens.
   */
  compression?: Compression;
  /**
   * Bytes of blocks the shared LRU cache keeps [32 MiB, like RocksDB; the
   * contract asks for 8 MiB or more].
   */
  blockCacheSize?: number;
  /** Level-0 files that start a compaction into level 1 [4]. */
  l0CompactionTrigger?: number;
  /** Growth factor from one level's target size to the next [10]. */
  levelSizeMultiplier?: number;
  /**
   * Run flushes and compactions on the process's background Worker, on
   * another core [true]; false runs them on the main thread, in slices of
   * a few milliseconds. A database on a filesystem other than the real one
   * (`MemFs`, `StrictFs`) always runs them on the main thread: a Worker
   * cannot see that memory.
   */
  backgroundWorker?: boolean;
  /**
   * `close()` writes the memtables to a level-0 table [true], so the next
   * open replays no log and starts on a settled tree; false leaves them in
   * their WALs for the next open to replay (a faster close, as LevelDB's).
   */
  flushOnClose?: boolean;
  /**
   * The filesystem the database lives on [the real one]. `MemFs` keeps it
   * in memory (`DB.open(":memory:")` makes a fresh one itself); `StrictFs`
   * remembers what was synced and can simulate power loss, for tests.
   */
  fs?: Fs;
  /**
   * Entries that carry an expiry time [none]: for keys that start with
   * `keyPrefix`, the 8 bytes at `offset` of the value are a time in
   * milliseconds since the epoch (unsigned, little-endian; 0: never) after
   * which compaction drops the entry (as if deleted). Reads do not look at
   * it: the layer that writes such values filters them (`openKv` does, for
   * `expireIn`).
   */
  valueExpiry?: ValueExpiry | null;
}

/** {@link OpenOptions} with every field present. */
export type ResolvedOptions = Required<OpenOptions>;

const MiB = 1024 * 1024;

/** The defaults of every open option. */
export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  createIfMissing: true,
  errorIfExists: false,
  readOnly: false,
  sync: false,
  memtableSize: 4 * MiB,
  blockSize: 4096,
  bloomBitsPerKey: 10,
  compression: "lz4",
  blockCacheSize: 32 * MiB,
  l0CompactionTrigger: 4,
  levelSizeMultiplier: 10,
  backgroundWorker: true,
  flushOnClose: true,
  fs: diskFs,
  valueExpiry: null,
});

// Inclusive ranges. The bounds keep a database usable (a 1 KiB memtable is
// silly but works, which tests rely on) and the numbers exact.
const RANGES: Record<string, [number, number]> = {
  memtableSize: [1024, 1024 * MiB],
  blockSize: [256, 4 * MiB],
  bloomBitsPerKey: [0, 64],
  blockCacheSize: [0, 64 * 1024 * MiB],
  l0CompactionTrigger: [1, 64],
  levelSizeMultiplier: [2, 1000],
};

/**
 * Checks caller-supplied options and fills in the defaults.
 *
 * @param options What the caller passed (may be `undefined`).
 * @returns The complete options.
 * @throws {InvalidArgumentError} On an unknown key, a wrong type or an
 * out-of-range number, naming the option and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOptions } from "./options.ts";
 * const options = resolveOptions({ memtableSize: 64 * 1024 });
 * assert(options.blockSize === 4096);
 * ```
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) return { ...DEFAULT_OPTIONS };
  if (
    options === null || typeof options !== "object" || Array.isArray(options)
  ) {
    throw new InvalidArgumentError(
      `Invalid options ${describe(options)}: expected an object`,
    );
  }
  const out: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const [name, value] of Object.entries(options)) {
    if (!(name in DEFAULT_OPTIONS)) {
      throw new InvalidArgumentError(`Unknown option "${name}"`);
    }
    if (value === undefined) continue;
    if (name === "fs") {
      out.fs = checkFs(value);
      continue;
    }
    if (name === "valueExpiry") {
      out.valueExpiry = checkValueExpiry(value);
      continue;
    }
    if (name === "compression") {
      if (value !== "lz4" && value !== "none") {
        throw new InvalidArgumentError(
          `Invalid option "compression": ${
            describe(value)
          } is not "lz4" or "none"`,
        );
      }
      out.compression = value;
      continue;
    }
    const expected = typeof DEFAULT_OPTIONS[name as keyof ResolvedOptions];
    if (expected === "boolean") {
      if (typeof value !== "boolean") {
        throw new InvalidArgumentError(
          `Invalid option "${name}": ${describe(value)} is not a boolean`,
        );
      }
    } else {
      const [min, max] = RANGES[name]!;
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new InvalidArgumentError(
          `Invalid option "${name}": ${describe(value)} is not an integer`,
        );
      }
      if (value < min || value > max) {
        throw new InvalidArgumentError(
          `Invalid option "${name}": ${value} is outside ${min}..${max}`,
        );
      }
    }
    out[name] = value;
  }
  return out as ResolvedOptions;
}

const FS_METHODS = [
  "create",
  "createSync",
  "openAppend",
  "openOverwrite",
  "openReadable",
  "readFile",
  "rename",
  "remove",
  "removeSync",
  "list",
  "listSync",
  "stat",
  "mkdir",
  "syncDir",
  "lock",
  "lockShared",
] as const;

function checkValueExpiry(value: unknown): ValueExpiry | null {
  if (value === null) return null;
  const v = value as Partial<ValueExpiry> | null;
  if (
    typeof value !== "object" || !(v?.keyPrefix instanceof Uint8Array) ||
    !Number.isSafeInteger(v.offset) || v.offset! < 0
  ) {
    throw new InvalidArgumentError(
      `Invalid option "valueExpiry": ${
        describe(value)
      } is not { keyPrefix: Uint8Array, offset: integer >= 0 }`,
    );
  }
  return { keyPrefix: v.keyPrefix.slice(), offset: v.offset! };
}

function checkFs(value: unknown): Fs {
  const missing = FS_METHODS.find((m) =>
    typeof (value as Record<string, unknown> | null)?.[m] !== "function"
  );
  if (missing !== undefined) {
    throw new InvalidArgumentError(
      `Invalid option "fs": ${
        describe(value)
      } is not a filesystem (it has no ${missing} method)`,
    );
  }
  return value as Fs;
}

/**
 * Renders a value for an error message: strings quoted, short and safe.
 *
 * @param value Anything a caller passed.
 * @returns A short printable description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describe } from "./options.ts";
 * assert(describe("x") === '"x"');
 * ```
 */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  if (typeof value === "function") return "a function";
  return String(value);
}
