/**
 * Runs background jobs (flushes and compactions) on a Worker, so that
 * their CPU work happens on another core. One worker serves every database
 * open in the process, as LevelDB's `Env` has one background thread: it
 * starts with the first job and stops a second after the last one finishes,
 * so an idle process keeps no thread, while back-to-back work (a reopen, a
 * second database) finds it running with its JIT already warm. Where a
 * Worker cannot be started (permissions, an embedder without workers), jobs
 * run on the main thread in slices.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { DiskFs, diskFs } from "../fs/disk_fs.ts";
import type { Fs } from "../fs/fs.ts";
import type { MergeResult } from "./compaction.ts";
import {
  type BackgroundJob,
  flushMemTable,
  type FlushSettings,
  runCompactionJob,
  runFlushJob,
} from "./compaction_job.ts";
import { CorruptionError, IOError, StrataError } from "../util/errors.ts";
import type { MemTable } from "../memtable/memtable.ts";
import type { TableCache } from "../sstable/table_cache.ts";

interface WorkerReply {
  id: number;
  result?: MergeResult;
  error?: {
    name: string;
    message: string;
    file?: string;
    offset?: number;
    operation?: string;
  };
  /** A flush's image buffer, transferred back for the next flush. */
  buffer?: ArrayBuffer;
}

const ABORTED: MergeResult = {
  outputs: [],
  entriesRead: 0,
  entriesDropped: 0,
  aborted: true,
};

/** How long an idle worker lives: restarting one costs about 20 ms. */
const IDLE_MS = 1000;

/**
 * The process's one background worker: jobs go in with an id, replies come
 * back to whoever posted that id.
 */
class SharedWorker {
  #worker: Worker | undefined;
  #failed = false;
  /**
   * The image buffer of the last flush, back from the worker: the next
   * flush packs its memtable into it, so neither side allocates (and
   * leaves for the garbage collector) megabytes per flush.
   */
  spareImage: ArrayBuffer | undefined;
  readonly #replies = new Map<number, (reply: WorkerReply) => void>();
  #nextId = 1;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** False once a worker failed to start: jobs run on the main thread. */
  get available(): boolean {
    return !this.#failed;
  }

  /** Starts the worker if needed; false when no worker can run here. */
  start(): boolean {
    if (this.#worker) return true;
    if (this.#failed) return false;
    const url = new URL("./compaction_worker.ts", import.meta.url);
    // Deno refuses a Worker whose modules (all of lib/) it may not read,
    // but only once the worker has started, as an error event that would
    // fail the job: a program run with read access to its database alone
    // (`strata serve` under least permissions) compacts on the main thread.
    if (!mayLoad(new URL("../", import.meta.url))) {
      this.#failed = true;
      return false;
    }
    try {
      const worker = new Worker(url.href, { type: "module" });
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const reply = this.#replies.get(event.data.id);
        this.#replies.delete(event.data.id);
        reply?.(event.data);
        this.#stopWhenIdle();
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.#terminate();
        const message = `Background worker failed: ${event.message}`;
        const all = [...this.#replies.entries()];
        this.#replies.clear();
        for (const [id, reply] of all) {
          reply({ id, error: { name: "", message } });
        }
      };
      this.#worker = worker;
      this.#stopWhenIdle();
      return true;
    } catch {
      this.#failed = true; // no workers here: run on the main thread
      return false;
    }
  }

  /**
   * Posts a job (the worker must be started); `reply` gets its answer. A
   * flush's image buffer is transferred, not copied: the job owns it.
   */
  post(job: BackgroundJob, reply: (reply: WorkerReply) => void): number {
    clearTimeout(this.#idleTimer);
    const id = this.#nextId++;
    this.#replies.set(id, reply);
    const transfer = job.kind === "flush" ? [job.image.buffer] : [];
    this.#worker!.postMessage({ id, job }, transfer);
    return id;
  }

  /** Asks the worker to stop job `id` early; it still replies. */
  abort(id: number): void {
    if (this.#replies.has(id)) this.#worker?.postMessage({ abort: id });
  }

  #stopWhenIdle(): void {
    if (this.#replies.size > 0 || !this.#worker) return;
    clearTimeout(this.#idleTimer);
    const timer = setTimeout(() => {
      if (this.#replies.size === 0) this.#terminate();
    }, IDLE_MS);
    // The timer must not keep a finished program alive.
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #terminate(): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.spareImage = undefined; // an idle process keeps no spare memory
  }
}

const sharedWorker = new SharedWorker();

/** Whether this program may read the modules under `url` into a Worker. */
function mayLoad(url: URL): boolean {
  if (url.protocol !== "file:") return true; // remote or embedded: no check
  try {
    const path = fileURLToPath(url);
    return Deno.permissions.querySync({ name: "read", path }).state ===
      "granted";
  } catch {
    return true; // no permissions API here: let the start decide
  }
}

/**
 * Runs one database's jobs, on the shared Worker when it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "../sstable/block_cache.ts";
 * import { CompactionRunner } from "./compaction_runner.ts";
 * import { TableCache } from "../sstable/table_cache.ts";
 * const runner = new CompactionRunner(new TableCache(".", new BlockCache(0)));
 * const result = await runner.run({
 *   kind: "compaction", dir: ".", inputs: [], overlaps: [], blockSize: 4096,
 *   bloomBitsPerKey: 10, targetFileSize: 1 << 20, smallestSnapshot: 0,
 *   deeperLevels: [], outputNumbers: [],
 * });
 * assert.equal(result.outputs.length, 0);
 * await runner.stop();
 * ```
 */
export class CompactionRunner {
  readonly #tables: TableCache;
  readonly #fs: Fs;
  readonly #useWorker: boolean;
  readonly #spareLimit: number;
  /** Jobs on the worker, by id: settled when the worker replies. */
  readonly #inFlight = new Map<number, Promise<MergeResult>>();
  // Compactions of this database on the worker now.
  #compactionsOnWorker = 0;
  #stopped = false;

  /**
   * @param tables The engine's tables, for jobs run on the main thread.
   * @param options `useWorker: false` runs every job on the main thread;
   * `spareImageBytes` is the largest flush image buffer worth keeping for
   * the next flush (a recovered memtable's may be several times larger
   * than the ones that follow, and would be held for nothing); `fs` is the
   * filesystem (the real one by default). A Worker sees only the real
   * filesystem, so jobs on any other (`MemFs`, `StrictFs`) run on the main
   * thread.
   */
  constructor(
    tables: TableCache,
    options: { useWorker?: boolean; spareImageBytes?: number; fs?: Fs } = {},
  ) {
    this.#tables = tables;
    this.#fs = options.fs ?? diskFs;
    this.#useWorker = options.useWorker !== false &&
      this.#fs instanceof DiskFs;
    this.#spareLimit = options.spareImageBytes ?? 16 << 20;
  }

  /**
   * Runs a job.
   *
   * @param job The job.
   * @returns Its result; `aborted` when {@link CompactionRunner.stop} cut
   * it short.
   */
  run(job: BackgroundJob): Promise<MergeResult> {
    this.#stopped = false;
    if (!this.#useWorker || !sharedWorker.start()) {
      const stopped = () => this.#stopped;
      return job.kind === "flush"
        ? runFlushJob(job, stopped, this.#fs)
        : runCompactionJob(job, this.#tables, stopped, this.#fs);
    }
    let id = 0;
    const compaction = job.kind === "compaction";
    if (compaction) this.#compactionsOnWorker++;
    const done = new Promise<MergeResult>((resolve, reject) => {
      id = sharedWorker.post(job, ({ result, error, buffer }) => {
        this.#inFlight.delete(id);
        if (compaction) this.#compactionsOnWorker--;
        if (
          buffer !== undefined && buffer.byteLength <= this.#spareLimit &&
          buffer.byteLength > (sharedWorker.spareImage?.byteLength ?? 0)
        ) {
          sharedWorker.spareImage = buffer;
        }
        // After stop() the engine has moved on: whatever the job wrote is
        // unreferenced, and a sweep deletes it.
        if (this.#stopped) resolve(ABORTED);
        else if (result) resolve(result);
        else reject(rebuildError(error));
      });
    });
    this.#inFlight.set(id, done.catch(() => ABORTED));
    return done;
  }

  /**
   * Writes a memtable to one table: on the worker, its image packed into
   * the buffer the previous flush handed back; on the main thread, straight
   * from the memtable.
   *
   * @param mem The (immutable) memtable.
   * @param settings Where and how to write the table.
   * @returns The result; `aborted` when {@link CompactionRunner.stop} cut
   * it short.
   */
  flush(mem: MemTable, settings: FlushSettings): Promise<MergeResult> {
    // While the worker compacts, a flush sent there would share its core
    // (the worker interleaves jobs) and writers would wait on a full
    // memtable with the main thread idle: flush here, on the other core.
    // 3M random puts, two runs each: 116-128k/s flushing on the worker,
    // 133k/s here.
    if (
      !this.#useWorker || this.#compactionsOnWorker > 0 ||
      !sharedWorker.start()
    ) {
      this.#stopped = false;
      return flushMemTable(mem, settings, () => this.#stopped, this.#fs);
    }
    // A spare much larger than needed (another database's) is let go.
    const spare = sharedWorker.spareImage;
    sharedWorker.spareImage = undefined;
    const fits = spare !== undefined &&
      spare.byteLength <= 2 * mem.imageByteLength;
    const image = mem.toImage(fits ? spare : undefined);
    return this.run({ kind: "flush", image, ...settings });
  }

  /**
   * Starts the worker ahead of a job that is coming (a memtable filling
   * up), so the job does not wait for its start-up; an unused worker stops
   * again after a second.
   */
  warmUp(): void {
    if (this.#useWorker) sharedWorker.start();
  }

  /** Whether jobs run on a Worker (false where none could start). */
  get usesWorker(): boolean {
    return this.#useWorker && sharedWorker.available;
  }

  /**
   * Stops this runner's jobs: they end early and resolve as aborted (their
   * partial output stays on disk, unreferenced, until a sweep deletes it).
   *
   * @returns Resolves once no job of this runner is still touching files.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const id of this.#inFlight.keys()) sharedWorker.abort(id);
    await Promise.all(this.#inFlight.values());
  }
}

function rebuildError(error: WorkerReply["error"]): Error {
  if (!error) {
    return new StrataError("COMPACTION", "Background worker sent no result");
  }
  if (error.name === "CorruptionError" && error.file !== undefined) {
    // The worker's message already carries the "strata: " prefix and the
    // location; keep the reason only.
    const reason = error.message.replace(/^.*? at offset \d+: /, "");
    return new CorruptionError(error.file, error.offset ?? 0, reason);
  }
  if (
    error.name === "IOError" && error.file !== undefined &&
    error.operation !== undefined
  ) {
    // Keep the filesystem's reason, after "Cannot <operation> "<file>": ".
    const reason = error.message.replace(/^strata: Cannot .*?": /, "");
    return new IOError(error.operation, error.file, new Error(reason));
  }
  return new StrataError("COMPACTION", error.message.replace(/^strata: /, ""));
}
