/**
 * Names of the files in a database directory, LevelDB style: `LOCK`,
 * `CURRENT`, `MANIFEST-NNNNNN`, `NNNNNN.log` and `NNNNNN.sst`. All numbered
 * files share one counter, so a number names exactly one file.
 *
 * @module
 */

import { join } from "node:path";

/** The kinds of file a database directory holds. */
export type FileKind =
  | "log"
  | "table"
  | "manifest"
  | "current"
  | "lock"
  | "temp";

/** A directory entry recognised as one of the database's files. */
export interface ParsedFileName {
  /** What the file is. */
  kind: FileKind;
  /** Its number (0 for `CURRENT` and `LOCK`). */
  number: number;
}

const pad = (n: number) => String(n).padStart(6, "0");

/**
 * Path of the WAL numbered `n`.
 *
 * @param dir Database directory.
 * @param n File number.
 * @returns `dir/NNNNNN.log`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logFileName } from "./filenames.ts";
 * assert(logFileName("db", 7) === "db/000007.log");
 * ```
 */
export function logFileName(dir: string, n: number): string {
  return join(dir, `${pad(n)}.log`);
}

/**
 * Path of the SSTable numbered `n`.
 *
 * @param dir Database directory.
 * @param n File number.
 * @returns `dir/NNNNNN.sst`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableFileName } from "./filenames.ts";
 * assert(tableFileName("db", 12) === "db/000012.sst");
 * ```
 */
export function tableFileName(dir: string, n: number): string {
  return join(dir, `${pad(n)}.sst`);
}

/**
 * Path of the manifest numbered `n`.
 *
 * @param dir Database directory.
 * @param n File number.
 * @returns `dir/MANIFEST-NNNNNN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manifestFileName } from "./filenames.ts";
 * assert(manifestFileName("db", 1) === "db/MANIFEST-000001");
 * ```
 */
export function manifestFileName(dir: string, n: number): string {
  return join(dir, `MANIFEST-${pad(n)}`);
}

/**
 * Recognises a database file by its name.
 *
 * @param name A directory entry's name (no directory part).
 * @returns What it is, or `undefined` for a foreign file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFileName } from "./filenames.ts";
 * assert(parseFileName("000012.sst")?.kind === "table");
 * assert(parseFileName("notes.txt") === undefined);
 * ```
 */
export function parseFileName(name: string): ParsedFileName | undefined {
  if (name === "CURRENT") return { kind: "current", number: 0 };
  if (name === "LOCK") return { kind: "lock", number: 0 };
  let m = /^(\d+)\.(log|sst|tmp)$/.exec(name);
  if (m) {
    const kind = m[2] === "log" ? "log" : m[2] === "sst" ? "table" : "temp";
    return { kind, number: Number(m[1]) };
  }
  m = /^MANIFEST-(\d+)$/.exec(name);
  if (m) return { kind: "manifest", number: Number(m[1]) };
  return undefined;
}
