/**
 * What a directory holds before `DB.open` touches it: a database (it has
 * `CURRENT`), nothing yet, the leftovers of a creation that a crash cut
 * short, or the files of a database whose `CURRENT` is gone.
 *
 * Creating a database writes `MANIFEST-000001`, then `000001.tmp`, then
 * renames the temp file to `CURRENT`; only then is a WAL created. So a
 * directory without `CURRENT` whose database files are at most `LOCK`,
 * `MANIFEST-000001` and `000001.tmp` is an unfinished creation, and is
 * created afresh. One that also holds a WAL or a table was a database:
 * opening it as a new one would replay and delete what it holds, so it is
 * corruption, for repair to rebuild.
 *
 * @module
 */

import { join } from "node:path";
import type { Fs } from "../fs/fs.ts";
import { CorruptionError } from "../util/errors.ts";
import { parseFileName } from "../util/filenames.ts";

/** What {@link inspectDirectory} found. */
export type DirectoryState =
  /** `CURRENT` is there. */
  | { kind: "database" }
  /** No directory, or one without database files. */
  | { kind: "none" }
  /** Only the leftovers of a creation a crash interrupted. */
  | { kind: "unfinished"; leftovers: string[] };

// The files a creation writes before `CURRENT` exists.
const CREATION_LEFTOVERS = new Set(["LOCK", "MANIFEST-000001", "000001.tmp"]);

/**
 * Looks at a directory without changing it.
 *
 * @param fs The filesystem.
 * @param dir The database directory.
 * @returns What it holds.
 * @throws {CorruptionError} When `CURRENT` is missing but the directory
 * holds a database's WALs, tables or later manifests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectDirectory } from "./database_directory.ts";
 * import { MemFs } from "../fs/mem_fs.ts";
 * const fs = new MemFs();
 * await fs.mkdir("/db");
 * assert.equal(inspectDirectory(fs, "/db").kind, "none");
 * fs.createSync("/db/MANIFEST-000001").close();
 * assert.equal(inspectDirectory(fs, "/db").kind, "unfinished");
 * ```
 */
export function inspectDirectory(fs: Fs, dir: string): DirectoryState {
  if (fs.stat(join(dir, "CURRENT"))?.isFile) return { kind: "database" };
  if (!fs.stat(dir)?.isDirectory) return { kind: "none" };
  const leftovers: string[] = [];
  const others: string[] = [];
  for (const name of fs.listSync(dir).sort()) {
    if (parseFileName(name) === undefined) continue; // not ours
    if (CREATION_LEFTOVERS.has(name)) leftovers.push(name);
    else others.push(name);
  }
  if (others.length > 0) {
    const shown = others.slice(0, 5).join(", ") +
      (others.length > 5 ? `, … (${others.length} files)` : "");
    throw new CorruptionError(
      join(dir, "CURRENT"),
      0,
      `is missing, but the directory holds database files (${shown}): ` +
        "the database cannot be opened without it",
    );
  }
  const unfinished = leftovers.filter((n) => n !== "LOCK");
  return unfinished.length > 0
    ? { kind: "unfinished", leftovers: unfinished }
    : { kind: "none" };
}
