/**
 * CRC32C (Castagnoli, polynomial 0x82F63B78 reflected), the checksum of
 * every WAL record, SSTable block and manifest record. Table-driven,
 * slicing-by-8: eight table look-ups per eight input bytes.
 *
 * @module
 */

const POLY = 0x82f63b78;

// TABLES[k][b] is the CRC of byte b followed by k zero bytes, which lets the
// main loop fold eight input bytes per iteration.
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/**
 * Computes the CRC32C of `data`, optionally continuing from the CRC of
 * bytes that preceded it.
 *
 * @param data The bytes to checksum.
 * @param crc The CRC of the preceding bytes (0 to start fresh).
 * @returns The CRC as an unsigned 32-bit integer.
 *
 * @example The published check value
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * const crc = crc32c(new TextEncoder().encode("123456789"));
 * assert(crc === 0xe3069283);
 * ```
 */
export function crc32c(data: Uint8Array, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = 0;
  const end8 = data.length - (data.length & 7);
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i]! | data[i + 1]! << 8 | data[i + 2]! << 16 |
      data[i + 3]! << 24);
    c = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
