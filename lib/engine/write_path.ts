/**
 * The write path of one database: next sequence number → one WAL record
 * (handed to the OS with a sync write) → memtable; `sync: true` then waits
 * for a shared `fdatasync` (group commit). A full memtable becomes
 * immutable behind a fresh WAL and is flushed in the background; writers
 * wait (backpressure) while too many memtables wait for their flush or
 * level 0 has piled up.
 *
 * @module
 */

import { l0StopWrites } from "../compaction/compaction.ts";
import type { EntryType } from "../iterator/internal_key.ts";
import { syncDir } from "../manifest/version_set.ts";
import { copyBytes } from "../memtable/arena.ts";
import { MemTable } from "../memtable/memtable.ts";
import { IOError } from "../util/errors.ts";
import { logFileName } from "../util/filenames.ts";
import {
  forEachWalEntry,
  TYPE_RANGE_DELETE,
  WAL_RECORD_HEADER_SIZE,
  WalWriter,
} from "../wal/wal.ts";
import type { BackgroundWork } from "./background_work.ts";
import { type EngineState, RESOLVED } from "./engine_state.ts";
import type { Pacer } from "./pacer.ts";

/**
 * Full memtables that may wait for a flush before writes stall. Three
 * rather than two absorb the first flushes of a freshly started worker,
 * which run two to four times slower until its JIT warms up: fillbatch
 * went from about 766,000 to 835,000 entries/s (bench:peers, 3 runs each).
 */
export const MAX_IMMUTABLE = 3;

/**
 * Appends writes to the WAL and the memtable, and rotates memtables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * // Internal: DB.put, DB.delete and DB.write come here.
 * await using db = await DB.open(":memory:", { memtableSize: 1024 });
 * for (let i = 0; i < 100; i++) await db.put(`k${i}`, "v".repeat(50));
 * assert(db.stats().sequence === 100);
 * ```
 */
export class WritePath {
  readonly #state: EngineState;
  readonly #background: BackgroundWork;
  readonly #pacer: Pacer;
  #rotating: Promise<void> | undefined;

  /**
   * @param state The database's state.
   * @param background Starts the flush of a rotated memtable.
   * @param pacer Event-loop turns for writers.
   */
  constructor(state: EngineState, background: BackgroundWork, pacer: Pacer) {
    this.#state = state;
    this.#background = background;
    this.#pacer = pacer;
  }

  /**
   * The hot path of every put and delete. Not `async`: the common case
   * (room in the memtable, no sync) does its work synchronously and returns
   * one shared resolved promise, allocating none.
   *
   * @param type Put or delete.
   * @param key The key (the caller's bytes; copied only if the write waits).
   * @param value The value.
   * @param sync Wait until the write is durable.
   * @param owned The bytes are private copies already.
   */
  applySingle(
    type: EntryType,
    key: Uint8Array,
    value: Uint8Array,
    sync: boolean,
    owned = false,
  ): Promise<void> {
    const state = this.#state;
    state.checkWritable();
    if (this.#needsRoom()) {
      // The write waits: keep private copies (once), as the caller may
      // reuse its buffers as soon as this returns.
      const k = owned ? key : copyBytes(key);
      const v = owned ? value : copyBytes(value);
      return this.#makeRoomForWrite().then(() =>
        this.applySingle(type, k, v, sync, true)
      );
    }
    const wal = state.wal!;
    const seq = state.lastSequence + 1;
    const before = wal.size;
    try {
      wal.appendSingle(seq, type, key, value);
    } catch (err) {
      if (err instanceof IOError) state.setBackgroundError(err);
      throw err;
    }
    state.lastSequence = seq;
    state.mem.add(seq, type, key, value);
    state.counters.walBytesWritten += wal.size - before;
    state.counters.userBytes += key.length + value.length;
    if (sync) return this.#syncWal(wal);
    return this.#pacer.pace(1);
  }

  /**
   * Applies an encoded batch atomically: one WAL record, then every entry
   * into the memtable with consecutive sequence numbers.
   *
   * @param record The batch's WAL record (header space, then entries).
   * @param count Entries in it.
   * @param byteSize Bytes of its keys and values.
   * @param sync Wait until the batch is durable.
   */
  async writeBatch(
    record: Uint8Array,
    count: number,
    byteSize: number,
    sync: boolean,
  ): Promise<void> {
    const state = this.#state;
    state.checkWritable();
    if (this.#needsRoom()) {
      // The write waits: the caller may change the batch meanwhile.
      record = record.slice();
      await this.#makeRoomForWrite();
    }
    const wal = state.wal!;
    const first = state.lastSequence + 1;
    const before = wal.size;
    try {
      wal.appendEncoded(first, count, record);
    } catch (err) {
      if (err instanceof IOError) state.setBackgroundError(err);
      throw err;
    }
    state.lastSequence = first + count - 1;
    const mem = state.mem;
    let seq = first;
    forEachWalEntry(
      record,
      WAL_RECORD_HEADER_SIZE,
      record.length,
      (type, key, value) => {
        if (type === TYPE_RANGE_DELETE) {
          mem.addRangeTombstone(seq++, key, value);
        } else mem.add(seq++, type, key, value);
      },
    );
    state.counters.walBytesWritten += wal.size - before;
    state.counters.userBytes += byteSize;
    if (sync) await this.#syncWal(wal);
    else await this.#pacer.pace(count);
  }

  /**
   * Makes a WAL's bytes durable: its data (group commit), and, for a WAL
   * created by a rotation, what {@link EngineState.walReady} waits for.
   */
  #syncWal(wal: WalWriter): Promise<void> {
    const state = this.#state;
    const ready = state.walReady;
    const synced = ready === RESOLVED
      ? wal.sync()
      : wal.sync().then(() => ready);
    return synced.catch((err) => {
      if (err instanceof IOError) state.setBackgroundError(err);
      throw err;
    });
  }

  /**
   * Makes every write applied so far durable: one `fdatasync` shared with
   * every concurrent caller (group commit), and the final syncs of older
   * WALs a rotation left.
   */
  sync(): Promise<void> {
    const state = this.#state;
    try {
      state.checkOpen();
      const wal = state.wal;
      if (wal === undefined) return RESOLVED; // readOnly: nothing written
      if (state.bgError !== undefined) state.checkWritable(); // throws it
      return this.#syncWal(wal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #needsRoom(): boolean {
    const state = this.#state;
    return state.mem.approximateBytes >= state.options.memtableSize ||
      state.versions.current.files(0).length >= l0StopWrites(state.options);
  }

  /**
   * Waits until the write may go ahead: swaps a full memtable for a fresh
   * one behind a new WAL, and holds writes while {@link MAX_IMMUTABLE} full
   * memtables wait for their flush or level 0 has piled up (backpressure).
   */
  async #makeRoomForWrite(): Promise<void> {
    this.#pacer.stalledWriters++;
    try {
      await this.#waitForRoom();
    } finally {
      this.#pacer.stalledWriters--;
    }
  }

  async #waitForRoom(): Promise<void> {
    const state = this.#state;
    while (true) {
      state.checkWritable();
      if (
        state.versions.current.files(0).length >= l0StopWrites(state.options)
      ) {
        this.#background.scheduleCompaction();
        await state.changed.wait();
      } else if (state.mem.approximateBytes < state.options.memtableSize) {
        return;
      } else if (state.imms.length >= MAX_IMMUTABLE) {
        await state.changed.wait();
      } else {
        await this.rotate(false);
      }
    }
  }

  /**
   * Writes the memtable to a level-0 table now and waits for it (what
   * `DB.flush` does).
   */
  async flush(): Promise<void> {
    const state = this.#state;
    state.checkWritable();
    while (state.imms.length > 0) {
      await state.changed.wait();
      state.checkWritable();
    }
    // A rotation in flight (a writer's) may have taken the memtable.
    await this.#rotating;
    if (!state.mem.isEmpty) await this.rotate(true);
    state.checkWritable(); // closing stops a flush: it did not happen
    while (state.imms.length > 0) {
      await state.changed.wait();
      state.checkWritable();
    }
    // With nothing to flush, this resolved in microtasks: a loop of such
    // calls must leave the event loop its turns like any other.
    await this.#pacer.pace(1);
  }

  /**
   * Rotates the memtable ({@link WritePath.#rotateMemtable}), one rotation
   * at a time: concurrent writers share it rather than each creating (and
   * syncing, and discarding) a WAL of their own, and `close()` waits for
   * the one in flight. None starts once closing has begun.
   *
   * @param force Rotate a memtable that is not full yet (`flush()`).
   */
  rotate(force: boolean): Promise<void> {
    const state = this.#state;
    if (state.closing) return RESOLVED;
    this.#rotating ??= this.#rotateMemtable(force).catch((err) => {
      // A WAL that cannot be created or synced: stop taking writes.
      if (err instanceof IOError) state.setBackgroundError(err);
      throw err;
    }).finally(() => {
      this.#rotating = undefined;
    });
    return this.#rotating;
  }

  /** For close(): resolves once no rotation is in flight. */
  async settle(): Promise<void> {
    while (this.#rotating) await this.#rotating.catch(() => {});
    await this.#state.walReady.catch(() => {});
  }

  /**
   * Makes the memtable immutable behind a new WAL and starts its flush.
   * `force` rotates a memtable that is not full yet (`flush()`).
   */
  async #rotateMemtable(force: boolean): Promise<void> {
    const state = this.#state;
    const number = state.versions.newFileNumber();
    const wal = await WalWriter.create(
      logFileName(state.dir, number),
      state.fs,
    );
    // Another writer may have rotated while we awaited.
    const rotatedMeanwhile = force
      ? state.mem.isEmpty
      : state.mem.approximateBytes < state.options.memtableSize;
    if (
      state.closing || state.imms.length >= MAX_IMMUTABLE || rotatedMeanwhile
    ) {
      await wal.close();
      await state.fs.remove(logFileName(state.dir, number)).catch(() => {});
      return;
    }
    const older = state.wal!;
    state.counters.walSyncsBefore += older.syncCount;
    state.imms.push({ mem: state.mem, wal: older, walNumber: state.walNumber });
    state.mem = new MemTable(state.memPool);
    state.wal = wal;
    state.walNumber = number;
    // The older WAL takes no more appends: sync its tail now, in the
    // background. Durable writes to the new WAL wait for it (and for the
    // new WAL's directory entry); writes that need no sync do not.
    const ready = Promise.all([
      state.walReady,
      older.sync(),
      syncDir(state.fs, state.dir),
    ]).then(() => {});
    state.walReady = ready;
    ready.then(() => {
      if (state.walReady === ready) state.walReady = RESOLVED;
    }, (err) => state.setBackgroundError(err));
    this.#background.startFlush();
  }
}
