/**
 * The JSON-lines record format of `scan --json`, `export` and `import`:
 * one JSON object per line.
 *
 * - `{"key": "…", "value": "…"}`: key and value are UTF-8 text.
 * - A key or value that is not valid UTF-8 is never mangled into U+FFFD:
 *   it is written as hex under `keyHex` / `valueHex` instead, e.g.
 *   `{"key": "img:1", "valueHex": "89504e47"}`.
 * - With `--hex`, `key` and `value` always hold hex.
 *
 * `import` accepts exactly what `export` writes (with the same `--hex`
 * setting), so export then import reproduces the data byte for byte.
 *
 * @module
 */

import { fromHex, toHex, utf8 } from "../lib/util/bytes.ts";
import { decodeUtf8 } from "./escape.ts";

/** A key with its value, as read from a JSON-lines record. */
export interface KeyValue {
  /** The key bytes. */
  key: Uint8Array;
  /** The value bytes. */
  value: Uint8Array;
}

function field(name: string, bytes: Uint8Array, hex: boolean): string {
  if (!hex) {
    const text = decodeUtf8(bytes);
    if (text !== undefined) {
      return `${JSON.stringify(name)}:${JSON.stringify(text)}`;
    }
  }
  return `${JSON.stringify(hex ? name : name + "Hex")}:"${toHex(bytes)}"`;
}

/**
 * Formats one record as a JSON line (without the newline).
 *
 * @param key The key.
 * @param value The value, or `undefined` for a keys-only record.
 * @param hex Write key and value as hex under `key` and `value`.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRecord } from "./records.ts";
 * const k = new TextEncoder().encode("a");
 * assert(formatRecord(k, new Uint8Array([0xff]), false) === '{"key":"a","valueHex":"ff"}');
 * assert(formatRecord(k, undefined, true) === '{"key":"61"}');
 * ```
 */
export function formatRecord(
  key: Uint8Array,
  value: Uint8Array | undefined,
  hex: boolean,
): string {
  const k = field("key", key, hex);
  return value === undefined
    ? `{${k}}`
    : `{${k},${field("value", value, hex)}}`;
}

// Short ASCII strings are encoded in JS: cheaper than a call into the
// runtime's encoder.
function asciiBytes(text: string): Uint8Array | undefined {
  if (text.length > 256) return undefined;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return undefined;
    out[i] = c;
  }
  return out;
}

function readField(
  record: Record<string, unknown>,
  name: string,
  hex: boolean,
): Uint8Array {
  const text = record[name];
  const hexText = record[name + "Hex"];
  if (text !== undefined && hexText !== undefined) {
    throw new Error(`both "${name}" and "${name}Hex" are present`);
  }
  if (text === undefined && hexText === undefined) {
    throw new Error(`"${name}" is missing`);
  }
  const useHex = hexText !== undefined || hex;
  const given = hexText !== undefined ? hexText : text;
  const label = hexText !== undefined ? name + "Hex" : name;
  if (typeof given !== "string") {
    throw new Error(`"${label}" is not a string`);
  }
  if (useHex) {
    const bytes = fromHex(given);
    if (!bytes) {
      throw new Error(`"${label}" is not hex: ${JSON.stringify(given)}`);
    }
    return bytes;
  }
  const ascii = asciiBytes(given);
  if (ascii) return ascii;
  if (!given.isWellFormed()) {
    throw new Error(
      `"${label}" holds a lone surrogate, which UTF-8 cannot encode`,
    );
  }
  return utf8(given);
}

/**
 * Parses one JSON line into a key and a value. Fields other than `key`,
 * `keyHex`, `value` and `valueHex` are ignored.
 *
 * @param line The JSON text of one line.
 * @param hex Read `key` and `value` as hex.
 * @returns The key and value bytes.
 * @throws {Error} A one-line reason when the line is not a valid record
 * (the caller adds the file and line number).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecord } from "./records.ts";
 * const r = parseRecord('{"key":"a","valueHex":"ff00"}', false);
 * assert(r.key[0] === 0x61 && r.value[0] === 0xff);
 * ```
 */
export function parseRecord(line: string, hex: boolean): KeyValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("not a JSON object");
  }
  const record = parsed as Record<string, unknown>;
  return {
    key: readField(record, "key", hex),
    value: readField(record, "value", hex),
  };
}
