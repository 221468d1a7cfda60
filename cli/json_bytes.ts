/**
 * Turns a structure holding byte strings into JSON-ready data with the
 * same rule as the record format (see `./records.ts`): a `Uint8Array`
 * under property `name` becomes a string under `name` when it is valid
 * UTF-8, and hex under `nameHex` otherwise; with `hex`, always hex under
 * `name`.
 *
 * @module
 */

import { toHex } from "../lib/util/bytes.ts";
import { decodeUtf8 } from "./escape.ts";

/**
 * Converts `value` for `JSON.stringify`, renaming byte-string properties.
 *
 * @param value Any structure of objects, arrays, primitives and `Uint8Array`s.
 * @param hex Write every byte string as hex under its own name.
 * @returns A structure without `Uint8Array`s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toJsonValue } from "./json_bytes.ts";
 * const out = toJsonValue({ key: new Uint8Array([0x61]), value: new Uint8Array([0xff]) }, false);
 * assert(JSON.stringify(out) === '{"key":"a","valueHex":"ff"}');
 * ```
 */
export function toJsonValue(value: unknown, hex: boolean): unknown {
  if (value instanceof Uint8Array) return toHex(value); // bare, e.g. in an array
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, hex));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v instanceof Uint8Array) {
      const text = hex ? undefined : decodeUtf8(v);
      if (text !== undefined) out[name] = text;
      else out[hex ? name : `${name}Hex`] = toHex(v);
    } else {
      out[name] = toJsonValue(v, hex);
    }
  }
  return out;
}
