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

// The CLI's formatting, so the page and `strata stats` read alike.
export { formatBytes, formatCount } from "../util/units.ts";

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
