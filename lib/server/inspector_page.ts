/**
 * The inspector's two pages, rendered on the server as complete HTML: the
 * login form, and the inspector itself (figures, level picture, file
 * table, key browser). Each reads well with JavaScript off; the inline
 * script (lib/server/inspector_assets.ts) only keeps the figures and the
 * picture live. Every piece of user data goes through `escapeHtml`.
 *
 * @module
 */

import { SCRIPT, STYLE } from "./inspector_assets.ts";
import { escapeHtml, formatCount } from "./inspector_html.ts";
import type { KeyRow } from "./inspector_keys.ts";
import type { Figure, StatsSnapshot } from "./inspector_stats.ts";

/**
 * The page sizes the key browser offers; any other `limit` is the default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_SIZES } from "./inspector_page.ts";
 * assert(PAGE_SIZES.includes(50));
 * ```
 */
export const PAGE_SIZES: readonly number[] = [10, 25, 50, 100, 250, 500];

/**
 * What the key browser shows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BrowserView } from "./inspector_page.ts";
 * const refused: BrowserView = {
 *   prefixText: "[users]",
 *   limit: 50,
 *   page: 1,
 *   rows: [],
 *   error: "Invalid prefix: …",
 * };
 * assert.ok(refused.error);
 * ```
 */
export interface BrowserView {
  /** The prefix as typed (shown back in the input). */
  prefixText: string;
  /** Entries per page. */
  limit: number;
  /** Which page this is, counting from 1 (for people; cursors do the work). */
  page: number;
  /** The entries, unless the prefix or cursor was refused. */
  rows: KeyRow[];
  /** The next page's cursor. */
  next?: string;
  /** Why the prefix or cursor was refused. */
  error?: string;
}

function layout(
  title: string,
  nonce: string,
  bodyAttributes: string,
  content: string,
  script: boolean,
): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style nonce="${escapeHtml(nonce)}">${STYLE}</style></head>
<body${bodyAttributes}>${content}${
    script ? `<script nonce="${escapeHtml(nonce)}">${SCRIPT}</script>` : ""
  }</body></html>
`;
}

/**
 * The login form. It names nothing about the database: whoever sees it
 * has not shown the token yet.
 *
 * @param nonce The response's CSP nonce.
 * @param message A line above the form (a refused token), if any.
 * @returns The HTML page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loginPage } from "./inspector_page.ts";
 * const html = loginPage("n0nce", "That token is not the access token");
 * assert.match(html, /<form method="post" action="\/login">/);
 * assert.match(html, /not the access token/);
 * ```
 */
export function loginPage(nonce: string, message?: string): string {
  const note = message
    ? `<p class="error" role="alert">${escapeHtml(message)}</p>`
    : "";
  return layout(
    "Strata inspector: sign in",
    nonce,
    "",
    `<main class="login"><h1>Strata inspector</h1>${note}
<form method="post" action="/login">
<label for="token">Access token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<button type="submit" class="primary">Sign in</button>
</form>
<p class="hint">The token <code>strata serve</code> printed when it started, or
the one it was given (<code>--access-token</code>,
<code>STRATA_ACCESS_TOKEN</code>). It is kept in a cookie for this site.</p>
</main>`,
    false,
  );
}

/**
 * The inspector page, complete as of this snapshot.
 *
 * @param nonce The response's CSP nonce.
 * @param snapshot The figures, with the picture and file rows.
 * @param browser The key browser's prefix, page and entries.
 * @returns The HTML page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "../kv/open_kv.ts";
 * import { inspectorPage } from "./inspector_page.ts";
 * import { statsSnapshot } from "./inspector_stats.ts";
 * await using kv = await openKv(":memory:");
 * const html = inspectorPage("n", statsSnapshot(kv), {
 *   prefixText: "", limit: 50, page: 1,
 *   rows: [{ key: `[ "<b>" ]`, value: "1", versionstamp: "00000000000000010000" }],
 * });
 * assert.match(html, /&lt;b&gt;/);
 * assert(!html.includes("<b>"));
 * ```
 */
export function inspectorPage(
  nonce: string,
  snapshot: StatsSnapshot,
  browser: BrowserView,
): string {
  const { stats } = snapshot;
  const data = ` data-version="${
    escapeHtml(snapshot.version)
  }" data-time="${snapshot.time}" data-sequence="${stats.sequence}" data-compacted="${stats.compactions.bytesWritten}"`;
  return layout(
    `Strata inspector: ${snapshot.path}`,
    nonce,
    data,
    `<header><h1>Strata</h1><span class="path">${
      escapeHtml(snapshot.path)
    }</span><span id="live">as of ${
      escapeHtml(new Date(snapshot.time).toISOString())
    }<noscript> (reload for fresh figures)</noscript></span>
<form method="post" action="/inspector/logout"><button type="submit">Sign out</button></form></header>
<main>
<section aria-label="Figures"><dl class="figures">${
      snapshot.figures.map(figureCard).join("")
    }</dl></section>
<section><h2>Levels</h2>
<div class="picture" id="picture">${snapshot.picture ?? ""}</div>
<details><summary>Files (${
      formatCount(stats.levels.reduce((n, l) => n + l.files, 0))
    } when loaded)</summary>
<table><thead><tr><th>Level</th><th>File</th><th class="num">Size</th><th class="num">Entries</th><th>Smallest key</th><th>Largest key</th></tr></thead>
<tbody id="files">${snapshot.files ?? ""}</tbody></table></details></section>
${keyBrowser(browser)}
</main>`,
    true,
  );
}

function figureCard(f: Figure): string {
  // The two rates get a sparkline the script draws (0..100 × 0..24).
  const spark = f.id === "rate" || f.id === "compactions"
    ? `<svg viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true"></svg>`
    : "";
  return `<div class="figure" data-figure="${escapeHtml(f.id)}"><dt>${
    escapeHtml(f.label)
  }</dt><dd class="value">${escapeHtml(f.value)}</dd><dd class="detail">${
    escapeHtml(f.detail)
  }</dd>${spark ? `<dd>${spark}</dd>` : ""}</div>`;
}

/**
 * The address of a key-browser page, as a plain link works without
 * JavaScript.
 *
 * @param prefixText The prefix as typed.
 * @param limit Entries per page.
 * @param cursor The page's cursor, if not the first page.
 * @param page The page's number.
 * @returns A path with its query, not yet escaped for HTML.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { browseHref } from "./inspector_page.ts";
 * assert.equal(browseHref(`["a"]`, 50), "/?prefix=%5B%22a%22%5D&limit=50#keys");
 * ```
 */
export function browseHref(
  prefixText: string,
  limit: number,
  cursor?: string,
  page = 1,
): string {
  const q = new URLSearchParams({ prefix: prefixText, limit: String(limit) });
  if (cursor) {
    q.set("cursor", cursor);
    q.set("page", String(page));
  }
  return `/?${q}#keys`;
}

function keyBrowser(b: BrowserView): string {
  const options = PAGE_SIZES.map((n) =>
    `<option value="${n}"${n === b.limit ? " selected" : ""}>${n}</option>`
  ).join("");
  const error = b.error
    ? `<p class="error" role="alert">${escapeHtml(b.error)}</p>`
    : "";
  return `<section id="keys"><h2>Keys</h2>
<form class="browse" method="get" action="/#keys">
<label for="prefix">Prefix<input type="text" id="prefix" name="prefix" value="${
    escapeHtml(b.prefixText)
  }" placeholder='[ "users" ]' spellcheck="false" autocomplete="off"></label>
<label for="limit">Per page<select id="limit" name="limit">${options}</select></label>
<button type="submit" class="primary">List</button></form>
<p class="hint">A key prefix as Deno prints keys: <code>[ "users", 1n ]</code>,
<code>[ "a", 1.5, true, Uint8Array(2) [ 1, 2 ] ]</code>. Strings in <code>"</code>,
<code>'</code> or <code>\`</code>; <code>1n</code> is a bigint. Empty lists every key.
A key in the table lists the keys under it.</p>
${error}${b.error ? "" : rowsTable(b)}</section>`;
}

function rowsTable(b: BrowserView): string {
  const rows = b.rows.map((r) =>
    `<tr><td><a href="${
      escapeHtml(browseHref(r.key, b.limit))
    }" title="List the keys under this one"><code>${
      escapeHtml(r.key)
    }</code></a></td><td class="value" title="${escapeHtml(r.value)}"><code>${
      escapeHtml(r.value)
    }</code></td><td class="mono">${escapeHtml(r.versionstamp)}</td></tr>`
  ).join("");
  const first = b.page > 1
    ? `<a href="${
      escapeHtml(browseHref(b.prefixText, b.limit))
    }">First page</a>`
    : "";
  const next = b.next
    ? `<a href="${
      escapeHtml(browseHref(b.prefixText, b.limit, b.next, b.page + 1))
    }" rel="next">Next page</a>`
    : "";
  const empty = b.rows.length === 0
    ? `<tr><td colspan="3">No entries ${
      b.page > 1 ? "on this page" : "under this prefix"
    }.</td></tr>`
    : "";
  return `<table class="entries"><thead><tr><th>Key</th><th>Value</th><th>Versionstamp</th></tr></thead>
<tbody>${rows}${empty}</tbody></table>
<nav class="pages"><span>Page ${b.page}, ${formatCount(b.rows.length)} entr${
    b.rows.length === 1 ? "y" : "ies"
  }</span>${first}${next}</nav>`;
}
