/**
 * Runs compaction jobs on a Worker, so that the merge's CPU work happens on
 * another core. The worker is started for a burst of compactions and
 * stopped when the engine has no more to do (or closes), so an idle
 * database keeps no thread. Where a Worker cannot be started (permissions,
 * an embedder without workers), jobs run on the main thread in slices.
 *
 * @module
 */

import type { MergeResult } from "./compaction.ts";
import { type CompactionJob, runCompactionJob } from "./compaction_job.ts";
import { CorruptionError, StrataError } from "./errors.ts";
import type { TableCache } from "./table_cache.ts";

interface WorkerReply {
  result?: MergeResult;
  error?: { name: string; message: string; file?: string; offset?: number };
}

/**
 * Runs one job at a time, on a Worker when it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockCache } from "./block_cache.ts";
 * import { CompactionRunner } from "./compaction_runner.ts";
 * import { TableCache } from "./table_cache.ts";
 * const runner = new CompactionRunner(new TableCache(".", new BlockCache(0)));
 * const result = await runner.run({
 *   dir: ".", inputs: [], overlaps: [], blockSize: 4096, bloomBitsPerKey: 10,
 *   targetFileSize: 1 << 20, smallestSnapshot: 0, deeperLevels: [], outputNumbers: [],
 * });
 * assert.equal(result.outputs.length, 0);
 * runner.stop();
 * ```
 */
export class CompactionRunner {
  readonly #tables: TableCache;
  #worker: Worker | undefined;
  #workerFailed = false;
  #pending:
    | { resolve: (r: MergeResult) => void; reject: (e: unknown) => void }
    | undefined;
  #stopped = false;

  /** @param tables The engine's tables, for jobs run on the main thread. */
  constructor(tables: TableCache) {
    this.#tables = tables;
  }

  /**
   * Runs a job. After {@link CompactionRunner.stop} the result is
   * `aborted`.
   *
   * @param job The job.
   * @returns What it wrote.
   */
  run(job: CompactionJob): Promise<MergeResult> {
    this.#stopped = false;
    const worker = this.#startWorker();
    if (!worker) {
      return runCompactionJob(job, this.#tables, () => this.#stopped);
    }
    return new Promise<MergeResult>((resolve, reject) => {
      this.#pending = { resolve, reject };
      worker.postMessage(job);
    });
  }

  #startWorker(): Worker | undefined {
    if (this.#worker || this.#workerFailed) return this.#worker;
    try {
      const worker = new Worker(
        new URL("./compaction_worker.ts", import.meta.url).href,
        {
          type: "module",
        },
      );
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const pending = this.#pending;
        this.#pending = undefined;
        const { result, error } = event.data;
        if (result) pending?.resolve(result);
        else pending?.reject(rebuildError(error));
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        const pending = this.#pending;
        this.#pending = undefined;
        this.#worker?.terminate();
        this.#worker = undefined;
        pending?.reject(
          new StrataError(
            "COMPACTION",
            `Compaction worker failed: ${event.message}`,
          ),
        );
      };
      this.#worker = worker;
    } catch {
      this.#workerFailed = true; // no workers here: run on the main thread
    }
    return this.#worker;
  }

  /** Whether jobs run on a Worker (false after a failure to start one). */
  get usesWorker(): boolean {
    return !this.#workerFailed;
  }

  /**
   * Stops the worker; a job in flight resolves as aborted (its partial
   * output stays on disk, unreferenced, until the next open deletes it).
   */
  stop(): void {
    this.#stopped = true;
    this.#worker?.terminate();
    this.#worker = undefined;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve({
      outputs: [],
      entriesRead: 0,
      entriesDropped: 0,
      aborted: true,
    });
  }
}

function rebuildError(error: WorkerReply["error"]): Error {
  if (!error) {
    return new StrataError("COMPACTION", "Compaction worker sent no result");
  }
  if (error.name === "CorruptionError" && error.file !== undefined) {
    // The worker's message already carries the "strata: " prefix and the
    // location; keep the reason only.
    const reason = error.message.replace(/^.*? at offset \d+: /, "");
    return new CorruptionError(error.file, error.offset ?? 0, reason);
  }
  return new StrataError("COMPACTION", error.message.replace(/^strata: /, ""));
}
