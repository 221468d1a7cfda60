/**
 * The version set: the current {@link Version}, the counters that survive a
 * restart (next file number, last sequence, live WAL number, compaction
 * pointers), and the manifest that makes every change to them durable.
 *
 * Changes go through {@link VersionSet.logAndApply}, one at a time: the edit
 * is appended to the manifest and synced before the new version becomes
 * current, so a crash leaves either the old or the new version on disk.
 *
 * @module
 */

import { basename, join } from "node:path";
import { diskFs } from "../fs/disk_fs.ts";
import { type Fs, isNotFound, writeAll } from "../fs/fs.ts";
import { CorruptionError, IOError, StrataError } from "../util/errors.ts";
import { failpoint } from "../util/failpoints.ts";
import {
  logFileName,
  manifestFileName,
  parseFileName,
  tableFileName,
} from "../util/filenames.ts";
import { ManifestWriter, readManifest } from "./manifest.ts";
import {
  type FileMeta,
  NUM_LEVELS,
  Version,
  type VersionEdit,
} from "./version.ts";

/** A manifest larger than this is rewritten as one snapshot edit. */
export const MANIFEST_REWRITE_BYTES = 4 * 1024 * 1024;

/**
 * The live version and the durable counters of one database.
 *
 * @example Create, change and recover
 * ```ts
 * import assert from "node:assert/strict";
 * import { VersionSet } from "./version_set.ts";
 * const dir = await Deno.makeTempDir();
 * const vs = await VersionSet.create(dir);
 * await vs.logAndApply({ lastSequence: 10 });
 * vs.close();
 * const again = await VersionSet.recover(dir, { readOnly: true });
 * assert(again.lastSequence === 10);
 * again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class VersionSet {
  /**
   * A manifest larger than this is rewritten as one snapshot edit. Tests
   * lower it to exercise the rewrite.
   */
  static manifestRewriteBytes: number = MANIFEST_REWRITE_BYTES;

  /** Database directory. */
  readonly dir: string;
  /** The filesystem it lives on. */
  readonly fs: Fs;
  /** The version new readers start from. */
  current: Version = Version.empty();
  /** The next file number to hand out. */
  nextFileNumber = 2;
  /** The last sequence number recorded in the manifest. */
  lastSequence = 0;
  /** WALs numbered below this are contained in tables. */
  logNumber = 0;
  /** Per level, where the next size-triggered compaction starts. */
  readonly compactPointers: (Uint8Array | undefined)[] = new Array(NUM_LEVELS);
  /** Number of the live manifest. */
  manifestNumber = 0;
  /**
   * Set once an edit failed to become durable: from then on edits are
   * refused, and files must not be deleted, since the disk may hold the
   * failed edit (the next open reads it) or not.
   */
  failure: unknown = undefined;
  /**
   * Counters of the database's whole life (compactions, bytes written, WAL
   * syncs…), as the last edit recorded them: the engine adds what it did
   * since open and records the totals with each edit and at close.
   */
  lifetime: Record<string, number> = {};
  /**
   * Where each edit takes its lifetime counters from (the engine's totals
   * at the time); none, and edits carry none.
   */
  lifetimeSource: (() => Record<string, number>) | undefined;
  /** The torn final record recovery dropped from the manifest, if any. */
  droppedTail:
    | { file: string; offset: number; bytes: number; reason: string }
    | undefined;

  #manifest: ManifestWriter | undefined;
  #queue: Promise<void> = Promise.resolve();
  readonly #pinned = new Set<Version>();

  private constructor(dir: string, fs: Fs) {
    this.dir = dir;
    this.fs = fs;
  }

  /**
   * Starts a new database: writes `MANIFEST-000001` and `CURRENT`.
   *
   * @param dir An existing directory with no database in it.
   * @param fs The filesystem (the real one by default).
   * @returns The version set.
   */
  static async create(dir: string, fs: Fs = diskFs): Promise<VersionSet> {
    const vs = new VersionSet(dir, fs);
    await vs.#writeNewManifest(1, vs.current, {});
    vs.nextFileNumber = 2;
    return vs;
  }

  /**
   * Rebuilds the state from the manifest that `CURRENT` names.
   *
   * @param dir Database directory.
   * @param options `readOnly` opens no manifest for writing; `fs` is the
   * filesystem (the real one by default).
   * @returns The version set.
   * @throws {CorruptionError} When `CURRENT` or the manifest is damaged.
   */
  static async recover(
    dir: string,
    options: { readOnly: boolean; fs?: Fs },
  ): Promise<VersionSet> {
    const fs = options.fs ?? diskFs;
    const vs = new VersionSet(dir, fs);
    const currentPath = join(dir, "CURRENT");
    const name = new TextDecoder().decode(fs.readFile(currentPath)).trim();
    const m = /^MANIFEST-(\d+)$/.exec(name);
    if (!m) {
      throw new CorruptionError(currentPath, 0, `names no manifest: "${name}"`);
    }
    vs.manifestNumber = Number(m[1]);
    const path = join(dir, name);
    if (fs.stat(path) === undefined) {
      throw new CorruptionError(
        currentPath,
        0,
        `names "${name}", which does not exist`,
      );
    }
    const contents = readManifest(path, fs);
    let version = Version.empty();
    for (const [i, edit] of contents.edits.entries()) {
      try {
        version = version.apply(edit, path);
      } catch (err) {
        if (err instanceof CorruptionError) {
          throw new CorruptionError(path, contents.offsets[i]!, err.message);
        }
        throw err;
      }
      vs.#absorbCounters(edit);
    }
    vs.current = version;
    vs.nextFileNumber = Math.max(vs.nextFileNumber, vs.manifestNumber + 1);
    if (contents.droppedBytes > 0) {
      const reason = contents.dropReason ?? "bad final record";
      vs.#checkDroppedTailUnused(path, contents.validBytes, reason);
      vs.droppedTail = {
        file: path,
        offset: contents.validBytes,
        bytes: contents.droppedBytes,
        reason,
      };
    }
    if (!options.readOnly) {
      vs.#manifest = await ManifestWriter.reopen(
        path,
        contents.validBytes,
        fs,
        contents.version,
      );
    }
    return vs;
  }

  /**
   * A torn append (a crash in the middle of writing an edit) may be
   * dropped: its edit never took effect, since nothing acts on an edit
   * before it is durable. But a bit flip or a cut in a record that was
   * durable looks the same, and dropping it would roll the database back
   * and then delete the newer tables as obsolete. So the tail is dropped
   * only if nothing shows that a dropped edit was acted on: the WAL the
   * recovered state starts from is still there (a flush's edit retires it,
   * and then it is deleted), and so is every table it lists (a
   * compaction's edit retires its inputs). Tables numbered past the
   * recovered next-file number prove nothing by themselves: the outputs of
   * the flush or compaction whose edit was torn look just the same, and
   * their data is still in the WAL or the inputs.
   */
  #checkDroppedTailUnused(path: string, offset: number, reason: string): void {
    const acted: string[] = [];
    if (this.logNumber > 0) {
      const wal = logFileName(this.dir, this.logNumber);
      if (this.fs.stat(wal) === undefined) {
        acted.push(`the WAL it starts from (${basename(wal)}) is gone`);
      }
    } else {
      // The recovered state is a creation's, from before the first open
      // named its WAL: until that edit, no table or second WAL can exist.
      let tables = 0, logs = 0;
      for (const name of this.fs.listSync(this.dir)) {
        const kind = parseFileName(name)?.kind;
        if (kind === "table") tables++;
        if (kind === "log") logs++;
      }
      if (tables > 0 || logs > 1) {
        acted.push(
          `it is the state of a new database, yet ${tables} tables and ${logs} WALs exist`,
        );
      }
    }
    const missing = [...this.current.allFileNumbers()].filter((n) =>
      this.fs.stat(tableFileName(this.dir, n)) === undefined
    );
    if (missing.length > 0) {
      const names = missing.slice(0, 3).map((n) =>
        basename(tableFileName(this.dir, n))
      ).join(", ");
      acted.push(
        `${missing.length} of its tables (${names}${
          missing.length > 3 ? ", …" : ""
        }) are gone`,
      );
    }
    if (acted.length === 0) return;
    throw new CorruptionError(
      path,
      offset,
      `${reason}, and the edits from here on were already acted on (${
        acted.join("; ")
      }): dropping them would roll the database back, so it is not opened ` +
        "and nothing was deleted",
    );
  }

  /**
   * Hands out a new file number.
   *
   * @returns A number no file of this database has used.
   */
  newFileNumber(): number {
    return this.nextFileNumber++;
  }

  /**
   * Appends `edit` to the manifest, waits until it is durable, then makes
   * the resulting version current. Edits are applied one at a time in call
   * order, each to the version current when its turn comes.
   *
   * @param edit The change.
   */
  logAndApply(edit: VersionEdit): Promise<void> {
    const run = this.#queue.then(() => this.#apply(edit));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #apply(edit: VersionEdit): Promise<void> {
    const manifest = this.#manifest;
    if (!manifest) {
      throw new StrataError(
        "READ_ONLY",
        "The manifest is not open for writing",
      );
    }
    if (this.failure !== undefined) throw this.failure;
    edit.nextFileNumber = this.nextFileNumber;
    if (edit.lastSequence === undefined) edit.lastSequence = this.lastSequence;
    if (edit.lifetime === undefined && this.lifetimeSource) {
      edit.lifetime = this.lifetimeSource();
    }
    let next = this.current.apply(edit, manifest.path);
    if (next.rangeTombstones.length > 0) {
      const retired = next.retirableRangeTombstones();
      if (retired.length > 0) {
        edit.rangeTombstonesRetired = [
          ...(edit.rangeTombstonesRetired ?? []),
          ...retired,
        ];
        next = this.current.apply(edit, manifest.path);
      }
    }
    // A version-1 manifest read by an older Strata would ignore range
    // tombstones (and show what they deleted): rewrite it as version 2.
    const needsNewFormat = manifest.version < 2 &&
      (edit.rangeTombstonesAdded?.length ?? 0) > 0;
    // Nothing of the edit is published (version, log number) until it is
    // durable: a reader of logNumber may delete the WALs it covers.
    try {
      if (manifest.size > VersionSet.manifestRewriteBytes || needsNewFormat) {
        await this.#writeNewManifest(this.newFileNumber(), next, edit);
      } else {
        await manifest.append(edit);
      }
    } catch (err) {
      // The edit may or may not be on disk, and CURRENT may or may not
      // name a new manifest: nothing may be decided from this state, so no
      // later edit is taken and no file may be deleted (see `failure`).
      this.failure = err;
      throw err;
    }
    this.#absorbCounters(edit);
    this.current = next;
  }

  #absorbCounters(edit: VersionEdit): void {
    if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
    if (edit.nextFileNumber !== undefined) {
      this.nextFileNumber = Math.max(this.nextFileNumber, edit.nextFileNumber);
    }
    if (edit.lastSequence !== undefined) {
      this.lastSequence = Math.max(this.lastSequence, edit.lastSequence);
    }
    for (const [level, key] of edit.compactPointers ?? []) {
      this.compactPointers[level] = key;
    }
    if (edit.lifetime) this.lifetime = { ...edit.lifetime };
  }

  /**
   * The whole state, with `version` as its files, as one edit: what a new
   * manifest starts with (a checkpoint's, a rewrite's).
   *
   * @param version The version to describe (the current one, a pinned one).
   * @returns The edit.
   */
  snapshotEdit(version: Version): VersionEdit {
    return this.#snapshotEdit(version, {});
  }

  /** The whole state as one edit: the first record of a new manifest. */
  #snapshotEdit(version: Version, pending: VersionEdit): VersionEdit {
    const added: [number, FileMeta][] = [];
    for (let level = 0; level < NUM_LEVELS; level++) {
      for (const f of version.files(level)) added.push([level, f]);
    }
    const pointers = this.compactPointers.slice();
    for (const [level, key] of pending.compactPointers ?? []) {
      pointers[level] = key;
    }
    const compactPointers: [number, Uint8Array][] = [];
    pointers.forEach((k, level) => k && compactPointers.push([level, k]));
    const snapshot: VersionEdit = {
      logNumber: pending.logNumber ?? this.logNumber,
      nextFileNumber: this.nextFileNumber,
      lastSequence: Math.max(this.lastSequence, pending.lastSequence ?? 0),
      added,
      compactPointers,
      lifetime: pending.lifetime ?? this.lifetime,
    };
    if (version.rangeTombstones.length > 0) {
      snapshot.rangeTombstonesAdded = version.rangeTombstones.slice();
    }
    return snapshot;
  }

  /**
   * Writes a manifest holding `version` and the counters as `pending` will
   * leave them, then points `CURRENT` at it: temp file, sync, rename, sync
   * the directory.
   */
  async #writeNewManifest(
    number: number,
    version: Version,
    pending: VersionEdit,
  ): Promise<void> {
    const path = manifestFileName(this.dir, number);
    const writer = await ManifestWriter.create(path, this.fs);
    try {
      if (number >= this.nextFileNumber) this.nextFileNumber = number + 1;
      await writer.append(this.#snapshotEdit(version, pending));
      // The manifest's name must be durable before CURRENT can name it: a
      // power loss may keep the rename and lose an unsynced creation.
      await syncDir(this.fs, this.dir);
      failpoint("manifest:new-written");
      await setCurrent(this.dir, number, basename(path), this.fs);
    } catch (err) {
      // Not removed: CURRENT may already name it (a rename whose directory
      // sync failed). A later rewrite, with a higher number, sweeps it.
      writer.close();
      throw err;
    }
    const old = this.#manifest;
    this.#manifest = writer;
    this.manifestNumber = number;
    if (old) {
      old.close();
      await this.fs.remove(old.path).catch(() => {});
    }
  }

  /**
   * Keeps the files of `version` on disk until {@link VersionSet.unpin}.
   *
   * @param version A version a reader is using.
   */
  pin(version: Version): void {
    version.refs++;
    this.#pinned.add(version);
  }

  /**
   * Releases a {@link VersionSet.pin}.
   *
   * @param version The pinned version.
   */
  unpin(version: Version): void {
    if (--version.refs <= 0) this.#pinned.delete(version);
  }

  /**
   * File numbers that some version still uses: the current one or one a
   * reader has pinned. Every other table file is obsolete.
   *
   * @returns The live table numbers.
   */
  liveTableNumbers(): Set<number> {
    const live = new Set(this.current.allFileNumbers());
    for (const v of this.#pinned) {
      for (const n of v.allFileNumbers()) live.add(n);
    }
    return live;
  }

  /** Waits for queued edits, then closes the manifest. */
  async drain(): Promise<void> {
    await this.#queue;
  }

  /** Closes the manifest file. */
  close(): void {
    this.#manifest?.close();
    this.#manifest = undefined;
  }
}

/**
 * Writes a database's manifest from one edit and points `CURRENT` at it:
 * the last step of a checkpoint or a repair, once every file the edit
 * names is durable in `dir`.
 *
 * @param dir The database directory.
 * @param number The manifest's file number (`number + 1` names the temp
 * file of `CURRENT`); both must be free.
 * @param edit The whole state (see {@link VersionSet.snapshotEdit}).
 * @param fs The filesystem (the real one by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VersionSet, writeManifest } from "./version_set.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * const fs = new MemFs();
 * await fs.mkdir("/db");
 * await writeManifest("/db", 5, { lastSequence: 9, nextFileNumber: 7 }, fs);
 * const vs = await VersionSet.recover("/db", { readOnly: true, fs });
 * assert.equal(vs.lastSequence, 9);
 * ```
 */
export async function writeManifest(
  dir: string,
  number: number,
  edit: VersionEdit,
  fs: Fs = diskFs,
): Promise<void> {
  const path = manifestFileName(dir, number);
  const writer = await ManifestWriter.create(path, fs);
  try {
    await writer.append(edit);
  } finally {
    writer.close();
  }
  await syncDir(fs, dir);
  await setCurrent(dir, number + 1, basename(path), fs);
}

/**
 * Points `CURRENT` at a manifest atomically: write a temp file, sync it,
 * rename it over `CURRENT`, then sync the directory so the rename is durable.
 *
 * @param dir Database directory.
 * @param tempNumber A fresh file number for the temp file's name.
 * @param manifestName The manifest's file name.
 * @param fs The filesystem (the real one by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setCurrent } from "./version_set.ts";
 * const dir = await Deno.makeTempDir();
 * await setCurrent(dir, 3, "MANIFEST-000003");
 * assert((await Deno.readTextFile(`${dir}/CURRENT`)) === "MANIFEST-000003\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function setCurrent(
  dir: string,
  tempNumber: number,
  manifestName: string,
  fs: Fs = diskFs,
): Promise<void> {
  const temp = join(dir, `${String(tempNumber).padStart(6, "0")}.tmp`);
  // A temp file left by a crash is garbage: start it afresh.
  await fs.remove(temp).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
  let step = "create";
  try {
    const file = await fs.create(temp);
    try {
      step = "write";
      writeAll(file, new TextEncoder().encode(manifestName + "\n"));
      step = "sync";
      await file.syncData();
    } finally {
      file.close();
    }
  } catch (err) {
    throw new IOError(step, temp, err);
  }
  failpoint("current:temp-written");
  const current = join(dir, "CURRENT");
  try {
    await fs.rename(temp, current);
  } catch (err) {
    throw new IOError("rename", temp, err);
  }
  await syncDir(fs, dir);
}

/**
 * Makes the entries of `dir` durable ({@link Fs.syncDir}), naming the
 * directory when it fails.
 *
 * @param fs The filesystem.
 * @param dir The directory.
 * @throws {IOError} When the sync fails.
 *
 * @example
 * ```ts
 * import { syncDir } from "./version_set.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * await syncDir(new MemFs(), "/");
 * ```
 */
export async function syncDir(fs: Fs, dir: string): Promise<void> {
  try {
    await fs.syncDir(dir);
  } catch (err) {
    throw new IOError("sync directory", dir, err);
  }
}
