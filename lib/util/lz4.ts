/**
 * LZ4 block compression (the "block format" of the LZ4 specification, with
 * no frame around it), for SSTable data blocks. Chosen for its decode
 * speed: a read that misses the block cache pays the decoder, and LZ4's
 * decoder is a loop of copies with no entropy coding.
 *
 * A compressed block is a run of sequences:
 *
 * ```
 * +-------+-----------------+----------+-----------+-----------------+
 * | token | literal length+ | literals | offset    | match length+   |
 * | u8    | 255…, last <255 | bytes    | u16 LE    | 255…, last <255 |
 * +-------+-----------------+----------+-----------+-----------------+
 * token: high nibble = literal length (15: more bytes follow),
 *        low nibble = match length - 4 (15: more bytes follow).
 * The last sequence has literals only (no offset, no match). A match
 * copies `match length` bytes from `offset` bytes back in the output, and
 * may overlap its own output (a run).
 * ```
 *
 * The format's end rules hold (the last 5 bytes are literals, no match
 * starts in the last 12), so standard decoders read what this writes. The
 * decoder never trusts its input: every length and offset is checked
 * against the buffers, and a bad block is an {@link Lz4Error}.
 *
 * @module
 */

/** Shortest match the format can express. */
const MIN_MATCH = 4;
/** The last match must start at least this far before the end. */
const MF_LIMIT = 12;
/** The last this many bytes are always literals. */
const LAST_LITERALS = 5;
/** Largest back-reference. */
const MAX_OFFSET = 65535;
const HASH_LOG = 12;
/** Positions + 1 of the last 4-byte sequence with each hash (0: none). */
const table = new Int32Array(1 << HASH_LOG);

/** A compressed block that cannot be decoded. */
export class Lz4Error extends Error {
  /**
   * @param message What is wrong and where.
   */
  constructor(message: string) {
    super(message);
    this.name = "Lz4Error";
  }
}

/**
 * The most bytes {@link lz4Compress} can write for `n` input bytes.
 *
 * @param n Input length.
 * @returns The bound (the input plus about 0.4%).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lz4CompressBound } from "./lz4.ts";
 * assert.equal(lz4CompressBound(0), 16);
 * ```
 */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function hash(v: number): number {
  return Math.imul(v, 2654435761) >>> (32 - HASH_LOG);
}

function read32(b: Uint8Array, i: number): number {
  return b[i]! | b[i + 1]! << 8 | b[i + 2]! << 16 | b[i + 3]! << 24;
}

/** Writes a length's continuation bytes (the part past 15) at `o`. */
function writeLength(out: Uint8Array, o: number, rest: number): number {
  while (rest >= 255) {
    out[o++] = 255;
    rest -= 255;
  }
  out[o++] = rest;
  return o;
}

/**
 * Compresses `input` into `out`, which must hold
 * {@link lz4CompressBound}(`input.length`) bytes.
 *
 * @param input The bytes to compress.
 * @param out Where the compressed block goes.
 * @param outOffset Where in `out` it starts.
 * @returns The end of the compressed block in `out`.
 *
 * @example Repetitive bytes shrink, and come back
 * ```ts
 * import assert from "node:assert/strict";
 * import { lz4Compress, lz4CompressBound, lz4Decompress } from "./lz4.ts";
 * const input = new TextEncoder().encode("abcabcabcabcabcabcabcabc!".repeat(8));
 * const out = new Uint8Array(lz4CompressBound(input.length));
 * const end = lz4Compress(input, out, 0);
 * assert(end < input.length / 4);
 * const back = new Uint8Array(input.length);
 * lz4Decompress(out.subarray(0, end), back);
 * assert.deepEqual(back, input);
 * ```
 */
export function lz4Compress(
  input: Uint8Array,
  out: Uint8Array,
  outOffset: number,
): number {
  const n = input.length;
  let o = outOffset;
  let anchor = 0; // first byte not yet written
  if (n >= MF_LIMIT + 1) {
    table.fill(0);
    const matchLimit = n - LAST_LITERALS; // a match ends at or before this
    const last = n - MF_LIMIT; // no match starts after this
    let i = 0;
    // LZ4's acceleration: after every 64 misses in a row, step one byte
    // further, so incompressible stretches cost less to cross.
    let misses = 0;
    while (i <= last) {
      const seq = read32(input, i);
      const h = hash(seq);
      const candidate = table[h]! - 1;
      table[h] = i + 1;
      if (
        candidate < 0 || i - candidate > MAX_OFFSET ||
        read32(input, candidate) !== seq
      ) {
        i += 1 + (misses++ >>> 6);
        continue;
      }
      misses = 0;
      // Extend the match forwards, then backwards over pending literals.
      let start = i;
      let ref = candidate;
      let end = i + MIN_MATCH;
      let r = candidate + MIN_MATCH;
      while (end < matchLimit && input[end] === input[r]) {
        end++;
        r++;
      }
      while (start > anchor && ref > 0 && input[start - 1] === input[ref - 1]) {
        start--;
        ref--;
      }
      const literals = start - anchor;
      const matchLength = end - start - MIN_MATCH;
      const token = o++;
      out[token] = (literals >= 15 ? 15 : literals) << 4 |
        (matchLength >= 15 ? 15 : matchLength);
      if (literals >= 15) o = writeLength(out, o, literals - 15);
      if (literals < 32) {
        for (let k = 0; k < literals; k++) out[o + k] = input[anchor + k]!;
      } else {
        out.set(input.subarray(anchor, start), o);
      }
      o += literals;
      const offset = start - ref;
      out[o++] = offset & 0xff;
      out[o++] = offset >>> 8;
      if (matchLength >= 15) o = writeLength(out, o, matchLength - 15);
      anchor = end;
      // Index a position inside the match, so the next one finds it.
      if (end - 2 > i) table[hash(read32(input, end - 2))] = end - 2 + 1;
      i = end;
    }
  }
  const literals = n - anchor;
  out[o++] = (literals >= 15 ? 15 : literals) << 4;
  if (literals >= 15) o = writeLength(out, o, literals - 15);
  out.set(input.subarray(anchor), o);
  return o + literals;
}

/**
 * Decompresses an LZ4 block into `out`, which must be exactly the size of
 * the original.
 *
 * @param input The compressed block.
 * @param out Receives the original bytes.
 * @throws {Lz4Error} When the block is malformed or does not fill `out`
 * exactly.
 *
 * @example A damaged block is an error, never garbage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lz4Error, lz4Decompress } from "./lz4.ts";
 * // A match 9 bytes back, where nothing has been written yet.
 * assert.throws(
 *   () => lz4Decompress(new Uint8Array([0x10, 0x61, 9, 0]), new Uint8Array(8)),
 *   Lz4Error,
 * );
 * ```
 */
export function lz4Decompress(input: Uint8Array, out: Uint8Array): void {
  const n = input.length;
  const size = out.length;
  let i = 0;
  let o = 0;
  for (;;) {
    if (i >= n) throw new Lz4Error(`block ends before its last sequence`);
    const token = input[i++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (i >= n) throw new Lz4Error(`literal length cut off at ${i}`);
        b = input[i++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > n - i || literals > size - o) {
      throw new Lz4Error(
        `${literals} literals at ${i} overrun the block or the output`,
      );
    }
    if (literals < 64) {
      for (let k = 0; k < literals; k++) out[o + k] = input[i + k]!;
    } else {
      out.set(input.subarray(i, i + literals), o);
    }
    i += literals;
    o += literals;
    if (i === n) break; // the last sequence: literals only
    if (i + 2 > n) throw new Lz4Error(`match offset cut off at ${i}`);
    const offset = input[i]! | input[i + 1]! << 8;
    i += 2;
    if (offset === 0 || offset > o) {
      throw new Lz4Error(`match offset ${offset} at ${i - 2} is out of range`);
    }
    let length = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (i >= n) throw new Lz4Error(`match length cut off at ${i}`);
        b = input[i++]!;
        length += b;
      } while (b === 255);
    }
    if (length > size - o) {
      throw new Lz4Error(
        `match of ${length} bytes at ${i} overruns the output`,
      );
    }
    let from = o - offset;
    if (offset >= length && length > 32) {
      out.copyWithin(o, from, from + length);
      o += length;
    } else {
      // Overlapping (a run) or short: byte by byte, in order.
      const end = o + length;
      while (o < end) out[o++] = out[from++]!;
    }
  }
  if (o !== size) {
    throw new Lz4Error(`block decodes to ${o} bytes, expected ${size}`);
  }
}
