/**
 * Worker entry point: runs the {@link BackgroundJob}s (flushes and
 * compactions) that every open database's {@link CompactionRunner} posts,
 * and posts back their results, so that merging, block building and
 * checksumming use another core while the main thread keeps serving reads
 * and writes. Jobs
 * run concurrently: a flush does not wait behind a long compaction, as both
 * yield between slices.
 *
 * Messages in: `{ id, job }`, or `{ abort: id }` to stop a job early (it
 * still replies). Messages out: `{ id, result }` or
 * `{ id, error: { name, message, file?, offset? } }`.
 *
 * @module
 */

import {
  type BackgroundJob,
  runCompactionJob,
  runFlushJob,
} from "./compaction_job.ts";
import { CorruptionError, IOError } from "../util/errors.ts";

const scope = self as unknown as {
  onmessage:
    | ((
      event: MessageEvent<
        { id: number; job: BackgroundJob } | { abort: number }
      >,
    ) => void)
    | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

/** Jobs asked to stop early; they check between slices. */
const aborted = new Set<number>();

scope.onmessage = async (event) => {
  if ("abort" in event.data) {
    aborted.add(event.data.abort);
    return;
  }
  const { id, job } = event.data;
  const stopped = () => aborted.has(id);
  try {
    const result = job.kind === "flush"
      ? await runFlushJob(job, stopped)
      : await runCompactionJob(job, undefined, stopped);
    if (job.kind === "flush") {
      // The image's buffer goes back, to hold the next flush's image.
      const buffer = job.image.buffer;
      scope.postMessage({ id, result, buffer }, [buffer]);
    } else {
      scope.postMessage({ id, result });
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({
      id,
      error: {
        name: e.name,
        message: e.message,
        ...(err instanceof CorruptionError
          ? { file: err.file, offset: err.offset }
          : err instanceof IOError
          ? { file: err.file, operation: err.operation }
          : {}),
      },
    });
  } finally {
    aborted.delete(id);
  }
};
