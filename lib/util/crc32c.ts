/**
 * CRC32C (Castagnoli, polynomial 0x82F63B78 reflected), the checksum of
 * every WAL record, SSTable block and manifest record.
 *
 * Two paths compute the same function. Inputs shorter than 80 bytes (and
 * every input on a runtime without WebAssembly SIMD) go through
 * table-driven slicing-by-16 in JavaScript, about 2.2 GB/s. Longer inputs go
 * through a 1.4 KiB WebAssembly module embedded below, about 7 GB/s, which
 * looks up 16 bytes at a time with 16-entry byte shuffles
 * (`i8x16.relaxed_swizzle`: x86 `pshufb`, ARM `tbl`).
 *
 * The arithmetic both paths rely on: let the register be `r = ~crc` and let
 * `E_z(x)` be the register after the byte `x` followed by `z` zero bytes,
 * starting from a zero register. The register update is linear over GF(2),
 * so:
 * - starting from `r` equals starting from zero with `r` XORed into the
 *   first four message bytes, and leading zero bytes change nothing;
 * - the register after an `n`-byte message is the XOR, over every position
 *   `p`, of `E_{n-1-p}(byte p)`;
 * - `E_z(x ^ y) = E_z(x) ^ E_z(y)`, so a byte splits into two nibbles and a
 *   32-bit table entry into four byte planes: one 16-entry shuffle per
 *   nibble and plane.
 *
 * The WebAssembly path copies the input behind zero padding to a multiple
 * of 32 bytes and gives lane `j` of a 16-byte vector the bytes at positions
 * `j` mod 16, so a plain 16-byte load feeds all 16 lanes. A byte `x` in
 * lane `j` of the vector `m` vectors from the end adds `E_{16m+15-j}(x)`,
 * that is `E_{16m}(x)` followed by `15 - j` more zero bytes. The `E_{16m}`
 * tables do not depend on the lane, so each lane XORs up its look-ups, and
 * the lane-dependent `15 - j` zero bytes are applied once, at the end, with
 * the slicing tables. To keep the tables at 8 KiB (64 vectors), the input is
 * cut into groups of up to 64 vectors; between groups the lanes' registers
 * are moved past a group, 1024 zero bytes.
 *
 * @module
 */

const POLY = 0x82f63b78;

/**
 * Inputs at least this long use the WebAssembly path, if it loaded: below
 * it, the copy into WebAssembly memory and the fixed cost of the final
 * combine outweigh the faster loop.
 */
const SIMD_MIN = 80;

// TABLES[256 * k + x] = E_k(x) for k = 0..15: slicing-by-16 for the
// JavaScript path and the final combine of the WebAssembly path, which
// shares them (they sit at the start of its memory).
let TABLES: Int32Array = new Int32Array(16 * 256);

/*
 * The WebAssembly module, assembled from this source with
 * `wat2wasm --enable-relaxed-simd` (wabt 1.0.36):
 *
 * (module
 *   ;; crc(r, n): the register after the n bytes at 32768 + pad, where
 *   ;; pad = -n mod 32, starting from the register r; n >= 4.
 *   ;; Memory: 0 slicing tables E_0..E_15 (shared with JavaScript);
 *   ;; 16384 scratch; 16512 mask staircase; 17408 carry tables E_1023-b;
 *   ;; 18432 group tables E_16m, m = 0..63; 32768 input.
 *   ;; Each carry or group table: 128 bytes, a 16-byte plane per nibble
 *   ;; (low, high) and per byte of the 32-bit entry. Lane values are nibbles,
 *   ;; so relaxed_swizzle (pshufb, tbl) is deterministic here.
 *   (memory (export "memory") 2)
 *   (func (export "crc") (param $r i32) (param $n i32) (result i32)
 *     (local $pad i32) (local $p i32) (local $end i32) (local $t i32)
 *     (local $t2 i32) (local $j i32) (local $v v128) (local $lo v128)
 *     (local $hi v128) (local $low4 v128)
 *     ;; a0..a3: byte planes of the 16 lanes' 32-bit registers
 *     (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
 *     (local.set $low4 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
 *     ;; The register enters as an XOR into the first four message bytes.
 *     (local.set $pad (i32.and (i32.sub (i32.const 0) (local.get $n)) (i32.const 31)))
 *     (local.set $p (i32.add (i32.const 32768) (local.get $pad)))
 *     (i32.store (local.get $p) (i32.xor (i32.load (local.get $p)) (local.get $r)))
 *     ;; Zero the padding: leading zeros leave a zero register unchanged.
 *     (v128.store (i32.const 32768) (v128.and (v128.load (i32.const 32768))
 *       (v128.load (i32.sub (i32.const 16544) (local.get $pad)))))
 *     (v128.store (i32.const 32784) (v128.and (v128.load (i32.const 32784))
 *       (v128.load (i32.sub (i32.const 16560) (local.get $pad)))))
 *     (local.set $p (i32.const 32768))
 *     (local.set $end (i32.add (local.get $p) (i32.add (local.get $n) (local.get $pad))))
 *     ;; $t: the table of the next vector; the first group takes the
 *     ;; remainder, ((vectors - 1) mod 64) + 1 vectors, an even number.
 *     (local.set $t (i32.add (i32.const 18432) (i32.shl (i32.and
 *       (i32.sub (i32.shr_u (i32.sub (local.get $end) (local.get $p)) (i32.const 4)) (i32.const 1))
 *       (i32.const 63)) (i32.const 7))))
 *     (block $last
 *       (loop $group
 *         ;; Two vectors per iteration, with tables $t and $t2 = $t - 128.
 *         (loop $pair
 *           (local.set $t2 (i32.sub (local.get $t) (i32.const 128)))
 *           (local.set $v (v128.load (local.get $p)))
 *           (local.set $lo (v128.and (local.get $v) (local.get $low4)))
 *           (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low4)))
 *           (local.set $a0 (v128.xor (local.get $a0) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=64 (local.get $t)) (local.get $hi)))))
 *           (local.set $a1 (v128.xor (local.get $a1) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=16 (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=80 (local.get $t)) (local.get $hi)))))
 *           (local.set $a2 (v128.xor (local.get $a2) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=32 (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=96 (local.get $t)) (local.get $hi)))))
 *           (local.set $a3 (v128.xor (local.get $a3) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=48 (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=112 (local.get $t)) (local.get $hi)))))
 *           (local.set $v (v128.load offset=16 (local.get $p)))
 *           (local.set $lo (v128.and (local.get $v) (local.get $low4)))
 *           (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low4)))
 *           (local.set $a0 (v128.xor (local.get $a0) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load (local.get $t2)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=64 (local.get $t2)) (local.get $hi)))))
 *           (local.set $a1 (v128.xor (local.get $a1) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=16 (local.get $t2)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=80 (local.get $t2)) (local.get $hi)))))
 *           (local.set $a2 (v128.xor (local.get $a2) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=32 (local.get $t2)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=96 (local.get $t2)) (local.get $hi)))))
 *           (local.set $a3 (v128.xor (local.get $a3) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=48 (local.get $t2)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=112 (local.get $t2)) (local.get $hi)))))
 *           (local.set $p (i32.add (local.get $p) (i32.const 32)))
 *           (br_if $pair (i32.ge_u
 *             (local.tee $t (i32.sub (local.get $t) (i32.const 256))) (i32.const 18560))))
 *         (br_if $last (i32.ge_u (local.get $p) (local.get $end)))
 *         ;; Carry: the lanes' states move past the next 64 vectors, a
 *         ;; multiplication by x^8192 done as four more byte-plane look-ups.
 *         (v128.store offset=16384 (i32.const 0) (local.get $a0))
 *         (v128.store offset=16400 (i32.const 0) (local.get $a1))
 *         (v128.store offset=16416 (i32.const 0) (local.get $a2))
 *         (v128.store offset=16432 (i32.const 0) (local.get $a3))
 *         (local.set $a0 (v128.const i64x2 0 0))
 *         (local.set $a1 (v128.const i64x2 0 0))
 *         (local.set $a2 (v128.const i64x2 0 0))
 *         (local.set $a3 (v128.const i64x2 0 0))
 *         (local.set $j (i32.const 0))
 *         (loop $carry
 *           (local.set $v (v128.load offset=16384 (local.get $j)))
 *           (local.set $t (i32.add (i32.const 17408) (i32.shl (local.get $j) (i32.const 3))))
 *           (local.set $lo (v128.and (local.get $v) (local.get $low4)))
 *           (local.set $hi (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low4)))
 *           (local.set $a0 (v128.xor (local.get $a0) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=64 (local.get $t)) (local.get $hi)))))
 *           (local.set $a1 (v128.xor (local.get $a1) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=16 (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=80 (local.get $t)) (local.get $hi)))))
 *           (local.set $a2 (v128.xor (local.get $a2) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=32 (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=96 (local.get $t)) (local.get $hi)))))
 *           (local.set $a3 (v128.xor (local.get $a3) (v128.xor
 *             (i8x16.relaxed_swizzle (v128.load offset=48 (local.get $t)) (local.get $lo))
 *             (i8x16.relaxed_swizzle (v128.load offset=112 (local.get $t)) (local.get $hi)))))
 *           (br_if $carry (i32.lt_u
 *             (local.tee $j (i32.add (local.get $j) (i32.const 16))) (i32.const 64))))
 *         (local.set $t (i32.const 26496))
 *         (br $group)))
 *     ;; Combine: byte b of lane j lands at position j + b of a 19-byte
 *     ;; message W = a0 ^ a1 ^ a2 ^ a3, each plane shifted up by b lanes, whose
 *     ;; register from zero is W[15..19) as a word ^ E_14-v(W[v]) for v < 15.
 *     (v128.store offset=16384 (i32.const 0) (v128.xor
 *       (v128.xor (local.get $a0)
 *         (i8x16.shuffle 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14
 *           (local.get $a1) (v128.const i64x2 0 0)))
 *       (v128.xor
 *         (i8x16.shuffle 16 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13
 *           (local.get $a2) (v128.const i64x2 0 0))
 *         (i8x16.shuffle 16 16 16 0 1 2 3 4 5 6 7 8 9 10 11 12
 *           (local.get $a3) (v128.const i64x2 0 0)))))
 *     (v128.store offset=16400 (i32.const 0) (v128.xor
 *       (i8x16.shuffle 15 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16
 *         (local.get $a1) (v128.const i64x2 0 0))
 *       (v128.xor
 *         (i8x16.shuffle 14 15 16 16 16 16 16 16 16 16 16 16 16 16 16 16
 *           (local.get $a2) (v128.const i64x2 0 0))
 *         (i8x16.shuffle 13 14 15 16 16 16 16 16 16 16 16 16 16 16 16 16
 *           (local.get $a3) (v128.const i64x2 0 0)))))
 *     (local.set $r (i32.load offset=16399 (i32.const 0)))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=14336
 *       (i32.shl (i32.load8_u offset=16384 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=13312
 *       (i32.shl (i32.load8_u offset=16385 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=12288
 *       (i32.shl (i32.load8_u offset=16386 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=11264
 *       (i32.shl (i32.load8_u offset=16387 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=10240
 *       (i32.shl (i32.load8_u offset=16388 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=9216
 *       (i32.shl (i32.load8_u offset=16389 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=8192
 *       (i32.shl (i32.load8_u offset=16390 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=7168
 *       (i32.shl (i32.load8_u offset=16391 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=6144
 *       (i32.shl (i32.load8_u offset=16392 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=5120
 *       (i32.shl (i32.load8_u offset=16393 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=4096
 *       (i32.shl (i32.load8_u offset=16394 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=3072
 *       (i32.shl (i32.load8_u offset=16395 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=2048
 *       (i32.shl (i32.load8_u offset=16396 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=1024
 *       (i32.shl (i32.load8_u offset=16397 (i32.const 0)) (i32.const 2)))))
 *     (local.set $r (i32.xor (local.get $r) (i32.load offset=0
 *       (i32.shl (i32.load8_u offset=16398 (i32.const 0)) (i32.const 2)))))
 *     (local.get $r)))
 */
const WASM =
  "AGFzbQEAAAABBwFgAn9/AX8DAgEABQMBAAIHEAIGbWVtb3J5AgADY3JjAAAK1QoB0goCBn8I" +
  "e/0MDw8PDw8PDw8PDw8PDw8PDyELQQAgAWtBH3EhAkGAgAIgAmohAyADIAMoAgAgAHM2AgBB" +
  "gIACQYCAAv0ABABBoIEBIAJr/QAEAP1O/QsEAEGQgAJBkIAC/QAEAEGwgQEgAmv9AAQA/U79" +
  "CwQAQYCAAiEDIAMgASACamohBEGAkAEgBCADa0EEdkEBa0E/cUEHdGohBQJAA0ADQCAFQYAB" +
  "ayEGIAP9AAQAIQggCCAL/U4hCSAIQQT9jQEgC/1OIQogDCAF/QAEACAJ/YACIAX9AARAIAr9" +
  "gAL9Uf1RIQwgDSAF/QAEECAJ/YACIAX9AARQIAr9gAL9Uf1RIQ0gDiAF/QAEICAJ/YACIAX9" +
  "AARgIAr9gAL9Uf1RIQ4gDyAF/QAEMCAJ/YACIAX9AARwIAr9gAL9Uf1RIQ8gA/0ABBAhCCAI" +
  "IAv9TiEJIAhBBP2NASAL/U4hCiAMIAb9AAQAIAn9gAIgBv0ABEAgCv2AAv1R/VEhDCANIAb9" +
  "AAQQIAn9gAIgBv0ABFAgCv2AAv1R/VEhDSAOIAb9AAQgIAn9gAIgBv0ABGAgCv2AAv1R/VEh" +
  "DiAPIAb9AAQwIAn9gAIgBv0ABHAgCv2AAv1R/VEhDyADQSBqIQMgBUGAAmsiBUGAkQFPDQAL" +
  "IAMgBE8NAUEAIAz9CwSAgAFBACAN/QsEkIABQQAgDv0LBKCAAUEAIA/9CwSwgAH9DAAAAAAA" +
  "AAAAAAAAAAAAAAAhDP0MAAAAAAAAAAAAAAAAAAAAACEN/QwAAAAAAAAAAAAAAAAAAAAAIQ79" +
  "DAAAAAAAAAAAAAAAAAAAAAAhD0EAIQcDQCAH/QAEgIABIQhBgIgBIAdBA3RqIQUgCCAL/U4h" +
  "CSAIQQT9jQEgC/1OIQogDCAF/QAEACAJ/YACIAX9AARAIAr9gAL9Uf1RIQwgDSAF/QAEECAJ" +
  "/YACIAX9AARQIAr9gAL9Uf1RIQ0gDiAF/QAEICAJ/YACIAX9AARgIAr9gAL9Uf1RIQ4gDyAF" +
  "/QAEMCAJ/YACIAX9AARwIAr9gAL9Uf1RIQ8gB0EQaiIHQcAASQ0AC0GAzwEhBQwACwtBACAM" +
  "IA39DAAAAAAAAAAAAAAAAAAAAAD9DRAAAQIDBAUGBwgJCgsMDQ79USAO/QwAAAAAAAAAAAAA" +
  "AAAAAAAA/Q0QEAABAgMEBQYHCAkKCwwNIA/9DAAAAAAAAAAAAAAAAAAAAAD9DRAQEAABAgME" +
  "BQYHCAkKCwz9Uf1R/QsEgIABQQAgDf0MAAAAAAAAAAAAAAAAAAAAAP0NDxAQEBAQEBAQEBAQ" +
  "EBAQECAO/QwAAAAAAAAAAAAAAAAAAAAA/Q0ODxAQEBAQEBAQEBAQEBAQIA/9DAAAAAAAAAAA" +
  "AAAAAAAAAAD9DQ0ODxAQEBAQEBAQEBAQEBD9Uf1R/QsEkIABQQAoAo+AASEAIABBAC0AgIAB" +
  "QQJ0KAKAcHMhACAAQQAtAIGAAUECdCgCgGhzIQAgAEEALQCCgAFBAnQoAoBgcyEAIABBAC0A" +
  "g4ABQQJ0KAKAWHMhACAAQQAtAISAAUECdCgCgFBzIQAgAEEALQCFgAFBAnQoAoBIcyEAIABB" +
  "AC0AhoABQQJ0KAKAQHMhACAAQQAtAIeAAUECdCgCgDhzIQAgAEEALQCIgAFBAnQoAoAwcyEA" +
  "IABBAC0AiYABQQJ0KAKAKHMhACAAQQAtAIqAAUECdCgCgCBzIQAgAEEALQCLgAFBAnQoAoAY" +
  "cyEAIABBAC0AjIABQQJ0KAKAEHMhACAAQQAtAI2AAUECdCgCgAhzIQAgAEEALQCOgAFBAnQo" +
  "AgBzIQAgAAs=";

// Byte addresses in the module's memory (see the layout in its source).
const STAIRS = 16512;
const CARRY = 17408;
const GROUP = 18432;
const INPUT = 32768;
// The largest piece copied into WebAssembly memory per call: 64 KiB plus
// 31 bytes of padding fits in the two 64 KiB pages after INPUT.
const CHUNK = 65536;

let simd: ((r: number, n: number) => number) | undefined;
let heap: Uint8Array | undefined;

// WebAssembly memory is little-endian and the JavaScript path reads the
// shared tables in host order, so the module is only used on
// little-endian hosts (all of Deno's).
if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
  try {
    const text = atob(WASM);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const exports = instance.exports as {
      memory: WebAssembly.Memory;
      crc: (r: number, n: number) => number;
    };
    heap = new Uint8Array(exports.memory.buffer);
    TABLES = new Int32Array(exports.memory.buffer, 0, 16 * 256);
    simd = exports.crc;
  } catch {
    // No WebAssembly or no (relaxed) SIMD: the JavaScript path does it all.
  }
}

fillSlicingTables(TABLES);
if (heap !== undefined) fillSimdTables(heap, TABLES);

function fillSlicingTables(t: Int32Array): void {
  for (let x = 0; x < 256; x++) {
    let c = x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[x] = c;
  }
  for (let x = 0; x < 256; x++) {
    let c = t[x]!;
    for (let k = 1; k < 16; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[256 * k + x] = c;
    }
  }
}

function fillSimdTables(mem: Uint8Array, t: Int32Array): void {
  // 32 zero bytes then 32 0xff bytes: an unaligned 16-byte load from it is
  // the mask that clears the padding in front of the input.
  mem.fill(0xff, STAIRS + 32, STAIRS + 64);
  // Each table is 128 bytes: low nibble then high nibble, each four byte
  // planes of 16 entries.
  const put = (at: number, nibble: number, x: number, e: number) => {
    for (let plane = 0; plane < 4; plane++) {
      mem[at + 64 * nibble + 16 * plane + x] = e >>> (8 * plane);
    }
  };
  for (let nibble = 0; nibble < 2; nibble++) {
    for (let x = 0; x < 16; x++) {
      let e = t[x << (4 * nibble)]!; // E_0
      // Vector m from the end of a group: E_16m.
      for (let m = 0; m < 64; m++) {
        put(GROUP + 128 * m, nibble, x, e);
        if (m === 63) break;
        // 16 zero bytes at once: slicing-by-16 over zero data.
        e = t[3840 + (e & 0xff)]! ^ t[3584 + ((e >>> 8) & 0xff)]! ^
          t[3328 + ((e >>> 16) & 0xff)]! ^ t[3072 + (e >>> 24)]!;
      }
      // Byte b of a lane's register, carried past a 1024-byte group:
      // E_1023-b, from E_1008 one zero byte at a time.
      for (let z = 1009; z < 1024; z++) {
        e = t[e & 0xff]! ^ (e >>> 8);
        if (z >= 1020) put(CARRY + 128 * (1023 - z), nibble, x, e);
      }
    }
  }
}

// Slicing-by-16 on the register `r`: each step folds 16 bytes with 16
// independent look-ups; the tail takes one 8- and one 4-byte step before
// going byte by byte.
function tableUpdate(r: number, data: Uint8Array): number {
  const t = TABLES;
  const n = data.length;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const a = r ^ (data[i]! | data[i + 1]! << 8 | data[i + 2]! << 16 |
      data[i + 3]! << 24);
    r = t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^
      t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
      t[2816 + data[i + 4]!]! ^ t[2560 + data[i + 5]!]! ^
      t[2304 + data[i + 6]!]! ^ t[2048 + data[i + 7]!]! ^
      t[1792 + data[i + 8]!]! ^ t[1536 + data[i + 9]!]! ^
      t[1280 + data[i + 10]!]! ^ t[1024 + data[i + 11]!]! ^
      t[768 + data[i + 12]!]! ^ t[512 + data[i + 13]!]! ^
      t[256 + data[i + 14]!]! ^ t[data[i + 15]!]!;
  }
  if (i + 8 <= n) {
    const a = r ^ (data[i]! | data[i + 1]! << 8 | data[i + 2]! << 16 |
      data[i + 3]! << 24);
    r = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
    i += 8;
  }
  if (i + 4 <= n) {
    const a = r ^ (data[i]! | data[i + 1]! << 8 | data[i + 2]! << 16 |
      data[i + 3]! << 24);
    r = t[768 + (a & 0xff)]! ^ t[512 + ((a >>> 8) & 0xff)]! ^
      t[256 + ((a >>> 16) & 0xff)]! ^ t[a >>> 24]!;
    i += 4;
  }
  for (; i < n; i++) r = t[(r ^ data[i]!) & 0xff]! ^ (r >>> 8);
  return r;
}

// The WebAssembly path, 64 KiB at a time; the module reads the piece from
// INPUT plus its padding, so data.length must be at least 4.
function simdUpdate(
  r: number,
  data: Uint8Array,
  run: (r: number, n: number) => number,
  mem: Uint8Array,
): number {
  const n = data.length;
  if (n <= CHUNK) {
    mem.set(data, INPUT + (-n & 31));
    return run(r, n);
  }
  for (let i = 0; i < n; i += CHUNK) {
    const piece = data.subarray(i, i + CHUNK);
    if (piece.length < SIMD_MIN) return tableUpdate(r, piece);
    mem.set(piece, INPUT + (-piece.length & 31));
    r = run(r, piece.length);
  }
  return r;
}

/**
 * Computes the CRC32C of `data`, optionally continuing from the CRC of
 * bytes that preceded it: `crc32c(b, crc32c(a))` is the CRC of `a`
 * followed by `b`.
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
 *
 * @example Continuing across pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * const data = new TextEncoder().encode("a WAL record, checksummed in two parts");
 * assert.equal(crc32c(data.subarray(9), crc32c(data.subarray(0, 9))), crc32c(data));
 * ```
 */
export function crc32c(data: Uint8Array, crc = 0): number {
  const r = ~crc;
  if (simd !== undefined && data.length >= SIMD_MIN) {
    return ~simdUpdate(r, data, simd, heap!) >>> 0;
  }
  return ~tableUpdate(r, data) >>> 0;
}
