/**
 * Pacing: every few hundred reads or writes, the caller resolves through
 * the event loop rather than in a microtask.
 *
 * A caller awaiting only resolved promises runs in microtasks and would
 * starve everything else: background work (flush and compaction slices
 * are timer tasks, a worker's result is a message, each step of installing
 * one is an I/O callback) until the memtable fills and writes stall, and
 * the rest of the program too. So every few hundred operations a read or
 * write resolves through the event loop, letting other tasks run (about
 * 4 µs each time): flushing overlaps writing, compactions finish during
 * reads, and others never wait long.
 *
 * @module
 */

import { yieldToEventLoop } from "../util/yield.ts";
import { type EngineState, RESOLVED } from "./engine_state.ts";

/** Operations between turns of the event loop, normally. */
const OPS_PER_TURN = 256;
/** The same while a writer waits for room (for a flush or compaction). */
const OPS_PER_TURN_STALLED = 16;

/**
 * Hands out event-loop turns to one database's callers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * // Pacing is internal: a tight loop of puts still lets a timer run.
 * await using db = await DB.open(":memory:");
 * let ticked = false;
 * setTimeout(() => ticked = true, 0);
 * for (let i = 0; !ticked; i++) await db.put(`k${i % 100}`, "v");
 * assert(ticked);
 * ```
 */
export class Pacer {
  readonly #state: EngineState;
  #opsSinceTurn = 0;
  /** The event-loop turn callers are waiting for, while one is due. */
  #turn: Promise<void> | undefined;
  /** Writers waiting for room (in the write path). */
  stalledWriters = 0;

  /**
   * @param state The database's state.
   */
  constructor(state: EngineState) {
    this.#state = state;
  }

  /**
   * Counts `ops` operations.
   *
   * @returns A resolved promise (most of the time), or one that resolves
   * after the event loop's next turn.
   */
  pace(ops: number): Promise<void> {
    // Until the turn comes, every caller waits for it: one loop parked
    // while three others spin in microtasks would give the event loop no
    // turn at all (four get loops used to starve flushes and compactions
    // and stall a writer for half a second).
    if (this.#turn !== undefined) return this.#turn;
    this.#opsSinceTurn += ops;
    // A writer waiting for a flush or compaction needs event-loop turns:
    // give them often.
    const every = this.stalledWriters > 0 ? OPS_PER_TURN_STALLED : OPS_PER_TURN;
    if (this.#opsSinceTurn < every) return RESOLVED;
    this.#opsSinceTurn = 0;
    const state = this.#state;
    // A flush is coming: have its worker ready (start-up takes ~20 ms).
    if (state.mem.approximateBytes * 2 >= state.options.memtableSize) {
      state.runner.warmUp();
    }
    const turn = yieldToEventLoop().then(() => {
      this.#turn = undefined;
    });
    this.#turn = turn;
    return turn;
  }
}
