/**
 * Worker entry point: runs {@link CompactionJob}s posted by the engine's
 * {@link CompactionRunner} and posts back their results, so that merging,
 * block building and checksumming use another core while the main thread
 * keeps serving reads and writes.
 *
 * Messages in: a `CompactionJob`. Messages out: `{ result }` or
 * `{ error: { name, message, file?, offset? } }`.
 *
 * @module
 */

import { runCompactionJob } from "./compaction_job.ts";
import type { CompactionJob } from "./compaction_job.ts";
import { CorruptionError } from "./errors.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CompactionJob>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event) => {
  try {
    scope.postMessage({ result: await runCompactionJob(event.data) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({
      error: {
        name: e.name,
        message: e.message,
        ...(err instanceof CorruptionError
          ? { file: err.file, offset: err.offset }
          : {}),
      },
    });
  }
};
