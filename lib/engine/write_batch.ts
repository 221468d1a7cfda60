/**
 * Write batches and the checks every key and value passes on the way in.
 *
 * @module
 */

import { copyBytes, encodeUtf8 } from "../memtable/arena.ts";
import { InvalidArgumentError } from "../util/errors.ts";
import { TYPE_DELETE, TYPE_PUT } from "../iterator/internal_key.ts";
import { compareBytes } from "../util/bytes.ts";
import {
  encodeWalEntry,
  forEachWalEntry,
  TYPE_RANGE_DELETE,
  WAL_RECORD_HEADER_SIZE,
  walEntrySize,
  type WalEntryType,
} from "../wal/wal.ts";
import { describe } from "./options.ts";

/** A key or value as callers pass it: a string (UTF-8) or bytes. */
export type Bytes = string | Uint8Array;

/** The largest key Strata accepts: 64 KiB. */
export const MAX_KEY_BYTES = 64 * 1024;
/**
 * The largest value Strata accepts: 256 MiB. The contract promises at least
 * 64 MiB; a WAL record must fit its u32 length field with room to spare.
 */
export const MAX_VALUE_BYTES = 256 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/** The largest batch: a WAL record's length field is a u32. */
export const MAX_BATCH_BYTES = 0xffff_ffff - 64;

/**
 * Converts a caller's key to a private copy of its bytes.
 *
 * @param key A string (encoded as UTF-8) or bytes (copied).
 * @returns Fresh bytes the caller cannot mutate.
 * @throws {InvalidArgumentError} When the key is not a string or
 * `Uint8Array`, is empty, or is longer than 64 KiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toKey } from "./write_batch.ts";
 * assert(toKey("a").length === 1);
 * ```
 */
export function toKey(key: unknown): Uint8Array {
  const bytes = toBytes(key, "key");
  if (bytes.length === 0) {
    throw new InvalidArgumentError('Invalid key "": keys must not be empty');
  }
  if (bytes.length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(
      `Invalid key of ${bytes.length} bytes: the limit is ${MAX_KEY_BYTES}`,
    );
  }
  return bytes;
}

/**
 * Checks a caller's key for a read, without copying it: reads do not keep
 * the key, so the copy {@link toKey} makes would be wasted.
 *
 * @param key A string (encoded as UTF-8) or bytes (used as they are).
 * @returns The key's bytes.
 * @throws {InvalidArgumentError} Like {@link toKey}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLookupKey } from "./write_batch.ts";
 * const key = new Uint8Array([1]);
 * assert.equal(toLookupKey(key), key);
 * ```
 */
export function toLookupKey(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array)) return toKey(key);
  if (key.length === 0 || key.length > MAX_KEY_BYTES) return toKey(key);
  return key;
}

/**
 * Checks a caller's value without copying it, for a write that consumes
 * the bytes before it returns (the memtable copies what it keeps).
 *
 * @param value A string (encoded as UTF-8) or bytes (used as they are).
 * @returns The value's bytes.
 * @throws {InvalidArgumentError} Like {@link toValue}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toValueView } from "./write_batch.ts";
 * const value = new Uint8Array([1]);
 * assert.equal(toValueView(value), value);
 * ```
 */
export function toValueView(value: unknown): Uint8Array {
  if (value instanceof Uint8Array && value.length <= MAX_VALUE_BYTES) {
    return value;
  }
  return toValue(value);
}

/**
 * Converts a caller's value to a private copy of its bytes.
 *
 * @param value A string (encoded as UTF-8) or bytes (copied).
 * @returns Fresh bytes the caller cannot mutate.
 * @throws {InvalidArgumentError} When the value is not a string or
 * `Uint8Array`, or is larger than {@link MAX_VALUE_BYTES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toValue } from "./write_batch.ts";
 * assert(toValue("").length === 0);
 * ```
 */
export function toValue(value: unknown): Uint8Array {
  const bytes = toBytes(value, "value");
  if (bytes.length > MAX_VALUE_BYTES) {
    throw new InvalidArgumentError(
      `Invalid value of ${bytes.length} bytes: the limit is ${MAX_VALUE_BYTES}`,
    );
  }
  return bytes;
}

/**
 * Converts a scan bound or prefix to bytes, without the non-empty rule of
 * keys (an empty prefix or bound is meaningful).
 *
 * @param bound A string or bytes.
 * @param name The option's name, for the error message.
 * @returns The bytes (copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBound } from "./write_batch.ts";
 * assert(toBound("", "prefix").length === 0);
 * ```
 */
export function toBound(bound: unknown, name: string): Uint8Array {
  return toBytes(bound, name);
}

function toBytes(input: unknown, what: string): Uint8Array {
  if (typeof input === "string") {
    return input.length === 0 ? EMPTY : encodeUtf8(input);
  }
  if (input instanceof Uint8Array) return copyBytes(input);
  throw new InvalidArgumentError(
    `Invalid ${what} ${describe(input)}: expected a string or Uint8Array`,
  );
}

/**
 * Checks the bounds of a range deletion: `[start, end)`, with `start` a
 * key or empty (the first key there is) and `end` a key after it, or
 * absent (no end).
 *
 * @param start First key to delete.
 * @param end First key to keep; `undefined` deletes to the end.
 * @returns The bounds as bytes (not copied); an empty end means no end.
 * @throws {InvalidArgumentError} On a bound that is not a string or
 * `Uint8Array`, is too long, or an `end` not after `start`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toRange } from "./write_batch.ts";
 * assert.equal(toRange("a", "b")[1][0], 0x62);
 * assert.equal(toRange("a", undefined)[1].length, 0);
 * assert.throws(() => toRange("b", "a"), /must come after/);
 * ```
 */
export function toRange(
  start: unknown,
  end: unknown,
): [start: Uint8Array, end: Uint8Array] {
  const s = start instanceof Uint8Array && start.length <= MAX_KEY_BYTES
    ? start
    : start === ""
    ? EMPTY
    : toKey(start);
  if (end === undefined) return [s, EMPTY];
  const e = toLookupKey(end);
  if (compareBytes(e, s) <= 0) {
    throw new InvalidArgumentError(
      `Invalid range end ${describe(end)}: it must come after the start ${
        describe(start)
      }`,
    );
  }
  return [s, e];
}

/** One operation of a {@link WriteBatch}. */
export interface BatchOp {
  /** PUT, DELETE, or RANGE_DELETE (3: `key` to `value`, exclusive). */
  type: WalEntryType;
  /** The key (a range deletion's start). */
  key: Uint8Array;
  /** The value (empty for a delete; a range deletion's end). */
  value: Uint8Array;
}

/**
 * An ordered group of puts and deletes that `DB.write` applies atomically:
 * after any crash, all of it or none of it. Later operations on the same key
 * win. Keys and values are checked and copied when added, so an invalid
 * entry throws at once and the batch is never half valid.
 *
 * Like LevelDB's, the batch keeps its operations already encoded as the
 * body of a WAL record (behind room for the record header), so writing it
 * is one checksum and one `write`, and adding an operation allocates
 * nothing but occasional buffer growth.
 *
 * @example Build and apply a batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriteBatch } from "./write_batch.ts";
 * const batch = new WriteBatch().put("a", "1").delete("b");
 * assert(batch.length === 2);
 * assert.deepEqual(batch.ops.map((op) => op.type), [1, 2]);
 * ```
 */
export class WriteBatch {
  #rep = new Uint8Array(512);
  #view = new DataView(this.#rep.buffer);
  #end = WAL_RECORD_HEADER_SIZE;
  #count = 0;
  #bytes = 0;
  #ranges = 0;

  /**
   * Adds a put.
   *
   * @param key The key.
   * @param value The value.
   * @returns This batch, for chaining.
   */
  put(key: Bytes, value: Bytes): this {
    const k = toLookupKey(key);
    const v = toValueView(value);
    this.#append(TYPE_PUT, k, v);
    this.#bytes += k.length + v.length;
    return this;
  }

  /**
   * Adds a delete.
   *
   * @param key The key.
   * @returns This batch, for chaining.
   */
  delete(key: Bytes): this {
    const k = toLookupKey(key);
    this.#append(TYPE_DELETE, k, EMPTY);
    this.#bytes += k.length;
    return this;
  }

  /**
   * Adds a range deletion: every key in `[start, end)` is deleted, however
   * many there are, at the cost of one operation. Like any operation of
   * the batch, it applies to what came before it in the batch, not after.
   *
   * @param start First key to delete ("" deletes from the first key).
   * @param end First key to keep; omitted, every key from `start` on.
   * @returns This batch, for chaining.
   * @throws {InvalidArgumentError} When `end` does not come after `start`.
   */
  deleteRange(start: Bytes, end?: Bytes): this {
    const [s, e] = toRange(start, end);
    this.#append(TYPE_RANGE_DELETE, s, e);
    this.#bytes += s.length + e.length;
    this.#ranges++;
    return this;
  }

  /** The number of range deletions among the operations. */
  get rangeDeletes(): number {
    return this.#ranges;
  }

  #append(type: WalEntryType, key: Uint8Array, value: Uint8Array): void {
    const need = this.#end + walEntrySize(key, value);
    if (need - 8 > MAX_BATCH_BYTES) {
      throw new InvalidArgumentError(
        `Invalid batch of ${need} bytes: one batch holds at most ${MAX_BATCH_BYTES}`,
      );
    }
    if (need > this.#rep.length) {
      const grown = new Uint8Array(Math.max(need, this.#rep.length * 2));
      grown.set(this.#rep.subarray(0, this.#end));
      this.#rep = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#end = encodeWalEntry(
      this.#rep,
      this.#view,
      this.#end,
      type,
      key,
      value,
    );
    this.#count++;
  }

  /** Empties the batch so it can be reused. */
  clear(): void {
    this.#end = WAL_RECORD_HEADER_SIZE;
    this.#count = 0;
    this.#bytes = 0;
    this.#ranges = 0;
  }

  /** The number of operations. */
  get length(): number {
    return this.#count;
  }

  /** Key and value bytes of all operations. */
  get byteSize(): number {
    return this.#bytes;
  }

  /**
   * The operations in order, decoded (views into the batch: valid until it
   * changes).
   */
  get ops(): readonly BatchOp[] {
    const ops: BatchOp[] = [];
    forEachWalEntry(
      this.#rep,
      WAL_RECORD_HEADER_SIZE,
      this.#end,
      (type, key, value) => ops.push({ type, key, value }),
    );
    return ops;
  }

  /**
   * @internal The encoded record: header room, then the entries. The
   * engine fills the header in place and writes it.
   * @returns A view of the batch's buffer.
   */
  encodedRecord(): Uint8Array {
    return this.#rep.subarray(0, this.#end);
  }
}
