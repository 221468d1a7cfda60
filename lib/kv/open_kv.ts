/**
 * `openKv`: the Deno KV API on a Strata database. Switching from Deno KV
 * is one import: `openKv` instead of `Deno.openKv`, and no
 * `--unstable-kv`.
 *
 * In one process, every `openKv` of the same directory shares one open
 * database (Strata's directory lock admits one writer per process), as
 * several `Deno.openKv` of one file share it; the last `close()` closes it.
 * Another process meets the lock (`LockedError`); to share a database
 * between processes, serve it (`strata serve`) and open it over KV
 * Connect. `":memory:"` opens a fresh database in memory each time.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Fs } from "../fs/fs.ts";
import { InvalidArgumentError } from "../util/errors.ts";
import { describe } from "../engine/options.ts";
import { Kv } from "./kv.ts";
import { KvCore } from "./kv_core.ts";
import { DENO_KV_LIMITS, STRATA_LIMITS } from "./kv_limits.ts";

/** Options of {@link openKv}. */
export interface OpenKvOptions {
  /**
   * `"deno"` (the default): Deno KV's limits, with its errors, so that
   * code that runs here also runs on Deno Deploy: keys of 2 KiB, values of
   * 64 KiB, atomics of 1,000 mutations and 100 checks, `getMany` of 10
   * keys, `watch` of 10 keys. `"strata"`: values up to 256 MiB, keys up to
   * 64 KiB, atomics of 100,000 mutations, watches of 1,000 keys.
   */
  limits?: "deno" | "strata";
  /**
   * `true` (the default): `set`, `delete`, `commit` and `enqueue` resolve
   * once the write is on stable storage (`fdatasync`; concurrent writers
   * share one), as Deno KV's do. `false`: once the write is in the
   * operating system, so it survives a crash of the process but not a
   * power loss; far faster for one writer.
   */
  sync?: boolean;
  /** The filesystem (the real one by default; `MemFs`, `StrictFs`…). */
  fs?: Fs;
}

interface Shared {
  core: Promise<KvCore>;
  /** Set while the last handle's close runs: opens wait for it. */
  closing: Promise<void> | undefined;
}

// Open databases by directory, per filesystem (the real one: `disk`).
const disk = new Map<string, Shared>();
const others = new WeakMap<Fs, Map<string, Shared>>();

function registry(fs: Fs | undefined): Map<string, Shared> {
  if (fs === undefined || fs.kind === "disk") return disk;
  let map = others.get(fs);
  if (!map) others.set(fs, map = new Map());
  return map;
}

function checkOptions(options: unknown): Required<Omit<OpenKvOptions, "fs">> & {
  fs: Fs | undefined;
} {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== "object") {
    throw new InvalidArgumentError(
      `Invalid options ${describe(options)}: expected an object`,
    );
  }
  for (const name of Object.keys(o)) {
    if (!["limits", "sync", "fs"].includes(name)) {
      throw new InvalidArgumentError(`Unknown option "${name}"`);
    }
  }
  const limits = o.limits ?? "deno";
  if (limits !== "deno" && limits !== "strata") {
    throw new InvalidArgumentError(
      `Invalid option "limits": ${describe(limits)} is not "deno" or "strata"`,
    );
  }
  const sync = o.sync ?? true;
  if (typeof sync !== "boolean") {
    throw new InvalidArgumentError(
      `Invalid option "sync": ${describe(sync)} is not a boolean`,
    );
  }
  return { limits, sync, fs: o.fs as Fs | undefined };
}

/**
 * Opens (creating it if needed) the database in directory `path` and
 * returns its Deno KV API, a `Kv` that implements `Deno.Kv`.
 *
 * @param path A directory, or `":memory:"` for a fresh in-memory database.
 * @param options `limits`, `sync`, `fs`.
 * @returns The handle.
 * @throws {LockedError} Another process has the directory open.
 * @throws {InvalidArgumentError} Bad options.
 *
 * @example The one-import switch
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "./open_kv.ts";
 * await using kv = await openKv(":memory:");
 * await kv.set(["users", 1n], { name: "Ada" }, { expireIn: 60_000 });
 * const e = await kv.get<{ name: string }>(["users", 1n]);
 * assert.equal(e.value?.name, "Ada");
 * const r = await kv.atomic().check(e).set(["users", 1n], { name: "Grace" })
 *   .sum(["count"], 1n).commit();
 * assert(r.ok);
 * ```
 */
export async function openKv(
  path: string,
  options?: OpenKvOptions,
): Promise<Kv> {
  if (typeof path !== "string" || path.length === 0) {
    throw new InvalidArgumentError(
      `Invalid database path ${describe(path)}: expected a non-empty string`,
    );
  }
  const opts = checkOptions(options);
  const coreOptions = {
    sync: opts.sync,
    limits: opts.limits === "strata" ? STRATA_LIMITS : DENO_KV_LIMITS,
  };
  if (path === ":memory:") {
    const core = await KvCore.open(path, undefined, coreOptions);
    core.refs = 1;
    return new Kv(core, () => core.close());
  }
  const open = registry(opts.fs);
  const id = resolve(path);
  for (;;) {
    const shared = open.get(id);
    if (shared === undefined) break;
    if (shared.closing) {
      await shared.closing; // then open afresh
      continue;
    }
    const core = await shared.core;
    if (open.get(id) !== shared || shared.closing) continue;
    core.refs++;
    return new Kv(core, () => release(open, id, shared, core));
  }
  const shared: Shared = {
    core: KvCore.open(path, opts.fs, coreOptions),
    closing: undefined,
  };
  open.set(id, shared);
  let core: KvCore;
  try {
    core = await shared.core;
  } catch (err) {
    if (open.get(id) === shared) open.delete(id);
    throw err;
  }
  core.refs++;
  return new Kv(core, () => release(open, id, shared, core));
}

function release(
  open: Map<string, Shared>,
  id: string,
  shared: Shared,
  core: KvCore,
): Promise<void> {
  if (--core.refs > 0) return Promise.resolve();
  const closing = core.close().finally(() => {
    if (open.get(id) === shared) open.delete(id);
  });
  shared.closing = closing;
  return closing;
}
