/**
 * The directory lock: one process, one writer. `LOCK` in the database
 * directory is held with `flock(LOCK_EX | LOCK_NB)` for as long as the
 * database is open.
 *
 * Why flock: the kernel drops it when the holder's file is closed, which
 * includes the holder dying (even by SIGKILL), so a crash leaves no stale
 * lock. It belongs to the open file, not the process, so a second handle
 * in the same process is refused too; and it is keyed by inode, so every
 * spelling of the path (relative, absolute, through a symlink) meets the
 * same lock.
 *
 * The file holds the pid of the holder (decimal, then a newline) so that a
 * refused opener can say who holds it. It is never deleted: unlinking a
 * lock file lets a late opener lock the orphaned inode while a third opens
 * a fresh one, and then two processes both "hold" the lock.
 *
 * @module
 */

import { join } from "node:path";
import { diskFs } from "../fs/disk_fs.ts";
import { type FileLock, type Fs, isNotFound } from "../fs/fs.ts";
import { IOError, LockedError, NotFoundError } from "../util/errors.ts";

/** Name of the lock file inside a database directory. */
export const LOCK_FILE_NAME = "LOCK";

/**
 * An exclusive lock on a database directory, held until
 * {@link DirectoryLock.release} (or until the process exits).
 *
 * @example Lock, be refused, release
 * ```ts
 * import assert from "node:assert/strict";
 * import { DirectoryLock } from "./lock.ts";
 * import { LockedError } from "../util/errors.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = DirectoryLock.acquire(dir);
 * assert.throws(() => DirectoryLock.acquire(dir), LockedError);
 * lock.release();
 * DirectoryLock.acquire(dir).release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirectoryLock {
  readonly #dir: string;
  #lock: FileLock | null;

  private constructor(dir: string, lock: FileLock) {
    this.#dir = dir;
    this.#lock = lock;
  }

  /**
   * Locks `dir` (creating `dir/LOCK` if needed) and records this process's
   * pid in the lock file. Never blocks.
   *
   * @param dir The database directory; it must exist.
   * @param fs The filesystem (the real one by default).
   * @returns The held lock.
   * @throws {LockedError} When another handle, in this or another process,
   * holds the lock; the message names the holder's pid when known.
   * @throws {NotFoundError} When `dir` does not exist.
   * @throws {IOError} When the lock file cannot be opened or written.
   *
   * @example The error names the holder
   * ```ts
   * import assert from "node:assert/strict";
   * import { DirectoryLock } from "./lock.ts";
   * const dir = await Deno.makeTempDir();
   * using _lock = DirectoryLock.acquire(dir);
   * assert.throws(
   *   () => DirectoryLock.acquire(dir),
   *   new RegExp(`locked by process ${Deno.pid}`),
   * );
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static acquire(dir: string, fs: Fs = diskFs): DirectoryLock {
    const path = join(dir, LOCK_FILE_NAME);
    let result;
    try {
      result = fs.lock(path, `${Deno.pid}\n`);
    } catch (err) {
      if (isNotFound(err)) {
        throw new NotFoundError(
          `Cannot lock database "${dir}": the directory does not exist`,
        );
      }
      throw new IOError("lock", path, err);
    }
    if ("release" in result) return new DirectoryLock(dir, result);
    const text = result.holder?.trim() ?? "";
    const pid = /^\d{1,10}$/.test(text) ? Number(text) : undefined;
    const who = pid === undefined
      ? "another process"
      : pid === Deno.pid
      ? `process ${pid} (this process)`
      : `process ${pid}`;
    throw new LockedError(
      `Cannot open database "${dir}": it is locked by ${who}`,
    );
  }

  /** The directory this lock holds, as passed to {@link DirectoryLock.acquire}. */
  get dir(): string {
    return this.#dir;
  }

  /** True until {@link DirectoryLock.release}. */
  get held(): boolean {
    return this.#lock !== null;
  }

  /**
   * Releases the lock. Calling it again does nothing. The pid stays in the
   * file; it only matters while the lock is held.
   *
   * @example Release twice
   * ```ts
   * import assert from "node:assert/strict";
   * import { DirectoryLock } from "./lock.ts";
   * const dir = await Deno.makeTempDir();
   * const lock = DirectoryLock.acquire(dir);
   * lock.release();
   * lock.release();
   * assert(!lock.held);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  release(): void {
    const lock = this.#lock;
    if (lock === null) return;
    this.#lock = null;
    lock.release();
  }

  /** Same as {@link DirectoryLock.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
