/**
 * Named points in the flush, compaction and manifest code where a test can
 * step in, typically to kill the process right there and check that
 * recovery copes. In production nothing is registered and a failpoint costs
 * one `Map` lookup on a path that runs once per flush or compaction.
 *
 * The points, in the order they are reached:
 *
 * | name                            | reached after                              |
 * | ------------------------------- | ------------------------------------------ |
 * | `flush:table-synced`            | a memtable's table is written and synced   |
 * | `flush:manifest-appended`       | the manifest edit adding it is durable     |
 * | `compaction:outputs-synced`     | compaction outputs are written and synced  |
 * | `compaction:manifest-appended`  | the edit swapping inputs for outputs is durable |
 * | `obsolete:deleted-one`          | one obsolete file was deleted              |
 * | `manifest:new-written`          | a rewritten manifest is synced, before `CURRENT` moves |
 * | `current:temp-written`          | `CURRENT`'s temp file is synced, before the rename |
 *
 * @module
 */

/** A failpoint name. */
export type FailpointName =
  | "flush:table-synced"
  | "flush:manifest-appended"
  | "compaction:outputs-synced"
  | "compaction:manifest-appended"
  | "obsolete:deleted-one"
  | "manifest:new-written"
  | "current:temp-written";

const handlers = new Map<FailpointName, () => void>();

/**
 * Registers `handler` to run whenever `name` is reached (replacing any
 * earlier one); `undefined` removes it.
 *
 * @param name The failpoint.
 * @param handler What to do there (for example, kill the process).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failpoint, setFailpoint } from "./failpoints.ts";
 * let hits = 0;
 * setFailpoint("flush:table-synced", () => hits++);
 * failpoint("flush:table-synced");
 * setFailpoint("flush:table-synced", undefined);
 * failpoint("flush:table-synced");
 * assert.equal(hits, 1);
 * ```
 */
export function setFailpoint(
  name: FailpointName,
  handler: (() => void) | undefined,
): void {
  if (handler) handlers.set(name, handler);
  else handlers.delete(name);
}

/**
 * Marks that the engine reached `name`.
 *
 * @param name The failpoint.
 *
 * @example
 * ```ts
 * import { failpoint } from "./failpoints.ts";
 * failpoint("current:temp-written"); // nothing registered: no effect
 * ```
 */
export function failpoint(name: FailpointName): void {
  handlers.get(name)?.();
}
