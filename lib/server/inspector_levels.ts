/**
 * The inspector's picture of the level shape: one row per level, each
 * table file a box. Every row is drawn on one scale (the largest level
 * fills the width), so the picture shows the LSM's pyramid: each level
 * about `levelSizeMultiplier` times the one above. A box's width is its
 * file's size; boxes run in key order (level 0's, which may overlap, run
 * newest first). A box wide enough names its smallest and largest keys,
 * decoded and shortened; under the row, a key axis names the smallest key
 * at each file boundary it has room for, and the row's largest key at its
 * end. A dashed line marks the level's target size, when it falls inside
 * the picture; the row's label gives it in any case.
 *
 * ```
 *  L0  1 file, 329 KiB    [(meta) versionstamp   ]      ¦
 *      target 16 MiB      |(meta) versionstamp   [ "users", 4499n ]
 *  L1  4 files, 112 KiB   [  ][  ][  ][ ]               ¦
 *      target 16 MiB      |[ "users", 2471n ]  |[ "users", 2933n ]
 *  L2  16 files, 522 KiB  [  ][  ][  ][  ][  ][  ][  ][  ][  ][  ]
 *  L3  empty, target 1.56 GiB ───────────────────────────────────
 * ```
 *
 * @module
 */

import type { DB } from "../engine/db.ts";
import type { LevelStats } from "../engine/db_stats.ts";
import type { FileMeta } from "../manifest/version.ts";
import { decodeKey } from "../kv/key_codec.ts";
import { DATA_SPACE, META_SPACE, QUEUE_SPACE } from "../kv/kv_layout.ts";
import { escapeHtml, formatBytes, formatCount } from "./inspector_html.ts";
import { printKey, shorten } from "./inspector_keys.ts";

/**
 * One table file, with its key range decoded for people.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TableView } from "./inspector_levels.ts";
 * const t: TableView = {
 *   number: 12,
 *   size: 4096,
 *   entries: 30,
 *   smallest: `[ "a" ]`,
 *   largest: `[ "z" ]`,
 * };
 * assert.ok(t.number);
 * ```
 */
export interface TableView {
  /** The file number (`NNNNNN.sst`). */
  number: number;
  /** Bytes. */
  size: number;
  /** Entries (puts and tombstones). */
  entries: number;
  /** The smallest key, described by {@link describeEngineKey}. */
  smallest: string;
  /** The largest key, described likewise. */
  largest: string;
}

/**
 * The decoded tables of every level, 0 to 6.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LevelTables } from "./inspector_levels.ts";
 * const none: LevelTables = Array.from({ length: 7 }, () => []);
 * assert.ok(none.length);
 * ```
 */
export type LevelTables = TableView[][];

/**
 * Describes an engine key for people: a KV data key as Deno prints it, and
 * the metadata and queue spaces by name.
 *
 * @param key A raw engine key (see lib/kv/kv_layout.ts).
 * @returns For example `[ "users", 1n ]`, `(meta) versionstamp` or
 *   `(queue) due 2025-01-01T00:00:00.000Z`; other bytes in hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeKey } from "../kv/key_codec.ts";
 * import { dataKey } from "../kv/kv_layout.ts";
 * import { describeEngineKey } from "./inspector_levels.ts";
 * assert.equal(describeEngineKey(dataKey(encodeKey(["users", 1n]))), `[ "users", 1n ]`);
 * assert.equal(describeEngineKey(new Uint8Array([0xaa, 0x01])), "0xaa01");
 * ```
 */
export function describeEngineKey(key: Uint8Array): string {
  const space = key[0];
  if (space === DATA_SPACE) {
    try {
      return printKey(decodeKey(key.subarray(1)));
    } catch {
      // Not a whole KV key (a raw DB's data): shown as bytes below.
    }
  } else if (space === META_SPACE) {
    const name = new TextDecoder().decode(key.subarray(1));
    if (/^[\x20-\x7e]*$/.test(name)) return `(meta) ${name}`;
  } else if (space === QUEUE_SPACE && key.length >= 9) {
    const due = new DataView(key.buffer, key.byteOffset + 1, 8).getBigUint64(0);
    const date = new Date(Number(due));
    if (!isNaN(date.getTime())) return `(queue) due ${date.toISOString()}`;
  }
  return "0x" + Array.from(key.subarray(0, 64), hex2).join("") +
    (key.length > 64 ? "…" : "");
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/**
 * The tables of every level, with their key ranges decoded.
 *
 * @param files Per level, the files' metadata (`DB.levelFiles()`).
 * @returns Per level, the tables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "../engine/db.ts";
 * import { levelTables } from "./inspector_levels.ts";
 * await using db = await DB.open(":memory:");
 * await db.put("\x01k", "v");
 * await db.flush();
 * const tables = levelTables(db.levelFiles());
 * assert.equal(tables.flat().length, 1);
 * ```
 */
export function levelTables(
  files: readonly (readonly FileMeta[])[],
): LevelTables {
  return files.map((level) =>
    level.map((f) => ({
      number: f.number,
      size: f.size,
      entries: f.entries,
      smallest: describeEngineKey(f.smallestKey),
      largest: describeEngineKey(f.largestKey),
    }))
  );
}

/**
 * A short fingerprint of the set of live files. Files never change once
 * written, so the picture changes exactly when this does: the page
 * redraws only then.
 *
 * @param db The database.
 * @returns Hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "../engine/db.ts";
 * import { shapeVersion } from "./inspector_levels.ts";
 * await using db = await DB.open(":memory:");
 * const empty = shapeVersion(db);
 * await db.put("k", "v");
 * await db.flush();
 * assert.notEqual(shapeVersion(db), empty);
 * ```
 */
export function shapeVersion(db: DB): string {
  // FNV-1a over level and file numbers: small, and stable across calls.
  let h = 0x811c9dc5;
  const mix = (n: number) => {
    h = Math.imul(h ^ (n & 0xffff), 0x01000193);
    h = Math.imul(h ^ (n >>> 16), 0x01000193);
  };
  db.levelFiles().forEach((level, l) => {
    mix(0x10000 + l);
    for (const f of level) mix(f.number);
  });
  return (h >>> 0).toString(16).padStart(8, "0");
}

// The picture's geometry, in SVG user units (the page scales it).
const WIDTH = 1000;
const LABEL = 190; // the level's name and figures, left of its boxes
const TRACK = WIDTH - LABEL - 10;
const BOX = 30; // a file's box: two lines of keys when it is wide enough
const ROW = BOX + 26; // a level with files: boxes, then the key axis
const EMPTY_ROW = 18; // an empty level: one line
const MIN_BOX = 2;
const CHAR = 6.1; // width of one 10-unit monospace character
const INK = "#1d2330"; // text on the (light) boxes, in either colour scheme
const COLORS = [
  "#f2b36b",
  "#8fc7e8",
  "#9fd6a2",
  "#c9b3e6",
  "#f0a5b8",
  "#b9d17a",
  "#9cc3c4",
];

/**
 * Draws the level shape as an SVG (see the module's description).
 *
 * @param levels Per level, the figures from `DB.stats()`.
 * @param tables Per level, the tables (from {@link levelTables}).
 * @returns SVG markup; every key and figure in it is escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "../engine/db.ts";
 * import { levelPicture, levelTables } from "./inspector_levels.ts";
 * await using db = await DB.open(":memory:");
 * await db.put("\x01<k>", "v");
 * await db.flush();
 * const svg = levelPicture(db.stats().levels, levelTables(db.levelFiles()));
 * assert.match(svg, /^<svg/);
 * assert.equal(svg.match(/class="file"/g)?.length, 1);
 * assert(!svg.includes("<k>"));
 * ```
 */
export function levelPicture(
  levels: readonly LevelStats[],
  tables: LevelTables,
): string {
  const largest = Math.max(1, ...levels.map((l) => l.bytes));
  const scale = TRACK / largest;
  let y = 6;
  const rows = levels.map((l, i) => {
    const files = tables[i] ?? [];
    const row = files.length
      ? levelRow(l, files, scale, y)
      : emptyRow(l, scale, y);
    y += files.length ? ROW : EMPTY_ROW;
    return row;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${y}" width="100%" role="img" aria-label="Table files per level, sized by bytes" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="10">${
    rows.join("")
  }</svg>`;
}

function levelName(level: number, y: number): string {
  return `<text x="4" y="${y}" font-size="14" font-weight="bold" fill="currentColor">L${level}</text>`;
}

function emptyRow(level: LevelStats, scale: number, y: number): string {
  return `<g class="level" data-level="${level.level}">${
    levelName(level.level, y + 12)
  }<text x="40" y="${
    y + 11
  }" fill="currentColor" opacity="0.65">empty, target ${
    escapeHtml(formatBytes(level.targetBytes))
  }</text><line x1="${LABEL}" x2="${LABEL + TRACK}" y1="${y + 8}" y2="${
    y + 8
  }" stroke="currentColor" stroke-opacity="0.15"/>${
    targetMark(level, scale, y + 1, 14)
  }</g>`;
}

function levelRow(
  level: LevelStats,
  tables: readonly TableView[],
  scale: number,
  y: number,
): string {
  const fill = level.targetBytes > 0 ? level.bytes / level.targetBytes : 0;
  const label = levelName(level.level, y + 16) +
    `<text x="40" y="${y + 12}" fill="currentColor">${
      formatCount(level.files)
    } file${level.files === 1 ? "" : "s"}, ${
      escapeHtml(formatBytes(level.bytes))
    }</text>` +
    `<text x="40" y="${y + 26}" fill="currentColor" opacity="0.7">target ${
      escapeHtml(formatBytes(level.targetBytes))
    } (${Math.round(fill * 100)}%)</text>`;
  const track =
    `<rect x="${LABEL}" y="${y}" width="${TRACK}" height="${BOX}" fill="currentColor" fill-opacity="0.05" rx="3"/>`;
  const xs = boxPositions(tables, scale);
  const boxes = tables.map((t, i) =>
    fileBox(level.level, t, xs[i]!, y, xs[i + 1]! - xs[i]!)
  ).join("");
  return `<g class="level" data-level="${level.level}">${label}${track}${boxes}${
    keyAxis(tables, xs, y + BOX)
  }${targetMark(level, scale, y - 2, BOX + 4)}</g>`;
}

/** Where each box starts, and (last) where the row ends. */
function boxPositions(tables: readonly TableView[], scale: number): number[] {
  let widths = tables.map((t) => Math.max(MIN_BOX, t.size * scale));
  const total = widths.reduce((a, b) => a + b, 0);
  // Minimum widths may overflow a row of many tiny files: squeeze it.
  if (total > TRACK) widths = widths.map((w) => w * TRACK / total);
  const xs = [LABEL];
  for (const w of widths) xs.push(xs[xs.length - 1]! + w);
  return xs;
}

function fileBox(
  level: number,
  t: TableView,
  x: number,
  y: number,
  w: number,
): string {
  const title = `L${level} · ${String(t.number).padStart(6, "0")}.sst · ${
    formatBytes(t.size)
  } · ${formatCount(t.entries)} entries\nfrom ${t.smallest}\nto ${t.largest}`;
  const chars = Math.floor((w - 6) / CHAR);
  const lines = chars >= 8
    ? [t.smallest, "… " + t.largest].map((s, j) =>
      `<text x="${fix(x + 3)}" y="${y + 12 + j * 12}" fill="${INK}">${
        escapeHtml(shorten(s, chars))
      }</text>`
    ).join("")
    : "";
  return `<g class="file" data-level="${level}" data-file="${t.number}"><title>${
    escapeHtml(title)
  }</title><rect x="${fix(x)}" y="${y}" width="${
    fix(Math.max(0.5, w - 1))
  }" height="${BOX}" rx="2" fill="${
    COLORS[level % COLORS.length]
  }" stroke="${INK}" stroke-opacity="0.35"/>${lines}</g>`;
}

/**
 * Under the boxes, a tick and the smallest key at each file boundary that
 * has room for a label, then the row's largest key at its end: where the
 * boxes are too narrow to name their keys, the axis still tells which
 * part of the key space each stretch holds.
 */
function keyAxis(
  tables: readonly TableView[],
  xs: readonly number[],
  y: number,
): string {
  const parts: string[] = [];
  const limit = LABEL + TRACK;
  const label = (x: number, text: string, anchor = "start") =>
    `<text x="${fix(x)}" y="${
      y + 15
    }" text-anchor="${anchor}" fill="currentColor" opacity="0.8">${
      escapeHtml(text)
    }</text>`;
  let free = LABEL; // where the next label may start
  tables.forEach((t, i) => {
    const x = xs[i]!;
    const room = Math.min(28, Math.floor((limit - x) / CHAR));
    if (x < free || room < 6) return;
    const text = shorten(t.smallest, room);
    parts.push(
      `<line x1="${fix(x)}" x2="${fix(x)}" y1="${y}" y2="${
        y + 5
      }" stroke="currentColor" stroke-opacity="0.6"/>`,
      label(x + 2, text),
    );
    free = x + 2 + text.length * CHAR + 12;
  });
  // The largest key ends where the boxes end; if the labels before it
  // reach past that, it follows them, marked as the end of the range.
  const end = xs[xs.length - 1]!;
  const last = tables[tables.length - 1]!.largest;
  const before = Math.min(24, Math.floor((end - free) / CHAR));
  if (before >= 8) {
    return parts.join("") + label(end, shorten(last, before), "end");
  }
  const after = Math.min(24, Math.floor((limit - free) / CHAR) - 2);
  if (after >= 8) parts.push(label(free, "… " + shorten(last, after)));
  return parts.join("");
}

function targetMark(
  level: LevelStats,
  scale: number,
  y: number,
  height: number,
): string {
  const x = LABEL + level.targetBytes * scale;
  if (x > LABEL + TRACK) return ""; // beyond the picture: the label says it
  return `<line x1="${fix(x)}" x2="${fix(x)}" y1="${y}" y2="${
    y + height
  }" stroke="#d0342c" stroke-width="1.5" stroke-dasharray="4 3"><title>target ${
    escapeHtml(formatBytes(level.targetBytes))
  }</title></line>`;
}

function fix(n: number): string {
  return n.toFixed(1);
}

/**
 * The table of every file, one row each, for reading the full key ranges
 * (the picture shortens them).
 *
 * @param tables Per level, the tables.
 * @returns `<tr>` rows, escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileRows } from "./inspector_levels.ts";
 * const rows = fileRows([[{ number: 7, size: 10, entries: 1, smallest: "<a>", largest: "b" }]]);
 * assert.match(rows, /000007\.sst/);
 * assert.match(rows, /&lt;a&gt;/);
 * ```
 */
export function fileRows(tables: LevelTables): string {
  const rows = tables.flatMap((level, l) =>
    level.map((t) =>
      `<tr><td>L${l}</td><td>${
        String(t.number).padStart(6, "0")
      }.sst</td><td class="num">${escapeHtml(formatBytes(t.size))}</td>` +
      `<td class="num">${formatCount(t.entries)}</td><td><code>${
        escapeHtml(t.smallest)
      }</code></td><td><code>${escapeHtml(t.largest)}</code></td></tr>`
    )
  );
  return rows.length
    ? rows.join("")
    : `<tr><td colspan="6">No table files yet: everything is in the memtable.</td></tr>`;
}
