/**
 * The queue of the Deno KV API. Messages live in the database (the queue
 * key space, lib/kv/kv_layout.ts), ordered by the time they are due, so
 * they survive a crash and a reopen. A listener takes the first message
 * due that is not already being handled, calls the handler, and then, in
 * one commit: deletes it when the handler succeeded; otherwise puts it back
 * due after the next delay of its backoff schedule, or, when the schedule
 * is used up, writes it to its `keysIfUndelivered` and deletes it.
 * Delivery is at least once: a message whose handler was running when the
 * process died is still in the database, and is delivered again.
 *
 * @module
 */

import { toHex } from "../util/bytes.ts";
import { KeepAlive } from "./keep_alive.ts";
import type { KvCore } from "./kv_core.ts";
import {
  dataKey,
  decodeMessage,
  encodeEntry,
  encodeMessage,
  QUEUE_SPACE,
  queueKey,
  queueKeyReadyAt,
  type QueueMessage,
} from "./kv_layout.ts";
import { deserializeV8 } from "./value_codec.ts";

/** Handlers running at once, at most (Deno KV's dispatch limit). */
const MAX_RUNNING = 100;
const QUEUE_PREFIX = new Uint8Array([QUEUE_SPACE]);

/**
 * Delivers one database's queue messages to its listeners.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "./open_kv.ts";
 * const kv = await openKv(":memory:");
 * const got: unknown[] = [];
 * const listening = kv.listenQueue((m) => {
 *   got.push(m);
 *   kv.close();
 * });
 * await kv.enqueue({ job: 1 });
 * await listening;
 * assert.deepEqual(got, [{ job: 1 }]);
 * ```
 */
export class QueueDispatcher {
  readonly #core: KvCore;
  readonly #running = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #wakers = new Set<() => void>();
  readonly #alive = new KeepAlive();
  #closed = false;
  /** Counts wake-ups, so one that comes during a scan is not lost. */
  #generation = 0;

  /**
   * @param core The database.
   */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** A commit enqueued, or a message was finished: look again. */
  wake(): void {
    this.#generation++;
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const w of wakers) w();
  }

  /** Stops every listener (the database closes). */
  close(): void {
    this.#closed = true;
    this.wake();
  }

  /** Resolves once no handler's outcome is still being written. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /**
   * Delivers messages to `handler` until `ended()` says the listener's
   * handle closed.
   *
   * @param handler Called with each message; a throw or rejection retries.
   * @param ended True once the listener should stop.
   * @param onEnd Registers a callback for when it should stop.
   */
  async listen(
    handler: (message: unknown) => unknown,
    ended: () => boolean,
  ): Promise<void> {
    const mine = new Set<Promise<void>>();
    this.#alive.acquire();
    try {
      while (!this.#closed && !ended()) {
        const generation = this.#generation;
        const now = Date.now();
        const next = await this.#next();
        if (this.#closed || ended()) break;
        if (
          next !== undefined && next.readyAt <= now &&
          this.#running.size < MAX_RUNNING
        ) {
          const p = this.#dispatch(next.key, next.value, handler);
          mine.add(p);
          p.finally(() => mine.delete(p));
          continue;
        }
        if (generation !== this.#generation) continue; // woken meanwhile
        const delay = next === undefined || this.#running.size >= MAX_RUNNING
          ? Infinity
          : next.readyAt - now;
        await this.#sleep(delay);
      }
    } finally {
      this.#alive.release();
    }
    await Promise.all([...mine]);
  }

  /** The first message not being handled, if any. */
  async #next(): Promise<
    { key: Uint8Array; value: Uint8Array; readyAt: number } | undefined
  > {
    const scan = this.#core.db.scan({ prefix: QUEUE_PREFIX });
    try {
      for await (const { key, value } of scan) {
        if (this.#running.has(toHex(key))) continue;
        return { key, value, readyAt: queueKeyReadyAt(key) };
      }
    } finally {
      await scan.return?.();
    }
    return undefined;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      this.#wakers.add(wake);
      if (ms !== Infinity) timer = setTimeout(wake, Math.max(0, ms));
    });
  }

  #dispatch(
    key: Uint8Array,
    raw: Uint8Array,
    handler: (message: unknown) => unknown,
  ): Promise<void> {
    const id = toHex(key);
    this.#running.add(id);
    const run = (async () => {
      let message: QueueMessage | undefined;
      let ok = false;
      try {
        message = decodeMessage(raw);
        const result = handler(deserializeV8(message.payload));
        if (result instanceof Promise) await result;
        ok = true;
      } catch {
        // Retried on the message's backoff schedule.
      }
      try {
        if (message && !this.#core.closed) await this.#finish(key, message, ok);
      } catch {
        // Left in place: delivered again (after a reopen, at the latest).
      } finally {
        this.#running.delete(id);
        this.wake();
      }
    })();
    this.#inFlight.add(run);
    run.finally(() => this.#inFlight.delete(run));
    return run;
  }

  /** Deletes a handled message, or puts it back, or gives it up. */
  #finish(key: Uint8Array, message: QueueMessage, ok: boolean): Promise<void> {
    return this.#core.commitInternal((batch, counter) => {
      batch.delete(key);
      if (ok) return [];
      const [delay, ...rest] = message.backoffSchedule;
      if (delay !== undefined) {
        batch.put(
          queueKey(Date.now() + delay, counter, 0),
          encodeMessage({ ...message, backoffSchedule: rest }),
        );
        return [];
      }
      // Given up: the message, as a value, at each of its keys.
      for (const k of message.keysIfUndelivered) {
        batch.put(dataKey(k), encodeEntry(counter, 0, message.payload));
      }
      return message.keysIfUndelivered;
    });
  }
}
