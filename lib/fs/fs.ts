/**
 * The filesystem seam: every file operation of the engine goes through one
 * small {@link Fs}, as LevelDB's `Env` and Pebble's `vfs.FS`. The default,
 * {@link diskFs} (lib/fs/disk_fs.ts), is the real filesystem; `MemFs` keeps
 * a database in memory (`DB.open(":memory:")`); `StrictFs` remembers what
 * was synced and can simulate power loss and inject disk errors.
 *
 * The calls are the few the engine needs, each with the cost it has on the
 * real filesystem in mind: appends and positional reads are synchronous
 * (a `writeSync` or `pread` costs less than a promise), syncs are async so
 * that concurrent writers queue behind one (group commit).
 *
 * Errors: implementations throw what Deno throws for the same condition
 * (`Deno.errors.NotFound`, `Deno.errors.AlreadyExists`), and for other
 * failures an `Error` whose `code` is the errno name (`"ENOSPC"`, `"EIO"`),
 * so the engine handles every filesystem alike.
 *
 * @module
 */

/** What {@link Fs.stat} reports. */
export interface FileInfo {
  /** Bytes in the file (0 for a directory). */
  size: number;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
}

/** A file opened for positional reads ({@link Fs.openReadable}). */
export interface ReadableFile {
  /** Bytes in the file when it was opened. */
  readonly size: number;
  /**
   * Reads up to `length` bytes at file offset `position` into
   * `buf[offset, offset + length)` (one `pread`).
   *
   * @returns Bytes read; fewer than asked at the end of the file.
   */
  readAt(
    buf: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
  /** Releases the file. */
  close(): void;
}

/**
 * A file opened for writing ({@link Fs.create}, {@link Fs.openAppend},
 * {@link Fs.openOverwrite}).
 */
export interface WritableFile {
  /**
   * Writes bytes at the file position and moves it past them (one
   * `write`): at the end of the file for {@link Fs.create} and
   * {@link Fs.openAppend}, over the old bytes from offset 0 for
   * {@link Fs.openOverwrite}. The bytes are the OS's (they survive a crash
   * of the process) once it returns.
   *
   * @returns Bytes written, which may be fewer than asked (a short write).
   */
  write(bytes: Uint8Array): number;
  /**
   * Writes all of `bytes` at file offset `position` (past the end grows
   * the file, a gap reading as zeros), leaving the file position where it
   * was: a WAL fills the space ahead of its records with zeros this way.
   */
  writeAt(bytes: Uint8Array, position: number): void;
  /** Cuts (or extends with zeros) the file to `size` bytes. */
  truncate(size: number): void;
  /** Makes every byte written so far durable (`fdatasync`). */
  syncData(): Promise<void>;
  /**
   * {@link WritableFile.syncData} on this thread, blocking it: cheaper
   * for a lone durable writer, who has nothing else to do meanwhile.
   */
  syncDataSync(): void;
  /** Releases the file. */
  close(): void;
}

/** A held lock on a file ({@link Fs.lock}). */
export interface FileLock {
  /** Releases the lock. */
  release(): void;
}

/** What {@link Fs.lock} returns when another holder has the lock. */
export interface LockRefusal {
  /** What the holder wrote into the lock file (its pid), when readable. */
  holder: string | undefined;
}

/**
 * The file operations of a Strata database. Paths are absolute; `/` is the
 * separator.
 *
 * @example Write, sync, list and read a file on the real disk
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskFs } from "./disk_fs.ts";
 * import type { Fs } from "./fs.ts";
 * const fs: Fs = diskFs;
 * const dir = await Deno.makeTempDir();
 * const file = await fs.create(`${dir}/a.log`);
 * file.write(new Uint8Array([1, 2, 3]));
 * await file.syncData();
 * file.close();
 * await fs.syncDir(dir);
 * assert.deepEqual(await fs.list(dir), ["a.log"]);
 * assert.deepEqual(fs.readFile(`${dir}/a.log`), new Uint8Array([1, 2, 3]));
 * await fs.removeAll(dir);
 * ```
 */
export interface Fs {
  /** What this filesystem is, for messages: `"disk"`, `"memory"`, `"strict"`. */
  readonly kind: string;
  /**
   * Creates a new, empty file for appending; fails with
   * `Deno.errors.AlreadyExists` when `path` exists. The caller syncs the
   * directory to make the new name durable.
   */
  create(path: string): Promise<WritableFile>;
  /** {@link Fs.create}, synchronously (a table writer's first step). */
  createSync(path: string): WritableFile;
  /**
   * Opens an existing file for appending at its end, first cutting it to
   * `truncateTo` bytes when given (a manifest dropping a torn tail).
   */
  openAppend(path: string, truncateTo?: number): Promise<WritableFile>;
  /**
   * Opens an existing file to write over its bytes from offset 0, keeping
   * them until they are overwritten (a WAL recycling an old log file).
   */
  openOverwrite(path: string): Promise<WritableFile>;
  /** Opens an existing file for positional reads. */
  openReadable(path: string): ReadableFile;
  /** The whole content of a file. */
  readFile(path: string): Uint8Array;
  /**
   * Replaces `to` with `from` atomically. The caller syncs the directory to
   * make the rename durable.
   */
  rename(from: string, to: string): Promise<void>;
  /**
   * Gives the file `from` a second name `to` (a hard link): both names
   * reach the same bytes. Fails when `to` exists, and (EXDEV) when the two
   * are on different filesystems.
   */
  link(from: string, to: string): Promise<void>;
  /** Removes a file; `Deno.errors.NotFound` when there is none. */
  remove(path: string): Promise<void>;
  /** {@link Fs.remove}, synchronously. */
  removeSync(path: string): void;
  /** Removes a directory and everything in it (tools and tests). */
  removeAll(path: string): Promise<void>;
  /** Names of the entries of a directory, in no particular order. */
  list(dir: string): Promise<string[]>;
  /** {@link Fs.list}, synchronously. */
  listSync(dir: string): string[];
  /** Size and kind of `path`, or `undefined` when nothing is there. */
  stat(path: string): FileInfo | undefined;
  /** Creates a directory and its missing parents. */
  mkdir(dir: string): Promise<void>;
  /** Makes the creations, renames and removals in `dir` durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Takes an exclusive lock on the file `path` (creating it), without
   * waiting, and writes `holder` into it. A lock belongs to its handle:
   * a second lock of the same file, from this process or another, is
   * refused until {@link FileLock.release}, or until the holder dies.
   *
   * @returns The lock, or a refusal naming what the holder wrote.
   */
  lock(path: string, holder: string): FileLock | LockRefusal;
  /**
   * Takes a shared lock on the file `path`, without waiting: refused while
   * someone holds the exclusive {@link Fs.lock}, and it keeps anyone from
   * taking that lock until released. A missing file is not locked by
   * anyone: the lock is granted and guards nothing.
   *
   * @returns The lock, or a refusal.
   */
  lockShared(path: string): FileLock | LockRefusal;
}

/**
 * Whether `err` says that a file does not exist.
 *
 * @param err A caught error.
 * @returns True for `Deno.errors.NotFound` and `ENOENT`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNotFound } from "./fs.ts";
 * assert(isNotFound(new Deno.errors.NotFound("gone")));
 * assert(!isNotFound(new Error("other")));
 * ```
 */
export function isNotFound(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound ||
    (err as { code?: string } | null)?.code === "ENOENT";
}

/**
 * Whether `err` says that a file exists already.
 *
 * @param err A caught error.
 * @returns True for `Deno.errors.AlreadyExists` and `EEXIST`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAlreadyExists } from "./fs.ts";
 * assert(isAlreadyExists(new Deno.errors.AlreadyExists("there")));
 * ```
 */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof Deno.errors.AlreadyExists ||
    (err as { code?: string } | null)?.code === "EEXIST";
}

/**
 * Writes all of `bytes`, looping over short writes.
 *
 * @param file The file.
 * @param bytes What to append.
 * @throws What the file throws; a write that makes no progress is an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeAll } from "./fs.ts";
 * import { MemFs } from "./mem_fs.ts";
 * const fs = new MemFs();
 * const file = fs.createSync("/a");
 * writeAll(file, new Uint8Array(10));
 * assert.equal(fs.stat("/a")?.size, 10);
 * ```
 */
export function writeAll(file: WritableFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const n = file.write(off === 0 ? bytes : bytes.subarray(off));
    if (n <= 0) throw new Error("write made no progress");
    off += n;
  }
}

/**
 * Reads up to `length` bytes at `position`, looping over short reads.
 *
 * @param file The file.
 * @param buf Destination.
 * @param offset Where in `buf` the bytes go.
 * @param length Bytes wanted.
 * @param position File offset.
 * @returns Bytes read: fewer than `length` only at the end of the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFully, writeAll } from "./fs.ts";
 * import { MemFs } from "./mem_fs.ts";
 * const fs = new MemFs();
 * writeAll(fs.createSync("/a"), new Uint8Array([1, 2, 3]));
 * const buf = new Uint8Array(8);
 * assert.equal(readFully(fs.openReadable("/a"), buf, 0, 8, 1), 2);
 * ```
 */
export function readFully(
  file: ReadableFile,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): number {
  let done = 0;
  while (done < length) {
    const n = file.readAt(buf, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
