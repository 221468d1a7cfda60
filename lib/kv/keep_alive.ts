/**
 * Keeping the process alive while something waits on the database. Deno
 * KV's `watch` streams and `listenQueue` wait on pending operations, which
 * keep a Deno program running; Strata's wait on promises, which do not. A
 * long timer, held while any of them waits, does the same job.
 *
 * @module
 */

/**
 * Counts holders; a ref'd timer runs while there is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeepAlive } from "./keep_alive.ts";
 * const alive = new KeepAlive();
 * alive.acquire();
 * assert(alive.held);
 * alive.release();
 * assert(!alive.held);
 * ```
 */
export class KeepAlive {
  #holders = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** True while someone holds it. */
  get held(): boolean {
    return this.#holders > 0;
  }

  /** One more holder. */
  acquire(): void {
    if (this.#holders++ === 0) {
      this.#timer = setInterval(() => {}, 2 ** 30);
    }
  }

  /** One holder fewer. */
  release(): void {
    if (this.#holders === 0) return;
    if (--this.#holders === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
