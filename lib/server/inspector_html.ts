/**
 * The inspector's building blocks for HTML: escaping (keys and values are
 * user data, so every byte of them that reaches a page goes through
 * {@link escapeHtml}), number formatting, and the headers every inspector
 * response carries.
 *
 * @module
 */

/**
 * Escapes text for an HTML text node or a double- or single-quoted
 * attribute value. The five characters are all that can end a text or an
 * attribute or start markup; everything else is inert there.
 *
 * @param text Any text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` as character references.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./inspector_html.ts";
 * assert.equal(
 *   escapeHtml(`<script>alert("x")</script>`),
 *   "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
 * );
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Formats a byte count with a binary unit and three significant digits,
 * as `strata stats` does (cli/units.ts; lib/ does not import from cli/).
 *
 * @param bytes A non-negative number of bytes.
 * @returns For example `"0 B"`, `"1.50 KiB"`, `"12.3 MiB"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./inspector_html.ts";
 * assert.equal(formatBytes(1536), "1.50 KiB");
 * assert.equal(formatBytes(100), "100 B");
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
 * Formats a count with thousands separators (independent of the locale,
 * so server and tests agree).
 *
 * @param n An integer.
 * @returns For example `"1,234,567"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCount } from "./inspector_html.ts";
 * assert.equal(formatCount(1234567), "1,234,567");
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A fresh nonce for the Content-Security-Policy: 128 random bits, so a
 * page's inline script and style run and nothing injected does.
 *
 * @returns Base64 text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeNonce } from "./inspector_html.ts";
 * assert.notEqual(makeNonce(), makeNonce());
 * ```
 */
export function makeNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The headers of every inspector response. The policy allows nothing but
 * the page's own nonce-marked script and style and requests back to this
 * origin: even if some user data escaped the escaping, it could not run,
 * load anything or send anything anywhere. Nothing is cached, because
 * every page holds database contents.
 *
 * @param contentType The body's type.
 * @param nonce The page's nonce, if it has inline script or style.
 * @returns Headers to pass to `Response`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { securityHeaders } from "./inspector_html.ts";
 * const h = securityHeaders("text/html; charset=utf-8", "abc");
 * assert.match(h.get("content-security-policy")!, /script-src 'nonce-abc'/);
 * ```
 */
export function securityHeaders(contentType: string, nonce?: string): Headers {
  const inline = nonce === undefined ? "'none'" : `'nonce-${nonce}'`;
  return new Headers({
    "content-type": contentType,
    "content-security-policy": [
      "default-src 'none'",
      `script-src ${inline}`,
      `style-src ${inline}`,
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  });
}
