/**
 * Snapshots: a pinned sequence number that reads can name to see the
 * database exactly as it was, and the list of live ones that compaction
 * consults before dropping an old version.
 *
 * @module
 */

import { ClosedError } from "../util/errors.ts";

/**
 * A frozen view of the database. Pass it as `{ snapshot }` to `get` and
 * `scan`; release it (or let `using` do so) when done, so that compaction
 * may discard the versions it kept alive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotList } from "./snapshot.ts";
 * const list = new SnapshotList();
 * {
 *   using snap = list.acquire(42);
 *   assert(snap.sequence === 42 && list.oldest(100) === 42);
 * }
 * assert(list.oldest(100) === 100);
 * ```
 */
export class Snapshot implements Disposable {
  readonly #sequence: number;
  readonly #list: SnapshotList;
  #released = false;

  /** @internal Created by {@link SnapshotList.acquire}. */
  constructor(sequence: number, list: SnapshotList) {
    this.#sequence = sequence;
    this.#list = list;
  }

  /** The last sequence number this snapshot sees. */
  get sequence(): number {
    if (this.#released) {
      throw new ClosedError("Snapshot was used after release()");
    }
    return this.#sequence;
  }

  /** True once {@link Snapshot.release} ran. */
  get released(): boolean {
    return this.#released;
  }

  /** Unpins the snapshot; safe to call twice. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#list.remove(this.#sequence);
  }

  /** Same as {@link Snapshot.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** @internal Whether this snapshot was issued by `list`. */
  belongsTo(list: SnapshotList): boolean {
    return this.#list === list;
  }
}

/**
 * The live snapshots of one database, as a multiset of sequence numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotList } from "./snapshot.ts";
 * const list = new SnapshotList();
 * const a = list.acquire(5);
 * list.acquire(9);
 * assert(list.oldest(20) === 5);
 * a.release();
 * assert(list.oldest(20) === 9);
 * ```
 */
export class SnapshotList {
  readonly #counts = new Map<number, number>();

  /**
   * Pins `sequence`.
   *
   * @param sequence The sequence number the snapshot sees.
   * @returns The snapshot handle.
   */
  acquire(sequence: number): Snapshot {
    this.#counts.set(sequence, (this.#counts.get(sequence) ?? 0) + 1);
    return new Snapshot(sequence, this);
  }

  /** @internal Unpins one snapshot of `sequence`. */
  remove(sequence: number): void {
    const n = this.#counts.get(sequence) ?? 0;
    if (n <= 1) this.#counts.delete(sequence);
    else this.#counts.set(sequence, n - 1);
  }

  /**
   * The oldest sequence any reader may still need.
   *
   * @param current The latest sequence (what a read without snapshot sees).
   * @returns The smallest pinned sequence, or `current` when none is pinned.
   */
  oldest(current: number): number {
    let min = current;
    for (const seq of this.#counts.keys()) if (seq < min) min = seq;
    return min;
  }

  /** The number of live snapshots. */
  get size(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }
}
