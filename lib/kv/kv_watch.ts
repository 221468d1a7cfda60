/**
 * `watch` for the Deno KV API: a stream of the watched keys' entries,
 * emitted at once and then whenever one of them changes. Each commit tells
 * the {@link WatchHub} which keys it wrote; a watch woken by it rereads its
 * keys when its reader asks for more, so a burst of commits becomes one
 * emission (Deno KV coalesces too), and emits only if a versionstamp
 * changed (with `raw: true`, on every wake-up). An entry that expires wakes
 * its watches at its expiry time: it is never emitted once expired.
 *
 * @module
 */

import { toHex } from "../util/bytes.ts";
import { KeepAlive } from "./keep_alive.ts";
import type { KvCore, StoredEntry } from "./kv_core.ts";

/** One watch: its keys, what it emitted last, and how to wake it. */
class KeyWatch {
  /** Something changed since the last read. */
  dirty = true;
  /** The stream ended (cancelled, or its handle closed). */
  done = false;
  /** Versionstamp counters emitted last (null: absent; undefined: never). */
  readonly last: (number | null | undefined)[];
  #wake: (() => void) | undefined;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly encoded: readonly Uint8Array[],
    readonly raw: boolean,
  ) {
    this.last = new Array(encoded.length).fill(undefined);
  }

  /** Marks it changed and wakes a waiting reader. */
  poke(): void {
    this.dirty = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves at the next {@link KeyWatch.poke}. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.#wake = resolve);
  }

  /** Pokes itself when the first of the watched entries expires. */
  wakeAt(expireAt: number): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (expireAt === Infinity) return;
    const delay = Math.max(0, expireAt - Date.now() + 1);
    this.#expiryTimer = setTimeout(() => this.poke(), delay);
    Deno.unrefTimer(this.#expiryTimer);
  }

  end(): void {
    this.done = true;
    clearTimeout(this.#expiryTimer);
    this.poke();
  }
}

/**
 * The watches of one database, by key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "./open_kv.ts";
 * await using kv = await openKv(":memory:");
 * const reader = kv.watch([["a"]]).getReader();
 * assert.equal((await reader.read()).value?.[0]?.value, null);
 * await kv.set(["a"], 1);
 * assert.equal((await reader.read()).value?.[0]?.value, 1);
 * await reader.cancel();
 * ```
 */
export class WatchHub {
  readonly #core: KvCore;
  readonly #byKey = new Map<string, Set<KeyWatch>>();
  readonly #all = new Set<KeyWatch>();
  readonly #alive = new KeepAlive();

  /**
   * @param core The database.
   */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /**
   * Starts a watch.
   *
   * @param encoded The watched keys, encoded.
   * @param raw Emit on every wake-up, not only on a changed versionstamp.
   * @param format Turns the keys' entries (undefined: absent) and which of
   * them changed since the last emission into what the stream yields.
   * @returns The stream, and how to end it.
   */
  watch<T>(
    encoded: readonly Uint8Array[],
    raw: boolean,
    format: (entries: (StoredEntry | undefined)[], changed: boolean[]) => T,
  ): { stream: ReadableStream<T>; end: () => void } {
    const ids = encoded.map(toHex);
    const w = new KeyWatch(encoded, raw);
    for (const id of ids) {
      let set = this.#byKey.get(id);
      if (!set) this.#byKey.set(id, set = new Set());
      set.add(w);
    }
    this.#all.add(w);
    this.#alive.acquire();
    const stop = () => {
      if (w.done) return;
      w.end();
      this.#all.delete(w);
      for (const id of ids) {
        const set = this.#byKey.get(id);
        set?.delete(w);
        if (set?.size === 0) this.#byKey.delete(id);
      }
      this.#alive.release();
    };
    const stream = new ReadableStream<T>({
      pull: async (controller) => {
        while (true) {
          if (w.done) {
            controller.close();
            return;
          }
          if (!w.dirty) await w.wait();
          if (w.done) {
            controller.close();
            return;
          }
          w.dirty = false;
          const read = this.#read(w);
          if (read) {
            controller.enqueue(format(read.entries, read.changed));
            return;
          }
        }
      },
      cancel: stop,
    }, { highWaterMark: 0 }); // read when the reader asks: the latest state
    return { stream, end: stop };
  }

  /** Reads a watch's keys; undefined when nothing changed (and not raw). */
  #read(
    w: KeyWatch,
  ): { entries: (StoredEntry | undefined)[]; changed: boolean[] } | undefined {
    const now = Date.now();
    let anyChanged = false;
    let nextExpiry = Infinity;
    const changed: boolean[] = [];
    const entries = w.encoded.map((encoded, i) => {
      const entry = this.#core.read(encoded, now);
      const counter = entry ? entry.counter : null;
      changed.push(w.last[i] !== counter);
      if (w.last[i] !== counter) anyChanged = true;
      w.last[i] = counter;
      if (entry && entry.expireAt !== 0 && entry.expireAt < nextExpiry) {
        nextExpiry = entry.expireAt;
      }
      return entry;
    });
    w.wakeAt(nextExpiry);
    if (!anyChanged && !w.raw) return undefined;
    return { entries, changed };
  }

  /**
   * A commit wrote these keys: wakes the watches of each.
   *
   * @param keys Encoded keys.
   */
  changed(keys: readonly Uint8Array[]): void {
    if (this.#byKey.size === 0) return;
    for (const key of keys) {
      const set = this.#byKey.get(toHex(key));
      if (set) { for (const w of set) w.poke(); }
    }
  }

  /** Ends every watch (the database closes). */
  closeAll(): void {
    for (const w of [...this.#all]) w.end();
    this.#all.clear();
    this.#byKey.clear();
    while (this.#alive.held) this.#alive.release();
  }
}
