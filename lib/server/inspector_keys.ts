/**
 * The inspector's key browser: the prefix a person types, parsed into a
 * Deno KV key, and a page of entries under it printed the way Deno prints
 * them.
 *
 * The prefix syntax is the one `Deno.inspect` prints a key in, so a key
 * copied from the table can be pasted back as a prefix (JSON arrays of
 * strings, numbers and booleans are a subset of it):
 *
 * ```
 * prefix := "" | "[" [ part { "," part } [ "," ] ] "]"      ("" = every key)
 * part   := string | number | bigint | boolean | bytes
 * string := "…" | '…' | `…`     escapes: \\ \" \' \` \n \r \t \b \f \v \0
 *                               \xHH \uHHHH \u{H…}
 * number := -12 | 1.5 | 1e3 | -0 | NaN | Infinity | -Infinity
 * bigint := 12n | -12n
 * boolean:= true | false
 * bytes  := Uint8Array(2) [ 1, 2 ] | Uint8Array [ 1, 2 ]  (the count, if
 *           given, must match; each byte 0 to 255)
 * ```
 *
 * Whitespace (newlines too) may stand between tokens. The parser builds
 * values and never evaluates code.
 *
 * @module
 */

import type { Kv } from "../kv/kv.ts";

/**
 * A prefix the parser could not read; its message says where and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrefix, PrefixSyntaxError } from "./inspector_keys.ts";
 * assert.throws(() => parsePrefix("[users]"), PrefixSyntaxError);
 * ```
 */
export class PrefixSyntaxError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, and at which character.
   */
  constructor(message: string) {
    super(message);
    this.name = "PrefixSyntaxError";
  }
}

/** Longest prefix text accepted: a key is at most 2 KiB (Deno KV's limit). */
const MAX_PREFIX_CHARS = 16 * 1024;

/**
 * Parses a key prefix as typed into the key browser (syntax above).
 *
 * @param text The prefix text.
 * @returns The key parts; `[]` for an empty text.
 * @throws {PrefixSyntaxError} When the text is not a key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrefix } from "./inspector_keys.ts";
 * assert.deepEqual(parsePrefix(`[ "users", 1n, -0, true ]`), ["users", 1n, -0, true]);
 * assert.deepEqual(parsePrefix(`[Uint8Array(2) [ 1, 255 ]]`), [new Uint8Array([1, 255])]);
 * assert.deepEqual(parsePrefix(""), []);
 * assert.throws(() => parsePrefix(`["users"`), /expected "," or "]"/);
 * ```
 */
export function parsePrefix(text: string): Deno.KvKey {
  if (text.length > MAX_PREFIX_CHARS) {
    throw new PrefixSyntaxError(
      `Invalid prefix: it is ${text.length} characters long (at most ${MAX_PREFIX_CHARS})`,
    );
  }
  const p = new Parser(text);
  p.space();
  if (p.done()) return [];
  const key = p.key();
  p.space();
  if (!p.done()) p.fail("the end of the prefix");
  return key;
}

/** A recursive-descent parser over one prefix text. */
class Parser {
  #pos = 0;
  constructor(readonly text: string) {}

  done(): boolean {
    return this.#pos >= this.text.length;
  }

  space(): void {
    while (/\s/.test(this.text[this.#pos] ?? "")) this.#pos++;
  }

  fail(expected: string): never {
    const found = this.done()
      ? "the end"
      : JSON.stringify(this.text.slice(this.#pos, this.#pos + 12));
    throw new PrefixSyntaxError(
      `Invalid prefix: expected ${expected} at character ${
        this.#pos + 1
      }, found ${found}`,
    );
  }

  /** Consumes `token` if it is next. */
  eat(token: string): boolean {
    if (!this.text.startsWith(token, this.#pos)) return false;
    this.#pos += token.length;
    return true;
  }

  /** A bracketed list of items, each read by `item`. */
  list<T>(item: () => T): T[] {
    if (!this.eat("[")) this.fail('"["');
    const out: T[] = [];
    for (;;) {
      this.space();
      if (this.eat("]")) return out;
      out.push(item());
      this.space();
      if (this.eat("]")) return out;
      if (!this.eat(",")) this.fail('"," or "]"');
    }
  }

  key(): Deno.KvKeyPart[] {
    return this.list(() => this.part());
  }

  part(): Deno.KvKeyPart {
    const c = this.text[this.#pos];
    if (c === '"' || c === "'" || c === "`") return this.string(c);
    if (this.eat("true")) return true;
    if (this.eat("false")) return false;
    if (this.eat("NaN")) return NaN;
    if (this.eat("Infinity")) return Infinity;
    if (this.eat("-Infinity")) return -Infinity;
    if (this.eat("Uint8Array")) return this.bytes();
    return this.number();
  }

  number(): number | bigint {
    const m = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?n?/y;
    m.lastIndex = this.#pos;
    const found = m.exec(this.text)?.[0];
    if (!found) this.fail("a string, number, bigint, boolean or Uint8Array");
    if (found.endsWith("n")) {
      if (/[.eE]/.test(found)) this.fail("an integer before the n of a bigint");
      this.#pos += found.length;
      return BigInt(found.slice(0, -1));
    }
    this.#pos += found.length;
    return Number(found);
  }

  bytes(): Uint8Array {
    this.space();
    let count: number | undefined;
    if (this.eat("(")) {
      count = this.integer();
      if (!this.eat(")")) this.fail('")"');
      this.space();
    }
    const at = this.#pos;
    const values = this.list(() => {
      const b = this.integer();
      if (b > 255) this.fail("a byte (0 to 255)");
      return b;
    });
    if (count !== undefined && count !== values.length) {
      this.#pos = at;
      this.fail(`${count} bytes, as Uint8Array(${count}) says,`);
    }
    return new Uint8Array(values);
  }

  integer(): number {
    const m = /\d{1,9}/y;
    m.lastIndex = this.#pos;
    const found = m.exec(this.text)?.[0];
    if (!found) this.fail("a whole number");
    this.#pos += found.length;
    return Number(found);
  }

  string(quote: string): string {
    this.#pos++;
    let out = "";
    for (;;) {
      const c = this.text[this.#pos];
      if (c === undefined) this.fail(`a closing ${quote}`);
      this.#pos++;
      if (c === quote) return out;
      out += c === "\\" ? this.escape() : c;
    }
  }

  escape(): string {
    const c = this.text[this.#pos++];
    const simple = SIMPLE_ESCAPES[c ?? ""];
    if (simple !== undefined) return simple;
    const hex = (re: RegExp) => {
      re.lastIndex = this.#pos;
      const m = re.exec(this.text);
      if (!m) {
        this.#pos--;
        this.fail("a valid escape");
      }
      this.#pos += m[0].length;
      return parseInt(m[1]!, 16);
    };
    if (c === "x") return String.fromCharCode(hex(/([0-9a-fA-F]{2})/y));
    if (c === "u" && this.text[this.#pos] === "{") {
      const cp = hex(/\{([0-9a-fA-F]{1,6})\}/y);
      if (cp > 0x10ffff) this.fail("a code point up to 10FFFF");
      return String.fromCodePoint(cp);
    }
    if (c === "u") return String.fromCharCode(hex(/([0-9a-fA-F]{4})/y));
    this.#pos--;
    return this.fail("a valid escape");
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  '"': '"',
  "'": "'",
  "`": "`",
  n: "\n",
  r: "\r",
  t: "\t",
  b: "\b",
  f: "\f",
  v: "\v",
  0: "\0",
};

// A key is printed whole and on one line, so that it can be pasted back.
const KEY_INSPECT: Deno.InspectOptions = {
  colors: false,
  breakLength: Infinity,
  iterableLimit: Infinity,
  strAbbreviateSize: Infinity,
};

// A value is a preview: a few levels and items, on one line.
const VALUE_INSPECT: Deno.InspectOptions = {
  colors: false,
  breakLength: Infinity,
  compact: true,
  depth: 3,
  iterableLimit: 20,
  strAbbreviateSize: 200,
};

/**
 * Prints a key as `Deno.inspect` does, whole and on one line.
 *
 * @param key A Deno KV key.
 * @returns For example `[ "users", 1n ]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePrefix, printKey } from "./inspector_keys.ts";
 * assert.equal(printKey(["users", 1n]), `[ "users", 1n ]`);
 * const key = ["a'\"b", new Uint8Array([7]), -0];
 * assert.deepEqual(parsePrefix(printKey(key)), key); // pastes back
 * ```
 */
export function printKey(key: Deno.KvKey): string {
  return Deno.inspect(key, KEY_INSPECT);
}

/**
 * Prints a value as `Deno.inspect` does, on one line and cut to `max`
 * characters.
 *
 * @param value A stored value.
 * @param max The most characters to keep.
 * @returns The preview; cut ones end with `…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printValue } from "./inspector_keys.ts";
 * assert.equal(printValue({ name: "Ada" }), `{ name: "Ada" }`);
 * assert.equal(printValue("x".repeat(50), 10), `"xxxxxxxx…`);
 * ```
 */
export function printValue(value: unknown, max = 160): string {
  return shorten(Deno.inspect(value, VALUE_INSPECT), max);
}

/**
 * Cuts text to `max` characters, ending it with `…` when cut, and never in
 * the middle of a surrogate pair.
 *
 * @param text Any text.
 * @param max The most characters to keep (at least 1).
 * @returns The text, or its start and `…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shorten } from "./inspector_keys.ts";
 * assert.equal(shorten("abcdef", 4), "abc…");
 * assert.equal(shorten("abc", 4), "abc");
 * ```
 */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return text.slice(0, end) + "…";
}

// A value's preview: a line of the table, and its tooltip.
const VALUE_PREVIEW = 400;

/**
 * One row of the key browser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { KeyRow } from "./inspector_keys.ts";
 * const row: KeyRow = {
 *   key: `[ "users", 1n ]`,
 *   value: `{ name: "Ada" }`,
 *   versionstamp: "00000000000000010000",
 * };
 * assert.ok(row.key);
 * ```
 */
export interface KeyRow {
  /** The key, printed. */
  key: string;
  /** The value, printed and cut. */
  value: string;
  /** The entry's versionstamp. */
  versionstamp: string;
}

/**
 * A page of the key browser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { KeyPage } from "./inspector_keys.ts";
 * const last: KeyPage = { rows: [] }; // no `next`: nothing follows
 * assert.ok(last.next === undefined);
 * ```
 */
export interface KeyPage {
  /** The entries, in key order. */
  rows: KeyRow[];
  /** The cursor of the next page, when there are more entries. */
  next?: string;
}

/**
 * Reads one page of the entries under `prefix`, through the Kv API (so
 * expired entries are hidden as `list` hides them).
 *
 * @param kv The database.
 * @param prefix The key prefix.
 * @param limit Entries per page.
 * @param cursor Where the page starts (from an earlier page's `next`).
 * @returns The rows, and the next page's cursor if more entries follow.
 * @throws {TypeError} For a cursor that is not one of this prefix's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "../kv/open_kv.ts";
 * import { listPage } from "./inspector_keys.ts";
 * await using kv = await openKv(":memory:");
 * for (const n of [1, 2, 3]) await kv.set(["n", n], n);
 * const first = await listPage(kv, ["n"], 2);
 * assert.deepEqual(first.rows.map((r) => r.key), ["[ \"n\", 1 ]", "[ \"n\", 2 ]"]);
 * const second = await listPage(kv, ["n"], 2, first.next);
 * assert.deepEqual(second.rows.map((r) => r.value), ["3"]);
 * assert.equal(second.next, undefined);
 * ```
 */
export async function listPage(
  kv: Kv,
  prefix: Deno.KvKey,
  limit: number,
  cursor?: string,
): Promise<KeyPage> {
  // One entry more than the page tells whether a next page exists.
  const it = kv.list({ prefix }, {
    limit: limit + 1,
    batchSize: limit + 1,
    ...(cursor ? { cursor } : {}),
  });
  const rows: KeyRow[] = [];
  let pageEnd = "";
  for await (const e of it) {
    if (rows.length === limit) return { rows, next: pageEnd };
    rows.push({
      key: printKey(e.key),
      value: printValue(e.value, VALUE_PREVIEW),
      versionstamp: e.versionstamp,
    });
    if (rows.length === limit) pageEnd = it.cursor;
  }
  return { rows };
}
