/**
 * SQLite peer through Deno's built-in `node:sqlite` (`DatabaseSync`): one
 * `WITHOUT ROWID` table keyed by the key blob, WAL mode, prepared statements.
 * Plain writes run with `synchronous=NORMAL` (in WAL mode a commit survives a
 * process crash, not power loss: the same promise as Strata's `sync: false`);
 * durable databases use `synchronous=FULL` (every commit fsyncs the WAL).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { PeerEngine, PeerOpenOptions } from "./engine.ts";

/**
 * The SQLite adapter of the peer benchmark.
 *
 * @example Put, get, scan
 * ```ts
 * import { SqliteEngine } from "./sqlite.ts";
 * const dir = await Deno.makeTempDir();
 * const db = new SqliteEngine();
 * await db.open(dir, { durable: false });
 * db.put(new Uint8Array([2]), new Uint8Array([20]));
 * db.batch([new Uint8Array([1]), new Uint8Array([3])], [new Uint8Array([10]), new Uint8Array([30])]);
 * const seen: number[] = [];
 * db.scan(new Uint8Array([2]), false, 10, (k) => seen.push(k[0]!));
 * if (seen.join() !== "2,3") throw new Error(`bad scan ${seen}`);
 * await db.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SqliteEngine implements PeerEngine {
  readonly name = "sqlite" as const;
  readonly describe: string =
    "node:sqlite DatabaseSync, WAL, synchronous=NORMAL (FULL for fillsync)";
  #db: DatabaseSync | undefined;
  #put!: StatementSync;
  #get!: StatementSync;
  #del!: StatementSync;
  #fwdFrom!: StatementSync;
  #fwdAll!: StatementSync;
  #revFrom!: StatementSync;
  #revAll!: StatementSync;

  /**
   * Opens `dir/bench.sqlite`.
   *
   * @param dir Database directory.
   * @param options `durable` selects `synchronous=FULL`.
   */
  open(dir: string, options: PeerOpenOptions): Promise<void> {
    const db = new DatabaseSync(`${dir}/bench.sqlite`);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(`PRAGMA synchronous=${options.durable ? "FULL" : "NORMAL"}`);
    db.exec(
      "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID",
    );
    this.#put = db.prepare("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)");
    this.#get = db.prepare("SELECT v FROM kv WHERE k = ?");
    this.#del = db.prepare("DELETE FROM kv WHERE k = ?");
    this.#fwdFrom = db.prepare(
      "SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?",
    );
    this.#fwdAll = db.prepare("SELECT k, v FROM kv ORDER BY k LIMIT ?");
    this.#revFrom = db.prepare(
      "SELECT k, v FROM kv WHERE k <= ? ORDER BY k DESC LIMIT ?",
    );
    this.#revAll = db.prepare("SELECT k, v FROM kv ORDER BY k DESC LIMIT ?");
    // Rows as arrays skip building one object per row; Deno's node:sqlite
    // has the method (Node 24) but its types do not declare it yet.
    for (
      const s of [this.#fwdFrom, this.#fwdAll, this.#revFrom, this.#revAll]
    ) {
      const arrays =
        (s as unknown as { setReturnArrays?: (on: boolean) => void })
          .setReturnArrays;
      if (arrays === undefined) {
        throw new Error(
          "node:sqlite lacks StatementSync.setReturnArrays",
        );
      }
      arrays.call(s, true);
    }
    this.#db = db;
    return Promise.resolve();
  }

  /** Inserts or replaces one row in its own transaction. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.#put.run(key, value);
  }

  /** Same statement: durability comes from `synchronous=FULL` set at open. */
  putDurable(key: Uint8Array, value: Uint8Array): void {
    this.#put.run(key, value);
  }

  /** Inserts all rows in one transaction. */
  batch(keys: Uint8Array[], values: Uint8Array[]): void {
    const db = this.#db!;
    db.exec("BEGIN");
    try {
      for (let i = 0; i < keys.length; i++) this.#put.run(keys[i]!, values[i]!);
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }

  /** Reads one value. */
  get(key: Uint8Array): Uint8Array | undefined {
    const row = this.#get.get(key) as { v: Uint8Array } | undefined;
    return row?.v;
  }

  /** The same read: `node:sqlite` is synchronous. */
  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.get(key);
  }

  /** Deletes one row. */
  delete(key: Uint8Array): void {
    this.#del.run(key);
  }

  /** Walks a range with one `ORDER BY … LIMIT` statement. */
  scan(
    from: Uint8Array | undefined,
    reverse: boolean,
    limit: number,
    visit: (key: Uint8Array, value: Uint8Array) => void,
  ): number {
    const rows = from === undefined
      ? (reverse ? this.#revAll : this.#fwdAll).iterate(limit)
      : (reverse ? this.#revFrom : this.#fwdFrom).iterate(from, limit);
    let n = 0;
    for (const row of rows) {
      const r = row as unknown as [Uint8Array, Uint8Array];
      visit(r[0], r[1]);
      n++;
    }
    return n;
  }

  /** Closes the connection (which checkpoints the WAL). */
  close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }
}
