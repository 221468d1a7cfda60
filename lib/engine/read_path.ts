/**
 * The read path of one database. A point read checks the memtable, the
 * immutable memtables, the level-0 tables newest first, then one table per
 * deeper level; bloom filters skip the tables that cannot hold the key. A
 * scan merges every source into one ordered stream that hides shadowed
 * versions and tombstones.
 *
 * @module
 */

import type { InternalIterator } from "../iterator/internal_key.ts";
import { TYPE_PUT } from "../iterator/internal_key.ts";
import { MergingIterator } from "../iterator/merging_iterator.ts";
import { RangeTombstoneIndex } from "../iterator/range_tombstones.ts";
import { UserIterator } from "../iterator/user_iterator.ts";
import { LevelIterator } from "../manifest/level_iterator.ts";
import { findFile, NUM_LEVELS, type Version } from "../manifest/version.ts";
import { copyResult } from "../memtable/arena.ts";
import { compareBytes, hasPrefix } from "../util/bytes.ts";
import { InvalidArgumentError } from "../util/errors.ts";
import { type EngineState, RESOLVED } from "./engine_state.ts";
import type { ObsoleteFileSweeper } from "./obsolete_files.ts";
import { describe } from "./options.ts";
import type { Pacer } from "./pacer.ts";
import type { Entry, ScanPlan } from "./scan_plan.ts";
import { Snapshot } from "./snapshot.ts";

const EMPTY = new Uint8Array(0);

/**
 * Point reads and scans of one database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "./db.ts";
 * // Internal: DB.get and DB.scan come here.
 * await using db = await DB.open(":memory:");
 * await db.put("a", "1");
 * assert.equal(new TextDecoder().decode(await db.get("a")), "1");
 * ```
 */
export class ReadPath {
  readonly #state: EngineState;
  readonly #pacer: Pacer;
  readonly #sweeper: ObsoleteFileSweeper;

  /**
   * @param state The database's state.
   * @param pacer Event-loop turns for readers.
   * @param sweeper Told when a scan released the last hold on a version.
   */
  constructor(state: EngineState, pacer: Pacer, sweeper: ObsoleteFileSweeper) {
    this.#state = state;
    this.#pacer = pacer;
    this.#sweeper = sweeper;
  }

  /**
   * Reads the value of `key` as of sequence `seq`.
   *
   * @returns A fresh copy of the value, or `undefined` when absent.
   */
  get(key: Uint8Array, seq: number): Promise<Uint8Array | undefined> {
    try {
      const value = this.getSync(key, seq);
      // Readers are paced like writers: a loop of gets must not keep a
      // finished compaction from being installed.
      const paced = this.#pacer.pace(1);
      return paced === RESOLVED
        ? Promise.resolve(value)
        : paced.then(() => value);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * {@link ReadPath.get} without the promise or the pacing.
   *
   * @param copy False returns a view of the engine's memory, valid until
   * the next read (for callers inside the engine that decode it at once).
   * @returns A fresh copy of the value, or `undefined` when absent.
   */
  getSync(
    key: Uint8Array,
    seq: number,
    copy = true,
  ): Uint8Array | undefined {
    const state = this.#state;
    state.checkOpen();
    // The hot path of every read: no allocation until the result's copy.
    let hit: { type: number; value: Uint8Array; seq: number } | undefined =
      state.mem.count > 0 ? state.mem.get(key, seq) : undefined;
    const imms = state.imms;
    for (let i = imms.length - 1; !hit && i >= 0; i--) {
      hit = imms[i]!.mem.get(key, seq);
    }
    const version = state.versions.current;
    if (!hit) {
      const tables = state.tables;
      const level0 = version.files(0); // newest first
      for (let i = 0; i < level0.length; i++) {
        const f = level0[i]!;
        // Past a hit, only a table with newer entries can matter (level 0
        // tables overlap in sequence numbers only after a repair).
        if (hit && !(f.maxSeq !== undefined && f.maxSeq > hit.seq)) break;
        if (
          compareBytes(key, f.smallestKey) >= 0 &&
          compareBytes(key, f.largestKey) <= 0
        ) {
          const found = tables.get(f.number).get(key, seq);
          if (found && (!hit || found.seq > hit.seq)) hit = found;
        }
      }
      for (let level = 1; !hit && level < NUM_LEVELS; level++) {
        const files = version.files(level);
        const f = files[findFile(files, key)];
        if (f && compareBytes(key, f.smallestKey) >= 0) {
          hit = tables.get(f.number).get(key, seq);
        }
      }
    }
    if (!hit || hit.type !== TYPE_PUT) return undefined;
    if (this.#hiddenByRange(key, hit.seq, seq, version)) return undefined;
    return copy ? copyResult(hit.value) : hit.value;
  }

  /**
   * Whether a range tombstone that a reader at `seq` sees is newer than
   * the version of `key` found at `found`: the memtables' and the
   * version's (usually none, and then this costs three length checks).
   */
  #hiddenByRange(
    key: Uint8Array,
    found: number,
    seq: number,
    version: Version,
  ): boolean {
    const state = this.#state;
    if (
      version.rangeTombstones.length > 0 &&
      version.rangeTombstoneIndex().hides(key, found, seq)
    ) {
      return true;
    }
    if (
      state.mem.rangeTombstones.length > 0 &&
      state.mem.rangeTombstoneIndex().hides(key, found, seq)
    ) {
      return true;
    }
    for (const imm of state.imms) {
      if (
        imm.mem.rangeTombstones.length > 0 &&
        imm.mem.rangeTombstoneIndex().hides(key, found, seq)
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Every range tombstone a scan at `seq` sees, as one index.
   */
  #scanTombstones(version: Version, seq: number): RangeTombstoneIndex {
    const state = this.#state;
    const lists = [version.rangeTombstones, state.mem.rangeTombstones];
    for (const imm of state.imms) lists.push(imm.mem.rangeTombstones);
    if (lists.every((l) => l.length === 0)) return RangeTombstoneIndex.EMPTY;
    return RangeTombstoneIndex.build(lists, seq);
  }

  /**
   * The sequence a read sees: its snapshot's, or the latest.
   *
   * @param snapshot What the caller passed as `snapshot`.
   * @returns The sequence number.
   * @throws {InvalidArgumentError} When it is not a snapshot of this database.
   */
  snapshotSequence(snapshot: unknown): number {
    const state = this.#state;
    if (snapshot === undefined) return state.lastSequence;
    if (
      !(snapshot instanceof Snapshot) || !snapshot.belongsTo(state.snapshots)
    ) {
      throw new InvalidArgumentError(
        `Invalid snapshot ${
          describe(snapshot)
        }: expected a snapshot of this database`,
      );
    }
    return snapshot.sequence;
  }

  /**
   * Streams the entries of a planned scan (see `planScan`), pacing a long
   * one so that it leaves background work and other code their turns.
   *
   * @param plan Bounds, direction, limit, snapshot.
   * @returns Fresh `{ key, value }` pairs.
   */
  async *scan(plan: ScanPlan): AsyncGenerator<Entry> {
    let count = 0;
    for (const entry of this.scanSync(plan)) {
      count++;
      yield entry;
      const paced = this.#pacer.pace(1);
      if (paced !== RESOLVED) await paced;
    }
    // A scan that found nothing paces too (a loop of empty scans).
    if (count === 0) await this.#pacer.pace(1);
  }

  /**
   * The entries of a planned scan, synchronously: no promise per entry and
   * no pacing (the caller decides when to yield). The version it reads
   * stays pinned until the iterator finishes or is returned.
   *
   * @param plan Bounds, direction, limit, snapshot.
   * @param copy False yields views of the engine's memory, valid until the
   * iterator moves on (for callers that decode each entry at once).
   * @returns Fresh `{ key, value }` pairs.
   */
  *scanSync(plan: ScanPlan, copy = true): Generator<Entry> {
    if (plan.limit === 0) return;
    const state = this.#state;
    const versions = state.versions;
    const version = versions.current;
    versions.pin(version);
    let source: MergingIterator | undefined;
    try {
      source = new MergingIterator(this.#sources(version));
      const iterOptions: ConstructorParameters<typeof UserIterator>[1] = {
        snapshot: plan.sequence,
        reverse: plan.reverse,
        lowerInclusive: plan.lowerInclusive,
        upperInclusive: plan.upperInclusive,
        rangeTombstones: this.#scanTombstones(version, plan.sequence),
      };
      if (plan.lower) iterOptions.lower = plan.lower;
      if (plan.upper) iterOptions.upper = plan.upper;
      const it = new UserIterator(source, iterOptions);
      let count = 0;
      while (count < plan.limit) {
        state.checkOpen();
        const e = it.next();
        if (!e) break;
        if (plan.prefix && !hasPrefix(e.key, plan.prefix)) break;
        count++;
        const value = plan.keysOnly ? EMPTY : e.value;
        yield copy
          ? { key: copyResult(e.key), value: copyResult(value) }
          : { key: e.key, value };
      }
    } finally {
      source?.close(); // unpins the blocks the scan stands on
      versions.unpin(version);
      // Only a replaced version can have held the last claim on a file.
      if (version.refs === 0 && version !== versions.current) {
        this.#sweeper.request().catch(() => {});
      }
    }
  }

  /** Every source of entries, newest first: memtables, level 0, levels. */
  #sources(version: Version): InternalIterator[] {
    const state = this.#state;
    const sources: InternalIterator[] = [state.mem.iterator()];
    for (let i = state.imms.length - 1; i >= 0; i--) {
      sources.push(state.imms[i]!.mem.iterator());
    }
    for (const f of version.files(0)) {
      sources.push(state.tables.get(f.number).iterator());
    }
    for (let level = 1; level < NUM_LEVELS; level++) {
      const files = version.files(level);
      if (files.length > 0) {
        sources.push(new LevelIterator(files, state.tables));
      }
    }
    return sources;
  }
}

/**
 * Checks the options of a point read.
 *
 * @param options What the caller passed.
 * @returns The snapshot it names, if any.
 * @throws {InvalidArgumentError} On a non-object or an unknown option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOptionsSnapshot } from "./read_path.ts";
 * assert.equal(readOptionsSnapshot(undefined), undefined);
 * assert.throws(() => readOptionsSnapshot({ fast: true }), /Unknown read option/);
 * ```
 */
export function readOptionsSnapshot(options: unknown): unknown {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      `Invalid read options ${describe(options)}: expected an object`,
    );
  }
  for (const name of Object.keys(options)) {
    if (name !== "snapshot") {
      throw new InvalidArgumentError(`Unknown read option "${name}"`);
    }
  }
  return (options as { snapshot?: unknown }).snapshot;
}
