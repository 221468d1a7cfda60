/**
 * A {@link MemFs} that remembers what was made durable, so that a test can
 * simulate power loss at any moment, and that fails on demand, so that a
 * test can see what the engine does with a full or broken disk. It models
 * the strict POSIX rules LevelDB's fault-injection env and Pebble's strict
 * MemFS model:
 *
 * - A file's bytes are durable up to its last `syncData`; appends after it
 *   are not. (Cutting a file or writing over its bytes below that point
 *   keeps the old durable bytes until the next sync.)
 * - A directory's entries (a file created, renamed or removed in it, a
 *   subdirectory made) are durable after a sync of that directory, not
 *   before: a synced file whose name was never synced is lost.
 * - A failed sync loses the bytes it was asked to make durable, for good:
 *   a later sync that succeeds does not bring them back (Linux marks the
 *   pages clean after a failed fsync: the "fsyncgate" lesson).
 *
 * {@link StrictFs.crashImage} returns the filesystem a power loss right now
 * would leave, as a new `StrictFs`; {@link StrictFs.crash} does the same
 * and kills this one (every later call, and every open handle, throws).
 * Variants keep a random prefix of each file's unsynced appends or
 * overwrites, the last one torn (torn writes), or a random subset of the
 * unsynced directory changes, applied in order (reordering). {@link StrictFs.inject} makes the Nth call of a kind
 * fail with ENOSPC, EIO or a short write.
 *
 * @module
 */

import type {
  FileLock,
  LockRefusal,
  ReadableFile,
  WritableFile,
} from "./fs.ts";
import { setImmediate } from "node:timers";
import { MemDir, MemFs, MemInode, MemWritableFile } from "./mem_fs.ts";

/** The kinds of call {@link StrictFs} counts and can fail. */
export type FsCall =
  | "create"
  | "open"
  | "write"
  | "sync"
  | "syncDir"
  | "rename"
  | "link"
  | "remove"
  | "read"
  | "list"
  | "mkdir"
  | "lock";

/** The failures {@link StrictFs.inject} can inject. */
export type InjectedFailure = "ENOSPC" | "EIO" | "short";

/** One failure to inject. */
export interface Injection {
  /** Which kind of call fails. */
  call: FsCall;
  /** The how-manieth matching call fails, counting from now (1 = the next). */
  nth: number;
  /**
   * `ENOSPC` and `EIO` throw; `short` (for writes) writes half the bytes
   * and returns, and the next write to that file throws ENOSPC.
   */
  failure: InjectedFailure;
  /** Only calls on a path matching this count (all by default). */
  path?: RegExp;
}

/** How {@link StrictFs.crashImage} treats what was not made durable. */
export interface CrashOptions {
  /** Keep a random prefix of each file's unsynced appends (torn writes). */
  torn?: boolean;
  /**
   * Keep a random subset of the unsynced directory changes, in order, and
   * of a file's unsynced writes over durable bytes (a disk writes pages
   * back in any order).
   */
  reorder?: boolean;
  /** Random numbers in [0, 1) for the variants (default `Math.random`). */
  random?: () => number;
}

/** Called before every call, with its kind and path. */
export type CallObserver = (call: FsCall, path: string) => void;

interface InodeState {
  /** Bytes [0, synced) are durable (when `base` is unset). */
  synced: number;
  /**
   * The durable content, when the file was cut or written over below
   * `synced` since.
   */
  base: Uint8Array | undefined;
  /**
   * The extents written since `base` was taken by a write over durable
   * bytes, in order: a torn crash image keeps a prefix of them. (After a
   * cut, the image is `base`.)
   */
  overwrites: [number, number][] | undefined;
  /** Ranges a failed sync lost: zeros after a crash. */
  lost: [number, number][];
  /** A short write happened: the next write fails. */
  failNextWrite: boolean;
}

type DirChange =
  | { kind: "set"; name: string; node: MemInode | MemDir }
  | { kind: "delete"; name: string }
  | { kind: "rename"; from: string; to: string; node: MemInode };

interface DirState {
  durable: Map<string, MemInode | MemDir>;
  pending: DirChange[];
}

function failure(kind: "ENOSPC" | "EIO", call: FsCall, path: string): Error {
  const text = kind === "ENOSPC"
    ? "No space left on device (os error 28)"
    : "Input/output error (os error 5)";
  return Object.assign(new Error(`${text}: ${call} '${path}'`), {
    code: kind,
  });
}

/** Resolves after `n` turns of the event loop. */
function waitTurns(n: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) =>
      left <= 0 ? resolve() : setImmediate(() => step(left - 1));
    step(n);
  });
}

/**
 * A strict, crashable, failable in-memory filesystem (see the module
 * documentation).
 *
 * @example Power loss drops what was not synced
 * ```ts
 * import assert from "node:assert/strict";
 * import { StrictFs } from "./strict_fs.ts";
 * const fs = new StrictFs();
 * await fs.mkdir("/db");
 * await fs.syncDir("/");
 * const file = await fs.create("/db/a.log");
 * await fs.syncDir("/db");
 * file.write(new Uint8Array([1, 2]));
 * await file.syncData();
 * file.write(new Uint8Array([3, 4])); // never synced
 * const after = fs.crash();
 * assert.deepEqual(after.readFile("/db/a.log"), new Uint8Array([1, 2]));
 * assert.throws(() => file.write(new Uint8Array([5])), /crashed/);
 * ```
 *
 * @example Inject a full disk at the second write
 * ```ts
 * import assert from "node:assert/strict";
 * import { StrictFs } from "./strict_fs.ts";
 * const fs = new StrictFs();
 * const file = fs.createSync("/a");
 * fs.inject({ call: "write", nth: 2, failure: "ENOSPC" });
 * file.write(new Uint8Array(1));
 * assert.throws(() => file.write(new Uint8Array(1)), { code: "ENOSPC" });
 * ```
 */
export class StrictFs extends MemFs {
  /** `"strict"`. */
  override readonly kind: string = "strict";
  /** Calls seen so far, by kind. */
  readonly calls: Record<FsCall, number> = {
    create: 0,
    open: 0,
    write: 0,
    sync: 0,
    syncDir: 0,
    rename: 0,
    link: 0,
    remove: 0,
    read: 0,
    list: 0,
    mkdir: 0,
    lock: 0,
  };
  /** Called before every call (a test takes crash images here). */
  observer: CallObserver | undefined;
  /**
   * How many event-loop turns a file sync takes, given the bytes it makes
   * durable (none by default: syncs resolve at once). A disk takes longer
   * to sync more bytes, so a big sync started first may finish after a
   * small one started later: the orderings a real disk allows.
   */
  syncTurns: ((bytes: number) => number) | undefined;

  readonly #inodes = new WeakMap<MemInode, InodeState>();
  readonly #dirs = new WeakMap<MemDir, DirState>();
  #injections: (Injection & { seen: number })[] = [];
  #dead = false;

  /**
   * Makes a filesystem whose content is `root`, all of it taken as durable.
   *
   * @param root A tree whose content is all durable (a crash image); a
   * fresh empty one by default.
   */
  constructor(root: MemDir = new MemDir()) {
    super(root);
    this.#adopt(root);
  }

  /** Marks everything in `dir` durable as it is. */
  #adopt(dir: MemDir): void {
    this.#dirs.set(dir, { durable: new Map(dir.entries), pending: [] });
    for (const node of dir.entries.values()) {
      if (node instanceof MemDir) this.#adopt(node);
      else if (!this.#inodes.has(node)) this.#inodeState(node, node.size);
    }
  }

  #inodeState(inode: MemInode, synced = 0): InodeState {
    let s = this.#inodes.get(inode);
    if (!s) {
      s = {
        synced,
        base: undefined,
        overwrites: undefined,
        lost: [],
        failNextWrite: false,
      };
      this.#inodes.set(inode, s);
    }
    return s;
  }

  #dirState(dir: MemDir): DirState {
    let s = this.#dirs.get(dir);
    if (!s) {
      // Made by mkdir since: nothing in it is durable yet.
      s = { durable: new Map(), pending: [] };
      this.#dirs.set(dir, s);
    }
    return s;
  }

  /**
   * Makes the `nth` next call of a kind fail.
   *
   * @param injection What fails, when and how.
   */
  inject(injection: Injection): void {
    this.#injections.push({ ...injection, seen: 0 });
  }

  /** Forgets every injection not fired yet. */
  clearInjections(): void {
    this.#injections = [];
  }

  /** Injections not fired yet. */
  get pendingInjections(): number {
    return this.#injections.length;
  }

  /**
   * Counts a call, tells the observer, and fires a due injection.
   *
   * @returns The injected failure to act on, if any.
   */
  #enter(call: FsCall, path: string): InjectedFailure | undefined {
    if (this.#dead) {
      throw new Error(
        `StrictFs: the filesystem crashed; ${call} '${path}' is refused`,
      );
    }
    this.calls[call]++;
    this.observer?.(call, path);
    for (let i = 0; i < this.#injections.length; i++) {
      const inj = this.#injections[i]!;
      if (inj.call !== call || (inj.path && !inj.path.test(path))) continue;
      if (++inj.seen < inj.nth) continue;
      this.#injections.splice(i, 1);
      if (inj.failure === "short") return "short";
      throw failure(inj.failure, call, path);
    }
    return undefined;
  }

  // ------------------------------------------------ durability bookkeeping

  /** @internal Records the new name as pending until its directory syncs. */
  protected override linked(
    dir: MemDir,
    name: string,
    node: MemInode | MemDir,
  ): void {
    if (node instanceof MemDir) this.#dirState(node);
    else this.#inodeState(node);
    this.#dirState(dir).pending.push({ kind: "set", name, node });
  }

  /** @internal Records the removal as pending until its directory syncs. */
  protected override unlinked(dir: MemDir, name: string): void {
    this.#dirState(dir).pending.push({ kind: "delete", name });
  }

  /**
   * @internal Records the rename as pending: one change within a
   * directory, a removal and a new name across two.
   */
  protected override renamed(
    fromDir: MemDir,
    from: string,
    toDir: MemDir,
    to: string,
    node: MemInode,
  ): void {
    if (fromDir === toDir) {
      this.#dirState(fromDir).pending.push({ kind: "rename", from, to, node });
    } else {
      this.#dirState(fromDir).pending.push({ kind: "delete", name: from });
      this.#dirState(toDir).pending.push({ kind: "set", name: to, node });
    }
  }

  /**
   * @internal Cuts the file, first keeping its durable bytes when the cut
   * goes below them (a crash before the next sync restores those).
   */
  protected override truncated(inode: MemInode, size: number): void {
    const s = this.#inodeState(inode);
    if (size < s.synced && s.base === undefined) {
      s.base = inode.data.slice(0, s.synced);
    }
    s.overwrites = undefined;
    inode.truncate(size);
  }

  /** @internal A handle whose writes and syncs this filesystem sees. */
  protected override writable(
    inode: MemInode,
    path: string,
    position: number,
  ): WritableFile {
    return new StrictWritableFile(inode, path, this, position);
  }

  /**
   * @internal A handle's write at `position`: counted, maybe failed, then
   * done. A write below the durable length keeps the durable bytes first.
   */
  writeTo(
    inode: MemInode,
    path: string,
    bytes: Uint8Array,
    position: number,
  ): number {
    const s = this.#inodeState(inode);
    if (s.failNextWrite) {
      s.failNextWrite = false;
      this.#enter("write", path);
      throw failure("ENOSPC", "write", path);
    }
    let n = bytes.length;
    if (this.#enter("write", path) === "short" && n > 1) {
      n >>= 1;
      s.failNextWrite = true;
    }
    if (position < s.synced && s.base === undefined) {
      s.base = inode.data.slice(0, s.synced);
      s.overwrites = [];
    }
    s.overwrites?.push([position, position + n]);
    inode.writeAt(bytes.subarray(0, n), position);
    return n;
  }

  /** @internal A handle's cut: counted as a write, maybe failed (EIO). */
  truncateFile(inode: MemInode, path: string, size: number): void {
    if (this.#enter("write", path) === "short") {
      throw failure("EIO", "write", path);
    }
    this.truncated(inode, size);
  }

  /**
   * @internal A handle's sync: counted, maybe failed (losing its bytes);
   * `blocking` (syncDataSync) takes no turns and throws.
   */
  syncInode(inode: MemInode, path: string, blocking = false): Promise<void> {
    const s = this.#inodeState(inode);
    try {
      this.#enter("sync", path);
    } catch (err) {
      if (!this.#dead) {
        // The kernel dropped the dirty pages: those bytes never get durable.
        if (inode.size > s.synced) s.lost.push([s.synced, inode.size]);
        for (const extent of s.overwrites ?? []) s.lost.push(extent);
        s.synced = inode.size;
        s.base = undefined;
        s.overwrites = undefined;
      }
      if (blocking) throw err;
      return Promise.reject(err);
    }
    const size = inode.size;
    const done = () => {
      // Bytes appended while the sync ran are not covered by it.
      if (this.#dead) throw new Error("StrictFs: the filesystem crashed");
      if (s.base !== undefined) {
        s.synced = size;
        s.base = undefined;
        s.overwrites = undefined;
      } else if (size > s.synced) {
        s.synced = size;
      }
    };
    const turns = blocking
      ? 0
      : this.syncTurns?.(Math.max(0, size - s.synced)) ?? 0;
    if (turns <= 0) {
      done();
      return Promise.resolve();
    }
    return waitTurns(turns).then(done);
  }

  /** @internal Checks that the filesystem is alive, for handles. */
  checkAlive(call: FsCall, path: string): void {
    if (this.#dead) {
      throw new Error(
        `StrictFs: the filesystem crashed; ${call} '${path}' is refused`,
      );
    }
  }

  // ------------------------------------------------------ the Fs calls

  /** Counted as `create`; an injected short failure is an EIO here. */
  override createSync(path: string): WritableFile {
    const f = this.#enter("create", path);
    if (f === "short") throw failure("EIO", "create", path);
    return super.createSync(path);
  }

  /** {@link StrictFs.createSync}, as a promise. */
  override create(path: string): Promise<WritableFile> {
    try {
      return Promise.resolve(this.createSync(path));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Counted as `open`; a cut below the synced bytes is undone by a crash. */
  override openAppend(
    path: string,
    truncateTo?: number,
  ): Promise<WritableFile> {
    try {
      this.#enter("open", path);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.openAppend(path, truncateTo);
  }

  /** Counted as `open`; writes over durable bytes are undone by a crash. */
  override openOverwrite(path: string): Promise<WritableFile> {
    try {
      this.#enter("open", path);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.openOverwrite(path);
  }

  /** Counted as `open`; every `readAt` on the file is counted as `read`. */
  override openReadable(path: string): ReadableFile {
    this.#enter("open", path);
    const file = super.openReadable(path);
    return {
      size: file.size,
      readAt: (buf, offset, length, position) => {
        this.#enter("read", path);
        return file.readAt(buf, offset, length, position);
      },
      close: () => file.close(),
    };
  }

  /** Counted as `read`. */
  override readFile(path: string): Uint8Array {
    this.#enter("read", path);
    return super.readFile(path);
  }

  /** Counted as `rename` (of `to`); durable once its directories sync. */
  override rename(from: string, to: string): Promise<void> {
    try {
      this.#enter("rename", to);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.rename(from, to);
  }

  /** Counted as `link` (of `to`); durable once its directory syncs. */
  override link(from: string, to: string): Promise<void> {
    try {
      this.#enter("link", to);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.link(from, to);
  }

  /** Counted as `remove`; durable once its directory syncs. */
  override removeSync(path: string): void {
    this.#enter("remove", path);
    super.removeSync(path);
  }

  /** {@link StrictFs.removeSync}, as a promise. */
  override remove(path: string): Promise<void> {
    try {
      this.removeSync(path);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Counted as one `remove`, whatever the tree holds. */
  override removeAll(path: string): Promise<void> {
    try {
      this.#enter("remove", path);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.removeAll(path);
  }

  /** Counted as `list`; shows the current names, durable or not. */
  override listSync(dir: string): string[] {
    this.#enter("list", dir);
    return super.listSync(dir);
  }

  /** {@link StrictFs.listSync}, as a promise. */
  override list(dir: string): Promise<string[]> {
    try {
      return Promise.resolve(this.listSync(dir));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Counted as `mkdir`; a new directory is durable once its parent syncs. */
  override mkdir(dir: string): Promise<void> {
    try {
      this.#enter("mkdir", dir);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.mkdir(dir);
  }

  /**
   * Counted as `syncDir`; makes the directory's current entries durable,
   * as a crash image will see them.
   */
  override syncDir(dir: string): Promise<void> {
    try {
      this.#enter("syncDir", dir);
      const d = this.dirAt(dir);
      if (!d) return super.syncDir(dir);
      const s = this.#dirState(d);
      s.durable = new Map(d.entries);
      s.pending = [];
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Counted as `lock`. */
  override lock(path: string, holder: string): FileLock | LockRefusal {
    this.#enter("lock", path);
    return super.lock(path, holder);
  }

  /** Counted as `lock`, as the exclusive lock is. */
  override lockShared(path: string): FileLock | LockRefusal {
    this.#enter("lock", path);
    return super.lockShared(path);
  }

  // ------------------------------------------------------------- crashes

  /**
   * The filesystem a power loss right now would leave: durable bytes and
   * durable directory entries only (or, with the variants, some of what
   * was not durable). This filesystem goes on unchanged.
   *
   * @param options Torn-write and reordering variants.
   * @returns A new `StrictFs` whose content is all durable.
   */
  crashImage(options: CrashOptions = {}): StrictFs {
    const random = options.random ?? Math.random;
    const clones = new Map<MemInode, MemInode>();
    const cloneInode = (inode: MemInode): MemInode => {
      const done = clones.get(inode);
      if (done) return done;
      const s = this.#inodeState(inode);
      let content: Uint8Array;
      if (s.base !== undefined) {
        content = s.base.slice();
        if ((options.torn || options.reorder) && s.overwrites) {
          content = tornOverwrites(
            content,
            inode,
            s.overwrites,
            random,
            options.reorder ?? false,
          );
        }
      } else {
        let keep = s.synced;
        if (options.torn && inode.size > s.synced) {
          keep += Math.floor(random() * (inode.size - s.synced + 1));
        }
        content = inode.data.slice(0, Math.min(keep, inode.size));
      }
      for (const [from, to] of s.lost) {
        if (from < content.length) {
          content.fill(0, from, Math.min(to, content.length));
        }
      }
      const clone = new MemInode(content);
      clones.set(inode, clone);
      return clone;
    };
    const cloneDir = (dir: MemDir): MemDir => {
      const s = this.#dirState(dir);
      const entries = new Map(s.durable);
      if (options.reorder) {
        for (const change of s.pending) {
          if (random() < 0.5) continue;
          if (change.kind === "set") entries.set(change.name, change.node);
          else if (change.kind === "delete") entries.delete(change.name);
          else {
            entries.delete(change.from);
            entries.set(change.to, change.node);
          }
        }
      }
      const out = new MemDir();
      for (const [name, node] of entries) {
        out.entries.set(
          name,
          node instanceof MemDir ? cloneDir(node) : cloneInode(node),
        );
      }
      return out;
    };
    return new StrictFs(cloneDir(this.root));
  }

  /**
   * Simulates power loss: returns {@link StrictFs.crashImage} and kills
   * this filesystem, so that nothing still holding it (an abandoned
   * database, an open handle) can touch the image.
   *
   * @param options Torn-write and reordering variants.
   * @returns The filesystem after the power loss.
   */
  crash(options: CrashOptions = {}): StrictFs {
    const image = this.crashImage(options);
    this.#dead = true;
    return image;
  }
}

/**
 * `base` with a random prefix of the `overwrites` since it was taken laid
 * over it, the last one kept only in part (or, `reorder`ing, a random
 * subset of them, each kept whole or in part): what a disk that wrote
 * some of them back before the power went leaves. Bytes come from the
 * file as it is now (a later write over the same extent wins: an
 * approximation).
 */
function tornOverwrites(
  base: Uint8Array,
  inode: MemInode,
  overwrites: [number, number][],
  random: () => number,
  reorder: boolean,
): Uint8Array {
  const kept = reorder
    ? overwrites.length
    : Math.floor(random() * (overwrites.length + 1));
  let content = base;
  for (let i = 0; i < kept; i++) {
    if (reorder && random() < 0.5) continue;
    let [from, to] = overwrites[i]!;
    if (reorder ? random() < 0.25 : i === kept - 1) {
      to = from + Math.floor(random() * (to - from + 1));
    }
    to = Math.min(to, inode.size);
    if (to <= from) continue;
    if (to > content.length) {
      const grown = new Uint8Array(to);
      grown.set(content);
      content = grown;
    }
    content.set(inode.data.subarray(from, to), from);
  }
  return content;
}

/** A handle that reports its writes and syncs to its {@link StrictFs}. */
class StrictWritableFile extends MemWritableFile {
  readonly #path: string;
  readonly #fs: StrictFs;

  constructor(inode: MemInode, path: string, fs: StrictFs, position: number) {
    super(inode, position);
    this.#path = path;
    this.#fs = fs;
  }

  override write(bytes: Uint8Array): number {
    const n = this.#fs.writeTo(this.inode, this.#path, bytes, this.position);
    this.position += n;
    return n;
  }

  override writeAt(bytes: Uint8Array, position: number): void {
    let off = 0;
    while (off < bytes.length) {
      off += this.#fs.writeTo(
        this.inode,
        this.#path,
        bytes.subarray(off),
        position + off,
      );
    }
  }

  override truncate(size: number): void {
    this.#fs.truncateFile(this.inode, this.#path, size);
  }

  override syncData(): Promise<void> {
    try {
      return this.#fs.syncInode(this.inode, this.#path);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override syncDataSync(): void {
    this.#fs.syncInode(this.inode, this.#path, true);
  }

  override close(): void {
    this.#fs.checkAlive("write", this.#path);
    super.close();
  }
}
