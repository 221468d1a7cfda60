/**
 * How CLI commands open a database: reads never create one or take write
 * access, writes create the directory only when the command makes sense on
 * a new database (`put`, `import`).
 *
 * @module
 */

import { DB } from "../mod.ts";
import { UsageError } from "./command.ts";

/**
 * What the command does with the database:
 * - `read`: read-only, the database must exist;
 * - `write`: writable, the database must exist;
 * - `create`: writable, created when missing.
 */
export type OpenMode = "read" | "write" | "create";

/**
 * Opens the database at `path` for a CLI command.
 *
 * @param path Database directory, as given on the command line.
 * @param mode What the command needs.
 * @returns The open database; the caller closes it.
 * @throws {UsageError} When `path` is empty.
 * @throws {NotFoundError} When there is no database and `mode` is not `create`.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./open_database.ts";
 * const dir = await Deno.makeTempDir();
 * const db = await openDatabase(dir, "create");
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openDatabase(path: string, mode: OpenMode): Promise<DB> {
  if (path === "") {
    throw new UsageError('Invalid database path "": it is empty');
  }
  return DB.open(path, {
    createIfMissing: mode === "create",
    readOnly: mode === "read",
  });
}
