/**
 * How the CLI shows keys and values that are arbitrary bytes as text,
 * without ever mangling them.
 *
 * Escaping rules (text output of every command):
 *
 * - A backslash is written `\\`.
 * - A byte that is not part of a valid UTF-8 sequence is written `\xNN`
 *   (two lowercase hex digits). So is a valid sequence's lead byte when the
 *   sequence is overlong, a surrogate (U+D800…U+DFFF) or above U+10FFFF:
 *   each byte is then examined on its own.
 * - A control byte (0x00…0x1F, 0x7F) other than tab, line feed and
 *   carriage return is written `\xNN`, so a value can not send escape
 *   sequences to the terminal.
 * - In single-line mode (scan, dump: one record per line, fields separated
 *   by a tab) tab, line feed and carriage return are written `\t`, `\n`
 *   and `\r` too. Without it (get prints one value) they stay as they are,
 *   so multi-line text prints as text.
 * - Every other character is written as itself.
 *
 * `\xNN` always stands for the byte NN, so {@link unescapeBytes} restores
 * the exact bytes. JSON output uses {@link decodeUtf8} instead: a string
 * when the bytes are valid UTF-8, hex otherwise.
 *
 * @module
 */

const strictDecoder = new TextDecoder("utf-8", {
  fatal: true,
  // Keep a leading U+FEFF: stripping it would change the value.
  ignoreBOM: true,
});
const encoder = new TextEncoder();

/**
 * Decodes bytes that are valid UTF-8, refusing anything else.
 *
 * @param bytes The bytes.
 * @returns The string, or `undefined` when the bytes are not valid UTF-8
 * (so the caller can fall back to hex instead of substituting U+FFFD).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeUtf8 } from "./escape.ts";
 * assert(decodeUtf8(new Uint8Array([0x68, 0x69])) === "hi");
 * assert(decodeUtf8(new Uint8Array([0xff])) === undefined);
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  const ascii = asciiText(bytes, false);
  if (ascii !== undefined) return ascii;
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

// Keys and values are mostly short ASCII. Decoding those in JS skips a
// call into the runtime's decoder, which costs more than the loop below.
const ASCII_FAST_PATH_BYTES = 256;

/**
 * The string of short, printable-ASCII bytes, or `undefined` when the
 * bytes are longer or hold anything else (with `printable`, also a
 * backslash or a control byte, which need escaping).
 */
function asciiText(bytes: Uint8Array, printable: boolean): string | undefined {
  if (bytes.length > ASCII_FAST_PATH_BYTES) return undefined;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) return undefined;
    if (printable && (b < 0x20 || b === 0x5c || b === 0x7f)) return undefined;
  }
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

// Length of the valid UTF-8 sequence starting at bytes[i], or 0 when the
// byte there does not start one (RFC 3629 table, no overlongs/surrogates).
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => {
    const c = bytes[j];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

const hexByte = (b: number) => "\\x" + b.toString(16).padStart(2, "0");

/**
 * Writes bytes as readable text following the module's escaping rules.
 *
 * @param bytes The key or value.
 * @param singleLine Also escape tab, line feed and carriage return, so the
 * result fits on one line.
 * @returns The escaped text.
 *
 * @example Invalid UTF-8 and backslashes
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeBytes } from "./escape.ts";
 * const bytes = new Uint8Array([0x61, 0x5c, 0xff, 0x0a]);
 * assert(escapeBytes(bytes, false) === "a\\\\\\xff\n");
 * assert(escapeBytes(bytes, true) === "a\\\\\\xff\\n");
 * ```
 */
export function escapeBytes(bytes: Uint8Array, singleLine: boolean): string {
  const plain = asciiText(bytes, true);
  if (plain !== undefined) return plain;
  let out = "";
  let runStart = 0; // start of a run of bytes copied through unchanged
  const flush = (end: number) => {
    if (end > runStart) {
      out += strictDecoder.decode(bytes.subarray(runStart, end));
    }
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      let esc: string | undefined;
      if (b === 0x5c) esc = "\\\\";
      else if (b < 0x20 || b === 0x7f) {
        const space = b === 0x09 || b === 0x0a || b === 0x0d;
        if (!space) esc = hexByte(b);
        else if (singleLine) {
          esc = b === 0x09 ? "\\t" : b === 0x0a ? "\\n" : "\\r";
        }
      }
      if (esc !== undefined) {
        flush(i);
        out += esc;
        runStart = i + 1;
      }
      i++;
      continue;
    }
    const n = sequenceLength(bytes, i);
    if (n === 0) {
      flush(i);
      out += hexByte(b);
      runStart = ++i;
    } else {
      i += n;
    }
  }
  flush(i);
  return out;
}

/**
 * Reverses {@link escapeBytes}: `\\`, `\xNN`, `\t`, `\n` and `\r` become
 * the bytes they stand for, everything else its UTF-8 encoding.
 *
 * @param text Escaped text.
 * @returns The bytes, or `undefined` when `text` holds a backslash that
 * starts no valid escape.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeBytes, unescapeBytes } from "./escape.ts";
 * const bytes = new Uint8Array([0xe2, 0x82, 0xac, 0x80, 0x5c, 0x09]);
 * const back = unescapeBytes(escapeBytes(bytes, true))!;
 * assert(back.join() === bytes.join());
 * ```
 */
export function unescapeBytes(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    const slash = text.indexOf("\\", i);
    const end = slash < 0 ? text.length : slash;
    for (const b of encoder.encode(text.slice(i, end))) out.push(b);
    if (slash < 0) break;
    const c = text[slash + 1];
    if (c === "\\") out.push(0x5c);
    else if (c === "t") out.push(0x09);
    else if (c === "n") out.push(0x0a);
    else if (c === "r") out.push(0x0d);
    else if (
      c === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(slash + 2, slash + 4))
    ) {
      out.push(parseInt(text.slice(slash + 2, slash + 4), 16));
      i = slash + 4;
      continue;
    } else return undefined;
    i = slash + 2;
  }
  return new Uint8Array(out);
}
