/**
 * Yielding to the event loop, cheaply.
 *
 * The obvious `setTimeout(resolve, 0)` costs about 2 µs on an idle event
 * loop, but about 1.1 ms while any async I/O is pending (an `fdatasync`, a
 * file open): the timer then waits for the next tick of the I/O poller.
 * Flushes and compactions yield hundreds of times a second with syncs in
 * flight, so that millisecond made the engine idle half the time.
 * `setImmediate` runs after pending I/O callbacks without that wait (about
 * 4 µs, measured on Deno 2.9.6), and keeps nothing alive.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/**
 * Resolves after the event loop has had a turn to run other tasks: timers,
 * I/O callbacks, other async functions.
 *
 * @returns A promise that resolves on the next turn.
 *
 * @example
 * ```ts
 * import { yieldToEventLoop } from "./yield.ts";
 * let ran = false;
 * setTimeout(() => ran = true, 0);
 * while (!ran) await yieldToEventLoop();
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
