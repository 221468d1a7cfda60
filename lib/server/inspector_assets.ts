/**
 * The inspector's style sheet and its one script, inlined into the pages
 * under the response's CSP nonce (no file to fetch, nothing from the
 * internet).
 *
 * The script only makes the server-rendered page live: every second it
 * asks `GET /inspector/stats?version=…` for fresh figures, places the
 * server-formatted text, computes the write rate from the change in the
 * sequence number (and the compaction rate from the bytes compactions
 * wrote) and draws both as sparklines, and swaps in the level picture and
 * file table the server sends when the set of files has changed. Without
 * JavaScript, the page is the same, as of its loading.
 *
 * @module
 */

/**
 * The pages' style sheet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STYLE } from "./inspector_assets.ts";
 * assert(!STYLE.includes("url(")); // loads nothing
 * ```
 */
export const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --bg: #f7f7f4; --card: #fff;
  --line: #d9d9d2; --muted: #5f6672; --accent: #2b62c4; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e1; --bg: #16181d;
  --card: #1f2229; --line: #363a44; --muted: #a0a6b1; --accent: #7fa8f5; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.5rem;
  border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 1.2rem; margin: 0; }
header .path { font: 13px ui-monospace, Menlo, Consolas, monospace; color: var(--muted);
  overflow-wrap: anywhere; }
header form { margin-left: auto; }
#live { color: var(--muted); font-size: 12px; white-space: nowrap; }
main { padding: 1rem 1.5rem 2rem; max-width: 1400px; }
section { margin-bottom: 1.2rem; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(128px, 1fr));
  gap: .6rem; margin: 0; }
.figure { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .4rem .6rem; margin: 0; }
.figure dt { font-size: 12px; color: var(--muted); }
.figure dd { margin: 0; }
.figure .value { font-size: 1.2rem; font-weight: 600; margin: 0; font-variant-numeric: tabular-nums; }
.figure .detail { font-size: 11px; color: var(--muted); margin: 0; }
.figure svg { display: block; width: 100%; height: 22px; margin-top: .2rem;
  border-bottom: 1px solid var(--line); }
.picture { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .5rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono, input[type=text] { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
td code { overflow-wrap: anywhere; }
table.entries { table-layout: fixed; }
table.entries th:first-child { width: 34%; }
table.entries th:last-child { width: 12.5rem; }
/* A value is one line, cut by the browser; its title holds more. */
table.entries td.value { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
details summary { cursor: pointer; margin: .5rem 0; }
.browse { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .6rem; }
.browse label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.browse input[type=text] { width: 36rem; max-width: 80vw; padding: .35rem .45rem; }
input, select, button { font: inherit; color: inherit; background: var(--card);
  border: 1px solid var(--line); border-radius: 4px; padding: .3rem .6rem; }
button { cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
.hint { color: var(--muted); font-size: 12px; margin: .2rem 0 .6rem; }
.error { color: var(--bad); font-weight: 600; }
nav.pages { display: flex; gap: 1rem; margin-top: .5rem; }
a { color: var(--accent); }
.login { max-width: 26rem; margin: 12vh auto; background: var(--card);
  border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; }
.login label { display: block; margin: .8rem 0 .3rem; }
.login input { width: 100%; padding: .45rem; }
.login button { margin-top: 1rem; }
`;

/**
 * The page's script (plain JavaScript, run by the browser). It reads its
 * starting point from the `<body>`'s data attributes, which the server
 * writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCRIPT } from "./inspector_assets.ts";
 * assert(!SCRIPT.includes("</script")); // safe to inline
 * ```
 */
export const SCRIPT = `
"use strict";
(() => {
  const body = document.body;
  const live = document.getElementById("live");
  const picture = document.getElementById("picture");
  const files = document.getElementById("files");
  let version = body.dataset.version || "";
  let last = {
    time: Number(body.dataset.time),
    sequence: Number(body.dataset.sequence),
    compacted: Number(body.dataset.compacted),
  };
  const history = { rate: [], compactionRate: [] };
  const HISTORY = 60;

  const place = (id, value, detail) => {
    const el = document.querySelector('[data-figure="' + id + '"]');
    if (!el) return;
    el.querySelector(".value").textContent = value;
    if (detail !== undefined) el.querySelector(".detail").textContent = detail;
  };
  const perSecond = (n) =>
    n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
  const bytesPerSecond = (n) => {
    const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
    let u = 0;
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (u === 0 ? Math.round(n) : n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2)) + " " + units[u];
  };
  // A sparkline of the last minute, drawn with DOM calls (no markup).
  const spark = (id, values) => {
    const el = document.querySelector('[data-figure="' + id + '"] svg');
    if (!el) return;
    const max = Math.max(1, ...values);
    // Spread across the width until a minute of samples fills it.
    const step = 100 / Math.max(1, values.length - 1);
    const points = values.map((v, i) =>
      (i * step).toFixed(1) + "," + (23 - v * 21 / max).toFixed(1)
    ).join(" ");
    let line = el.querySelector("polyline");
    if (!line) {
      line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", "currentColor");
      line.setAttribute("stroke-width", "1.5");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      el.appendChild(line);
    }
    line.setAttribute("points", points);
  };
  const remember = (list, value) => {
    list.push(value);
    if (list.length > HISTORY) list.shift();
  };

  const apply = (s) => {
    for (const f of s.figures) if (f.id !== "rate") place(f.id, f.value, f.detail);
    const seconds = (s.time - last.time) / 1000;
    if (seconds > 0) {
      const rate = Math.max(0, s.stats.sequence - last.sequence) / seconds;
      const compaction = Math.max(0, s.stats.compactions.bytesWritten - last.compacted) / seconds;
      remember(history.rate, rate);
      remember(history.compactionRate, compaction);
      place("rate", perSecond(rate), "compactions write " + bytesPerSecond(compaction));
      spark("rate", history.rate);
      spark("compactions", history.compactionRate);
    }
    last = { time: s.time, sequence: s.stats.sequence, compacted: s.stats.compactions.bytesWritten };
    if (s.picture !== undefined) {
      // Server-rendered and escaped there: the same markup as the first view.
      picture.innerHTML = s.picture;
      files.innerHTML = s.files;
      version = s.version;
    }
    body.dataset.version = version;
    body.dataset.sequence = String(s.stats.sequence);
    live.textContent = "live · " + new Date(s.time).toLocaleTimeString();
  };

  const poll = async () => {
    try {
      const res = await fetch("/inspector/stats?version=" + encodeURIComponent(version), {
        cache: "no-store",
        credentials: "same-origin",
      });
      if (res.status === 401) {
        live.textContent = "signed out: reload to sign in";
        return; // polling again would only fail again
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      apply(await res.json());
    } catch {
      live.textContent = "not reachable; retrying";
    }
    setTimeout(poll, 1000);
  };
  live.textContent = "live";
  setTimeout(poll, 1000);
})();
`;
