/**
 * A filesystem in memory behind the {@link Fs} seam: what
 * `DB.open(":memory:")` runs on, and the base of `StrictFs`. It behaves as
 * a POSIX filesystem does for the calls the engine makes: names live in
 * directories and point at files (inodes), a removed file stays readable
 * through handles still open on it, a rename replaces its target
 * atomically, a lock belongs to the handle that took it. Nothing is
 * persisted: the data lives as long as the `MemFs` object.
 *
 * Everything is synchronous underneath; the async calls resolve at once.
 *
 * @module
 */

import type {
  FileInfo,
  FileLock,
  Fs,
  LockRefusal,
  ReadableFile,
  WritableFile,
} from "./fs.ts";

/** A file's bytes and lock, shared by every name and handle that reach it. */
export class MemInode {
  /** Capacity-doubling storage; bytes past {@link MemInode.size} are spare. */
  data: Uint8Array;
  /** Bytes in the file. */
  size: number;
  /** The handle holding the exclusive lock, if any. */
  lockedBy: object | undefined = undefined;
  /** Shared locks held. */
  sharedLocks = 0;

  /**
   * @param data Initial content (kept, not copied).
   */
  constructor(data: Uint8Array = new Uint8Array(0)) {
    this.data = data;
    this.size = data.length;
  }

  /** The file's bytes (a view: valid until the next write). */
  bytes(): Uint8Array {
    return this.data.subarray(0, this.size);
  }

  /** Appends bytes, growing the storage by doubling. */
  append(bytes: Uint8Array): void {
    const need = this.size + bytes.length;
    if (need > this.data.length) {
      const grown = new Uint8Array(Math.max(need, this.data.length * 2, 256));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    this.data.set(bytes, this.size);
    this.size = need;
  }

  /**
   * Writes `bytes` at `position`, growing the file (a gap reads as zeros)
   * when they reach past its end.
   */
  writeAt(bytes: Uint8Array, position: number): void {
    const end = position + bytes.length;
    if (end > this.size) this.truncate(end);
    this.data.set(bytes, position);
  }

  /** Cuts (or extends with zeros) the file to `size` bytes. */
  truncate(size: number): void {
    if (size > this.data.length) {
      const grown = new Uint8Array(Math.max(size, this.data.length * 2, 256));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    } else if (size > this.size) {
      this.data.fill(0, this.size, size);
    }
    this.size = size;
  }
}

/** A directory: names to files or subdirectories. */
export class MemDir {
  /** The entries, by name. */
  readonly entries: Map<string, MemInode | MemDir> = new Map();
}

/** Splits an absolute path into its parent directory and last name. */
export function splitPath(path: string): [string, string] {
  const p = normalize(path);
  const i = p.lastIndexOf("/");
  return [i <= 0 ? "/" : p.slice(0, i), p.slice(i + 1)];
}

function normalize(path: string): string {
  let p = path.replace(/\/+/g, "/");
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  if (!p.startsWith("/")) p = "/" + p;
  return p;
}

function notFound(op: string, path: string): Error {
  return new Deno.errors.NotFound(
    `No such file or directory (os error 2): ${op} '${path}'`,
  );
}

function exists(op: string, path: string): Error {
  return new Deno.errors.AlreadyExists(
    `File exists (os error 17): ${op} '${path}'`,
  );
}

/**
 * An in-memory filesystem (see the module documentation).
 *
 * @example A file survives as long as the MemFs
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemFs } from "./mem_fs.ts";
 * const fs = new MemFs();
 * await fs.mkdir("/db");
 * const file = await fs.create("/db/000001.log");
 * file.write(new TextEncoder().encode("hello"));
 * await file.syncData();
 * file.close();
 * await fs.rename("/db/000001.log", "/db/CURRENT");
 * assert.equal(new TextDecoder().decode(fs.readFile("/db/CURRENT")), "hello");
 * assert.deepEqual(await fs.list("/db"), ["CURRENT"]);
 * ```
 */
export class MemFs implements Fs {
  /** `"memory"` (or a subclass's kind). */
  readonly kind: string = "memory";
  /** @internal The root directory (for `StrictFs`). */
  protected root: MemDir;

  /**
   * Makes a filesystem whose content is `root`, which it then owns.
   *
   * @param root The tree to serve (a fresh empty one by default).
   */
  constructor(root: MemDir = new MemDir()) {
    this.root = root;
  }

  /** @internal The directory at `path`, or undefined. */
  protected dirAt(path: string): MemDir | undefined {
    let dir = this.root;
    for (const name of normalize(path).split("/")) {
      if (name === "") continue;
      const next = dir.entries.get(name);
      if (!(next instanceof MemDir)) return undefined;
      dir = next;
    }
    return dir;
  }

  /**
   * @internal The parent directory of `path` and its last name; NotFound
   * without one.
   */
  protected parentOf(op: string, path: string): [MemDir, string] {
    const [parent, name] = splitPath(path);
    const dir = this.dirAt(parent);
    if (!dir) throw notFound(op, path);
    return [dir, name];
  }

  /** @internal The file at `path`; NotFound when there is none. */
  protected fileAt(op: string, path: string): MemInode {
    const [dir, name] = this.parentOf(op, path);
    const node = dir.entries.get(name);
    if (!(node instanceof MemInode)) throw notFound(op, path);
    return node;
  }

  /** @internal Hook: a name was linked to `node` in `dir` (create, mkdir). */
  protected linked(
    _dir: MemDir,
    _name: string,
    _node: MemInode | MemDir,
  ): void {}
  /** @internal Hook: a name was removed from `dir`. */
  protected unlinked(_dir: MemDir, _name: string): void {}
  /** @internal Hook: `from` was renamed to `to` in `fromDir` / `toDir`. */
  protected renamed(
    _fromDir: MemDir,
    _from: string,
    _toDir: MemDir,
    _to: string,
    _node: MemInode,
  ): void {}
  /** @internal Hook: a writable handle on `inode` at `path` is needed. */
  protected writable(
    inode: MemInode,
    _path: string,
    position: number,
  ): WritableFile {
    return new MemWritableFile(inode, position);
  }

  /** Creates a new file; `Deno.errors.AlreadyExists` if there is one. */
  create(path: string): Promise<WritableFile> {
    try {
      return Promise.resolve(this.createSync(path));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@link MemFs.create}, synchronously. */
  createSync(path: string): WritableFile {
    const [dir, name] = this.parentOf("open", path);
    if (dir.entries.has(name)) throw exists("open", path);
    const inode = new MemInode();
    dir.entries.set(name, inode);
    this.linked(dir, name, inode);
    return this.writable(inode, path, 0);
  }

  /** Opens an existing file to append to, first cutting it to `truncateTo`. */
  openAppend(path: string, truncateTo?: number): Promise<WritableFile> {
    try {
      const inode = this.fileAt("open", path);
      if (truncateTo !== undefined) this.truncated(inode, truncateTo);
      return Promise.resolve(this.writable(inode, path, inode.size));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Opens an existing file to write over it from offset 0. */
  openOverwrite(path: string): Promise<WritableFile> {
    try {
      const inode = this.fileAt("open", path);
      return Promise.resolve(this.writable(inode, path, 0));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** @internal Hook: cuts `inode` to `size` bytes. */
  protected truncated(inode: MemInode, size: number): void {
    inode.truncate(size);
  }

  /** Opens an existing file for positional reads. */
  openReadable(path: string): ReadableFile {
    return new MemReadableFile(this.fileAt("open", path));
  }

  /** A copy of the whole file. */
  readFile(path: string): Uint8Array {
    return this.fileAt("readfile", path).bytes().slice();
  }

  /** Replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void> {
    try {
      const [fromDir, fromName] = this.parentOf("rename", from);
      const node = fromDir.entries.get(fromName);
      if (!(node instanceof MemInode)) throw notFound("rename", from);
      const [toDir, toName] = this.parentOf("rename", to);
      fromDir.entries.delete(fromName);
      toDir.entries.set(toName, node);
      this.renamed(fromDir, fromName, toDir, toName, node);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Gives the file `from` a second name, `to`. */
  link(from: string, to: string): Promise<void> {
    try {
      const node = this.fileAt("link", from);
      const [toDir, toName] = this.parentOf("link", to);
      if (toDir.entries.has(toName)) throw exists("link", to);
      toDir.entries.set(toName, node);
      this.linked(toDir, toName, node);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Removes a file. */
  remove(path: string): Promise<void> {
    try {
      this.removeSync(path);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Removes a file (or an empty directory), synchronously. */
  removeSync(path: string): void {
    const [dir, name] = this.parentOf("remove", path);
    const node = dir.entries.get(name);
    if (node === undefined) throw notFound("remove", path);
    if (node instanceof MemDir && node.entries.size > 0) {
      throw new Error(`Directory not empty (os error 39): remove '${path}'`);
    }
    dir.entries.delete(name);
    this.unlinked(dir, name);
  }

  /** Removes a directory tree. */
  removeAll(path: string): Promise<void> {
    try {
      const [dir, name] = this.parentOf("remove", path);
      if (!dir.entries.has(name)) throw notFound("remove", path);
      dir.entries.delete(name);
      this.unlinked(dir, name);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The names in a directory. */
  list(dir: string): Promise<string[]> {
    try {
      return Promise.resolve(this.listSync(dir));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The names in a directory, synchronously. */
  listSync(dir: string): string[] {
    const d = this.dirAt(dir);
    if (!d) throw notFound("readdir", dir);
    return [...d.entries.keys()];
  }

  /** Size and kind, or `undefined`. */
  stat(path: string): FileInfo | undefined {
    const p = normalize(path);
    if (p === "/") return { size: 0, isFile: false, isDirectory: true };
    const [parent, name] = splitPath(p);
    const node = this.dirAt(parent)?.entries.get(name);
    if (node === undefined) return undefined;
    return node instanceof MemDir
      ? { size: 0, isFile: false, isDirectory: true }
      : { size: node.size, isFile: true, isDirectory: false };
  }

  /** Creates a directory and its missing parents. */
  mkdir(dir: string): Promise<void> {
    try {
      let at = this.root;
      for (const name of normalize(dir).split("/")) {
        if (name === "") continue;
        let next = at.entries.get(name);
        if (next instanceof MemInode) throw exists("mkdir", dir);
        if (next === undefined) {
          next = new MemDir();
          at.entries.set(name, next);
          this.linked(at, name, next);
        }
        at = next;
      }
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Nothing to make durable in memory. */
  syncDir(dir: string): Promise<void> {
    return this.dirAt(dir)
      ? Promise.resolve()
      : Promise.reject(notFound("open", dir));
  }

  /** Locks the file `path` (creating it) for one holder at a time. */
  lock(path: string, holder: string): FileLock | LockRefusal {
    let inode: MemInode;
    try {
      inode = this.fileAt("open", path);
    } catch {
      const [dir, name] = this.parentOf("open", path);
      inode = new MemInode();
      dir.entries.set(name, inode);
      this.linked(dir, name, inode);
    }
    if (inode.lockedBy !== undefined || inode.sharedLocks > 0) {
      return { holder: new TextDecoder().decode(inode.bytes()) };
    }
    const owner = {};
    inode.lockedBy = owner;
    this.truncated(inode, 0);
    inode.append(new TextEncoder().encode(holder));
    return {
      release() {
        if (inode.lockedBy === owner) inode.lockedBy = undefined;
      },
    };
  }

  /** A shared lock on `path`, refused while the exclusive one is held. */
  lockShared(path: string): FileLock | LockRefusal {
    let inode: MemInode;
    try {
      inode = this.fileAt("open", path);
    } catch {
      return { release() {} };
    }
    if (inode.lockedBy !== undefined) {
      return { holder: new TextDecoder().decode(inode.bytes()) };
    }
    inode.sharedLocks++;
    let held = true;
    return {
      release() {
        if (held) inode.sharedLocks--;
        held = false;
      },
    };
  }
}

/** Writes to an inode, from a file position of its own. */
export class MemWritableFile implements WritableFile {
  #inode: MemInode | undefined;
  /** Where the next {@link MemWritableFile.write} goes. */
  protected position: number;

  /**
   * @param inode The file.
   * @param position The initial file position (its size, to append).
   */
  constructor(inode: MemInode, position: number = inode.size) {
    this.#inode = inode;
    this.position = position;
  }

  /** The file, or a BadResource error once closed. */
  protected get inode(): MemInode {
    if (!this.#inode) throw new Deno.errors.BadResource("Bad resource ID");
    return this.#inode;
  }

  /** Writes all of `bytes` at the file position. */
  write(bytes: Uint8Array): number {
    const inode = this.inode;
    if (this.position === inode.size) inode.append(bytes);
    else inode.writeAt(bytes, this.position);
    this.position += bytes.length;
    return bytes.length;
  }

  /** Writes all of `bytes` at `position`; the file position stays. */
  writeAt(bytes: Uint8Array, position: number): void {
    this.inode.writeAt(bytes, position);
  }

  /** Cuts (or extends with zeros) the file to `size` bytes. */
  truncate(size: number): void {
    this.inode.truncate(size);
  }

  /** Nothing to make durable in memory. */
  syncData(): Promise<void> {
    try {
      this.inode;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Nothing to make durable in memory. */
  syncDataSync(): void {
    this.inode;
  }

  /** Releases the handle. */
  close(): void {
    this.inode;
    this.#inode = undefined;
  }
}

class MemReadableFile implements ReadableFile {
  readonly size: number;
  #inode: MemInode | undefined;

  constructor(inode: MemInode) {
    this.#inode = inode;
    this.size = inode.size;
  }

  readAt(
    buf: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number {
    const inode = this.#inode;
    if (!inode) throw new Deno.errors.BadResource("Bad resource ID");
    const n = Math.max(0, Math.min(length, inode.size - position));
    if (n > 0) buf.set(inode.data.subarray(position, position + n), offset);
    return n;
  }

  close(): void {
    this.#inode = undefined;
  }
}
