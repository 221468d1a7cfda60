/**
 * Number formatting shared by the CLI and the inspector: byte sizes
 * in binary units, durations and counts.
 *
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Formats a byte count with a binary unit and three significant digits.
 *
 * @param bytes A non-negative number of bytes.
 * @returns For example `"0 B"`, `"512 B"`, `"1.50 KiB"`, `"12.3 MiB"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./units.ts";
 * assert(formatBytes(1536) === "1.50 KiB");
 * assert(formatBytes(4 * 1024 * 1024) === "4.00 MiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/**
 * Formats a duration for an ETA or elapsed time.
 *
 * @param seconds Seconds (non-negative).
 * @returns `m:ss`, or `h:mm:ss` from one hour on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./units.ts";
 * assert(formatDuration(65) === "1:05");
 * assert(formatDuration(3725) === "1:02:05");
 * ```
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * Formats a count with thousands separators.
 *
 * @param n An integer.
 * @returns For example `"1,234,567"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCount } from "./units.ts";
 * assert(formatCount(1234567) === "1,234,567");
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
