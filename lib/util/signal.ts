/**
 * A waitable signal: waiters park until someone says something changed,
 * then look again. The engine's writers and `flush()` wait on one for
 * background work to make progress.
 *
 * @module
 */

/**
 * Wakes every waiter at once on {@link Signal.notify}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Signal } from "./signal.ts";
 * const changed = new Signal();
 * let woke = false;
 * const waiting = changed.wait().then(() => woke = true);
 * changed.notify();
 * await waiting;
 * assert(woke);
 * ```
 */
export class Signal {
  #waiters: (() => void)[] = [];

  /** Resolves at the next {@link Signal.notify}. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes everyone waiting now. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
