/**
 * Strata: a log-structured merge-tree key–value store for Deno, in pure
 * TypeScript. Durable (checksummed WAL, group commit, crash recovery), fast
 * (skip-list memtable, bloom filters, block cache, leveled compaction) and
 * easy to inspect (`strata dump`, `strata verify`).
 *
 * @example Open, write, read, scan
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await using db = await DB.open(dir);
 * await db.put("user:1", "Ada");
 * await db.write(db.batch().put("user:2", "Grace").delete("user:3"), { sync: true });
 * const value = await db.get("user:1"); // Uint8Array of "Ada"
 * assert(new TextDecoder().decode(value) === "Ada");
 * for await (const { key, value } of db.scan({ prefix: "user:" })) {
 *   console.log(new TextDecoder().decode(key), new TextDecoder().decode(value));
 * }
 * ```
 *
 * @module
 */

export {
  type CheckpointOptions,
  type CheckpointProgress,
  type CheckpointReport,
  type CompactionProgress,
  type CompactOptions,
  DB,
  type DBStats,
  type Entry,
  type LevelStats,
  type LifetimeStats,
  type ReadOptions,
  type RecoveryReport,
  type ScanOptions,
  type WriteOptions,
} from "./lib/engine/db.ts";
export {
  DEFAULT_OPTIONS,
  type OpenOptions,
  type ResolvedOptions,
} from "./lib/engine/options.ts";
export type { ValueExpiry } from "./lib/compaction/compaction.ts";
export type { Compression } from "./lib/sstable/sstable_writer.ts";
export {
  type BatchOp,
  type Bytes,
  WriteBatch,
} from "./lib/engine/write_batch.ts";
export {
  type EntryType,
  TYPE_DELETE,
  TYPE_PUT,
} from "./lib/iterator/internal_key.ts";
export { TYPE_RANGE_DELETE, type WalEntryType } from "./lib/wal/wal.ts";
export { Snapshot } from "./lib/engine/snapshot.ts";
export {
  ClosedError,
  CorruptionError,
  ExistsError,
  InvalidArgumentError,
  IOError,
  LockedError,
  NotFoundError,
  StrataError,
} from "./lib/util/errors.ts";
export {
  verifyDatabase,
  type VerifyProblem,
  type VerifyReport,
} from "./lib/tools/verify.ts";
export {
  repairDatabase,
  type RepairOptions,
  type RepairReport,
} from "./lib/tools/repair.ts";
export { openKv, type OpenKvOptions } from "./lib/kv/open_kv.ts";
export { Kv, KvListIterator } from "./lib/kv/kv.ts";
export { AtomicOperation } from "./lib/kv/kv_atomic.ts";
export { KvU64 } from "./lib/kv/kv_u64.ts";
export { MemFs } from "./lib/fs/mem_fs.ts";
export { StrictFs } from "./lib/fs/strict_fs.ts";
export type {
  CallObserver,
  CrashOptions,
  FsCall,
  InjectedFailure,
  Injection,
} from "./lib/fs/strict_fs.ts";
export type {
  FileInfo,
  FileLock,
  Fs,
  LockRefusal,
  ReadableFile,
  WritableFile,
} from "./lib/fs/fs.ts";
