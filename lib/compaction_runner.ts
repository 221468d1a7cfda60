/**
 * Runs background jobs (flushes and compactions) on a Worker, so that
 * their CPU work happens on another core. The worker starts with the first
 * job and stops a second after the last one finishes (or when the engine
 * closes), so an idle database keeps no thread. Where a Worker cannot be
 * started (permissions, an embedder without workers), jobs run on the main
 * thread in slices.
 *
 * @module
 */

import type { MergeResult } from "./compaction.ts";
import {
  type BackgroundJob,
  runCompactionJob,
  runFlushJob,
} from "./compaction_job.ts";
import { CorruptionError, StrataError } from "./errors.ts";
import type { TableCache } from "./table_cache.ts";

interface WorkerReply {
  id: number;
  result?: MergeResult;
  error?: { name: string; message: string; file?: string; offset?: number };
}

interface Pending {
  resolve: (result: MergeResult) => void;
  reject: (err: unknown) => void;
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
 * Runs jobs, on a Worker when it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "./block_cache.ts";
 * import { CompactionRunner } from "./compaction_runner.ts";
 * import { TableCache } from "./table_cache.ts";
 * const runner = new CompactionRunner(new TableCache(".", new BlockCache(0)));
 * const result = await runner.run({
 *   kind: "compaction", dir: ".", inputs: [], overlaps: [], blockSize: 4096,
 *   bloomBitsPerKey: 10, targetFileSize: 1 << 20, smallestSnapshot: 0,
 *   deeperLevels: [], outputNumbers: [],
 * });
 * assert.equal(result.outputs.length, 0);
 * runner.stop();
 * ```
 */
export class CompactionRunner {
  readonly #tables: TableCache;
  #worker: Worker | undefined;
  #workerFailed = false;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /**
   * @param tables The engine's tables, for jobs run on the main thread.
   * @param options `useWorker: false` runs every job on the main thread.
   */
  constructor(tables: TableCache, options: { useWorker?: boolean } = {}) {
    this.#tables = tables;
    this.#workerFailed = options.useWorker === false;
  }

  /**
   * Runs a job. After {@link CompactionRunner.stop} its result is
   * `aborted`.
   *
   * @param job The job.
   * @returns What it wrote.
   */
  run(job: BackgroundJob): Promise<MergeResult> {
    this.#stopped = false;
    clearTimeout(this.#idleTimer);
    const worker = this.#startWorker();
    if (!worker) {
      return job.kind === "flush"
        ? runFlushJob(job)
        : runCompactionJob(job, this.#tables, () => this.#stopped);
    }
    const id = this.#nextId++;
    const done = new Promise<MergeResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    worker.postMessage({ id, job });
    return done.finally(() => this.#stopWhenIdle());
  }

  #startWorker(): Worker | undefined {
    if (this.#worker || this.#workerFailed) return this.#worker;
    try {
      const worker = new Worker(
        new URL("./compaction_worker.ts", import.meta.url).href,
        { type: "module" },
      );
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const { id, result, error } = event.data;
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        if (result) pending?.resolve(result);
        else pending?.reject(rebuildError(error));
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.#terminate();
        this.#settleAll((p) =>
          p.reject(
            new StrataError(
              "COMPACTION",
              `Background worker failed: ${event.message}`,
            ),
          )
        );
      };
      this.#worker = worker;
    } catch {
      this.#workerFailed = true; // no workers here: run on the main thread
    }
    return this.#worker;
  }

  #stopWhenIdle(): void {
    if (this.#pending.size > 0 || !this.#worker) return;
    clearTimeout(this.#idleTimer);
    const timer = setTimeout(() => {
      if (this.#pending.size === 0) this.#terminate();
    }, IDLE_MS);
    // The timer must not keep a finished program alive.
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #terminate(): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  #settleAll(settle: (pending: Pending) => void): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) settle(p);
  }

  /**
   * Starts the worker ahead of a job that is coming (a memtable filling
   * up), so the job does not wait for its start-up; an unused worker stops
   * again after a second.
   */
  warmUp(): void {
    if (this.#worker || this.#workerFailed) return;
    this.#startWorker();
    this.#stopWhenIdle();
  }

  /** Whether jobs run on a Worker (false after a failure to start one). */
  get usesWorker(): boolean {
    return !this.#workerFailed;
  }

  /**
   * Stops the worker now; jobs in flight resolve as aborted (their partial
   * output stays on disk, unreferenced, until a sweep deletes it).
   */
  stop(): void {
    this.#stopped = true;
    this.#terminate();
    this.#settleAll((p) => p.resolve(ABORTED));
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
  return new StrataError("COMPACTION", error.message.replace(/^strata: /, ""));
}
