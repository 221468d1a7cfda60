// The inspector (lib/server/inspector*.ts), first over plain HTTP: the
// login flow and its cookie, 401s that reveal nothing, escaping of keys and
// values, the key browser's syntax and its cursor pagination, the stats
// JSON and the level picture; then in a real headless Chromium, driven by
// puppeteer-core: log in through the form, read the level picture of a
// database with several levels, browse keys, watch the figures go live
// after writes, and save the screenshot docs/inspector.png.

// Pinned inline: deno.json stays free of dependencies, which only tests and
// benchmarks have.
// deno-lint-ignore-file no-import-prefix

import assert from "node:assert/strict";
import puppeteer, { type Browser } from "npm:puppeteer-core@25.16.0";
import { DB, openKv } from "../../mod.ts";
import type { Kv } from "../../lib/kv/kv.ts";
import { coreOf } from "../../lib/kv/kv.ts";
import { inspector } from "../../lib/server/inspector.ts";
import {
  parsePrefix,
  PrefixSyntaxError,
  printKey,
} from "../../lib/server/inspector_keys.ts";
import { serve, type Server, TOKEN_COOKIE } from "../../lib/server/server.ts";

const TOKEN = "inspector-token-" + crypto.randomUUID();
// Debian's Chromium (.ci/run installs it); STRATA_CHROMIUM names another.
const CHROMIUM = Deno.env.get("STRATA_CHROMIUM") || "/usr/bin/chromium";

/** A served database and helpers to talk to it. */
interface Served {
  kv: Kv;
  server: Server;
  base: string;
  [Symbol.asyncDispose](): Promise<void>;
}

function served(kv: Kv): Served {
  const server = serve(kv, { port: 0, accessToken: TOKEN, inspector });
  return {
    kv,
    server,
    base: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      kv.close();
      await kv.closed();
    },
  };
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** One request, its body read whole (so no resource is left open). */
async function request(
  s: Served,
  path: string,
  init: RequestInit = {},
): Promise<Answer> {
  const res = await fetch(s.base + path, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function loginForm(token: string): RequestInit {
  return { method: "POST", body: new URLSearchParams({ token }) };
}

/** Signs in through the form; returns the `cookie` header to send. */
async function signIn(s: Served): Promise<string> {
  const res = await request(s, "/login", loginForm(TOKEN));
  assert.equal(res.status, 303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

function unescapeHtml(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) =>
      ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]!,
  );
}

/** The printed keys of the key browser's table, in order. */
function tableKeys(html: string): string[] {
  const re = /title="List the keys under this one"><code>(.*?)<\/code>/g;
  return [...html.matchAll(re)].map((m) => unescapeHtml(m[1]!));
}

function nextLink(html: string): string | undefined {
  const m = /<a href="([^"]+)" rel="next">/.exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

// ------------------------------------------------------------ plain HTTP

Deno.test("inspector: signed out, GET / is the login form and names nothing", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["secret-key"], "secret-value");
  await using s = served(kv);
  const res = await request(s, "/");
  assert.equal(res.status, 200);
  assert.match(res.body, /<form method="post" action="\/login">/);
  assert.match(res.body, /type="password" id="token" name="token"/);
  for (const hidden of ["secret-key", "secret-value", ":memory:", TOKEN]) {
    assert(!res.body.includes(hidden), `the login page shows ${hidden}`);
  }
  // The policy's nonce is the page's, and nothing else may run.
  const csp = res.headers.get("content-security-policy")!;
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
  assert(res.body.includes(`<style nonce="${nonce}">`));
  assert.match(csp, /default-src 'none'/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  // GET /login is the same form.
  const form = await request(s, "/login");
  assert.equal(form.status, 200);
  assert.match(form.body, /action="\/login"/);
});

Deno.test("inspector: a wrong token is 401 with the form again, and no cookie", async () => {
  await using s = served(await openKv(":memory:"));
  const wrongs: RequestInit[] = [
    loginForm("wrong"),
    loginForm(""),
    loginForm(TOKEN + "x"),
    loginForm(TOKEN.slice(0, -1)),
    { method: "POST", body: "" },
    { method: "POST", body: "tokens=" + TOKEN },
    { method: "POST", body: "token=" + "a".repeat(20_000) }, // over the limit
  ];
  const bodies = new Set<string>();
  for (const init of wrongs) {
    const res = await request(s, "/login", init);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.match(res.body, /That is not the access token/);
    assert.match(res.body, /action="\/login"/);
    // Only the nonce differs between answers: none tells more than another.
    bodies.add(res.body.replace(/nonce="[^"]+"/g, ""));
  }
  assert.equal(bodies.size, 1);
});

Deno.test("inspector: the right token sets an HttpOnly, SameSite=Strict cookie and redirects to /", async () => {
  await using s = served(await openKv(":memory:"));
  const res = await request(s, "/login", loginForm(TOKEN));
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/");
  const cookie = res.headers.get("set-cookie")!;
  assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=${TOKEN};`));
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.match(cookie, /; Path=\//);
  const sent = cookie.split(";")[0]!;
  const page = await request(s, "/", { headers: { cookie: sent } });
  assert.equal(page.status, 200);
  assert.match(page.body, /<span class="path">:memory:<\/span>/);
  // Signed in, /login goes to the page; a bearer token works as well.
  const again = await request(s, "/login", { headers: { cookie: sent } });
  assert.equal(again.status, 303);
  const bearer = await request(s, "/", {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.match(bearer.body, /<span class="path">/);
});

Deno.test("inspector: a token with cookie-unsafe characters survives the cookie", async () => {
  const token = 'a b;c=d%e+f,"g"é';
  const kv = await openKv(":memory:");
  const server = serve(kv, { port: 0, accessToken: token, inspector });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const login = await fetch(base + "/login", {
      ...loginForm(token),
      redirect: "manual",
    });
    await login.body?.cancel();
    assert.equal(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    assert.match(cookie, /^strata_token=[A-Za-z0-9%._~!*'()-]+$/);
    const res = await fetch(base + "/inspector/stats", { headers: { cookie } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await server.shutdown();
    kv.close();
    await kv.closed();
  }
});

Deno.test("inspector: /inspector/* without the token is 401, whatever the path", async () => {
  await using s = served(await openKv(":memory:"));
  const cases: [string, RequestInit][] = [
    ["/inspector/stats", {}],
    ["/inspector/no-such-thing", {}],
    ["/inspector/logout", { method: "POST" }],
    ["/inspector/stats", { headers: { cookie: `${TOKEN_COOKIE}=wrong` } }],
    ["/inspector/stats", { headers: { authorization: "Bearer wrong" } }],
  ];
  for (const [path, init] of cases) {
    const res = await request(s, path, init);
    assert.equal(res.status, 401, path);
    assert(!res.body.includes("stats"), "a 401 names nothing");
  }
  // Signed in, an unknown path is 404 and a wrong method 405.
  const cookie = await signIn(s);
  const missing = await request(s, "/inspector/no-such-thing", {
    headers: { cookie },
  });
  assert.equal(missing.status, 404);
  const method = await request(s, "/inspector/stats", {
    method: "POST",
    headers: { cookie },
  });
  assert.equal(method.status, 405);
});

Deno.test("inspector: a stale cookie gets the form, a note and the cookie cleared; logout clears it", async () => {
  await using s = served(await openKv(":memory:"));
  const stale = await request(s, "/", {
    headers: { cookie: `${TOKEN_COOKIE}=old-token` },
  });
  assert.equal(stale.status, 200);
  assert.match(stale.body, /no longer accepted/);
  assert.match(stale.headers.get("set-cookie")!, /Max-Age=0/);
  // A cookie that is not percent-encoding is no cookie: never a 500.
  for (const path of ["/", "/inspector/stats"]) {
    const garbled = await request(s, path, {
      headers: { cookie: `${TOKEN_COOKIE}=%E0%A4%A` },
    });
    assert.equal(garbled.status, path === "/" ? 200 : 401, path);
  }
  const cookie = await signIn(s);
  const out = await request(s, "/inspector/logout", {
    method: "POST",
    headers: { cookie },
  });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get("location"), "/");
  assert.match(
    out.headers.get("set-cookie")!,
    new RegExp(`^${TOKEN_COOKIE}=; .*Max-Age=0`),
  );
});

Deno.test("inspector: keys, values and the typed prefix are escaped", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["<script>alert(1)</script>"], "<script>alert(2)</script>");
  await kv.set(["a\"b'c&d", "<img src=x onerror=alert(3)>"], {
    html: "</td></tr><script>alert(4)</script>",
  });
  await using s = served(kv);
  const cookie = await signIn(s);
  const page = await request(s, "/", { headers: { cookie } });
  assert.equal(page.status, 200);
  // One script element: the page's own, under the nonce.
  assert.equal(page.body.match(/<script/g)?.length, 1);
  assert.match(page.body, /<script nonce="[^"]+">/);
  assert(!page.body.includes("<img"));
  assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(page.body, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  assert.match(page.body, /&lt;img src=x onerror=alert\(3\)&gt;/);
  assert.deepEqual(tableKeys(page.body), [
    `[ "<script>alert(1)</script>" ]`,
    `[ \`a"b'c&d\`, "<img src=x onerror=alert(3)>" ]`,
  ]);
  // A refused prefix is shown back escaped, in the input and the message.
  const evil = `["<svg onload=alert(5)>"`;
  const refused = await request(
    s,
    "/?prefix=" + encodeURIComponent(evil),
    { headers: { cookie } },
  );
  assert.equal(refused.status, 400);
  assert(!refused.body.includes("<svg onload"));
  assert.match(
    refused.body,
    /value="\[&quot;&lt;svg onload=alert\(5\)&gt;&quot;"/,
  );
  assert.match(
    refused.body,
    /class="error" role="alert">Invalid prefix: expected/,
  );
});

Deno.test("inspector: the prefix syntax reads what Deno prints, and nothing else", () => {
  const keys: Deno.KvKey[] = [
    [],
    ["users", 1n],
    ['a"b', "it's", "a'\"b", "tab\there", "nul\0", "é😀", ""],
    [-0, 0, 1.5, -1e-7, 1e300, NaN, Infinity, -Infinity],
    [-(2n ** 70n), 2n ** 64n, 0n],
    [true, false],
    [new Uint8Array([]), new Uint8Array([0, 1, 255])],
  ];
  for (const key of keys) {
    assert.deepEqual(parsePrefix(printKey(key)), key, printKey(key));
  }
  // JSON arrays of strings, numbers and booleans are a subset.
  assert.deepEqual(parsePrefix(`["users",12,true]`), ["users", 12, true]);
  assert.deepEqual(parsePrefix(`  [ "x", ]  `), ["x"]);
  assert.deepEqual(parsePrefix(`["\\u{1F600}\\x41\\u0042"]`), ["😀AB"]);
  assert.deepEqual(parsePrefix(`[Uint8Array [ 9 ]]`), [new Uint8Array([9])]);
  assert.deepEqual(parsePrefix(""), []);
  const refused = [
    `"users"`,
    `[users]`,
    `[alert(1)]`,
    `["a" "b"]`,
    `["a"`,
    `["a"]]`,
    `[1.5n]`,
    `["\\q"]`,
    `[Uint8Array(3) [ 1, 2 ]]`,
    `[Uint8Array [ 256 ]]`,
    `[{}]`,
    `[null]`,
    `[undefined]`,
    "[" + '"x",'.repeat(5000) + "]",
  ];
  for (const text of refused) {
    assert.throws(() => parsePrefix(text), PrefixSyntaxError, text);
  }
  assert.throws(
    () => parsePrefix(`["a" 1]`),
    /^PrefixSyntaxError: Invalid prefix: expected "," or "]" at character 6, found "1]"$/,
  );
});

Deno.test("inspector: the key browser pages through a prefix with its cursors", async () => {
  const kv = await openKv(":memory:");
  for (let i = 0; i < 23; i++) await kv.set(["n", i], { i });
  await kv.set(["m"], "before");
  await kv.set(["o"], "after");
  await using s = served(kv);
  const cookie = await signIn(s);
  const seen: string[] = [];
  const pages: number[] = [];
  let path: string | undefined = "/?prefix=" +
    encodeURIComponent(`[ "n" ]`) + "&limit=10";
  while (path) {
    const page = await request(s, path, { headers: { cookie } });
    assert.equal(page.status, 200);
    const keys = tableKeys(page.body);
    seen.push(...keys);
    pages.push(keys.length);
    assert.match(
      page.body,
      new RegExp(`Page ${pages.length}, ${keys.length} entr`),
    );
    path = nextLink(page.body);
  }
  assert.deepEqual(pages, [10, 10, 3]);
  assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => `[ "n", ${i} ]`));
  // The first page of everything, and a page size that is not offered.
  const all = await request(s, "/?limit=7", { headers: { cookie } });
  assert.deepEqual(tableKeys(all.body).slice(0, 2), [`[ "m" ]`, `[ "n", 0 ]`]);
  assert.equal(tableKeys(all.body).length, 25); // 7 is not offered: 50
  // A cursor that is not one: 400 and a message, no stack trace.
  const bad = await request(s, "/?prefix=%5B%22n%22%5D&cursor=!!!", {
    headers: { cookie },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Cannot list these keys: invalid cursor/);
  assert(!/\bat .*\.ts:\d+/.test(bad.body), "no stack trace");
});

Deno.test("inspector: GET /inspector/stats is the figures as JSON, the picture only when it changed", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["k", -1], "reserves the first block of versionstamps");
  await using s = served(kv);
  const cookie = await signIn(s);
  const stats = async (version?: string) => {
    const q = version ? `?version=${version}` : "";
    const res = await request(s, "/inspector/stats" + q, {
      headers: { cookie },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    return JSON.parse(res.body);
  };
  const first = await stats();
  assert.equal(first.path, ":memory:");
  assert.equal(first.stats.levels.length, 7);
  assert.match(first.picture, /^<svg/);
  assert.equal(first.tables.length, 7);
  const ids = first.figures.map((f: { id: string }) => f.id);
  for (
    const id of [
      "rate",
      "sequence",
      "disk",
      "memtable",
      "wal",
      "walSyncs",
      "compactions",
      "amplification",
      "cache",
    ]
  ) assert(ids.includes(id), id);
  for (let i = 0; i < 5; i++) await kv.set(["k", i], i);
  const same = await stats(first.version);
  assert.equal(same.picture, undefined); // no file changed
  assert.equal(same.stats.sequence, first.stats.sequence + 5);
  await coreOf(kv).db.flush();
  const flushed = await stats(first.version);
  assert.notEqual(flushed.version, first.version);
  assert.equal(flushed.tables[0].length, 1);
  assert.equal(flushed.tables[0][0].largest, `[ "k", 4 ]`);
  assert.equal(flushed.picture.match(/class="file"/g).length, 1);
});

/**
 * A database with files on several levels, holding KV data: written
 * through openKv in rounds, each flushed and compacted by the engine
 * opened with small memtables (which openKv does not offer).
 */
async function leveledDatabase(dir: string): Promise<number> {
  let n = 0;
  for (let round = 0; round < 3; round++) {
    const kv = await openKv(dir);
    for (let batch = 0; batch < 15; batch++) {
      const atomic = kv.atomic();
      for (let i = 0; i < 100; i++, n++) {
        atomic.set(["users", BigInt(n)], {
          name: `user ${n}`,
          bio: "x".repeat(150),
        });
      }
      await atomic.commit();
    }
    await kv.set(["orders", round], { total: round * 10 });
    kv.close();
    await kv.closed();
    // flushOnClose: false, or close would merge level 0 into level 1.
    const db = await DB.open(dir, {
      memtableSize: 64 * 1024,
      l0CompactionTrigger: 2,
      flushOnClose: false,
    });
    await db.flush();
    await db.waitForBackgroundWork();
    await db.close();
  }
  return n;
}

Deno.test("inspector: the level picture has a box for every file, on its level", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_inspector_" });
  try {
    await leveledDatabase(dir);
    await using s = served(await openKv(dir));
    const cookie = await signIn(s);
    const page = await request(s, "/", { headers: { cookie } });
    const drawn = [...page.body.matchAll(
      /<g class="file" data-level="(\d)" data-file="(\d+)">/g,
    )].map((m) => `${m[1]}:${m[2]}`).sort();
    const files = coreOf(s.kv).db.levelFiles();
    const expected = files.flatMap((level, l) =>
      level.map((f) => `${l}:${f.number}`)
    ).sort();
    assert.deepEqual(drawn, expected);
    assert(files.filter((l) => l.length > 0).length >= 2, "several levels");
    // The picture's labels are decoded keys, and the file table has them whole.
    assert.match(page.body, /\[ &quot;users&quot;, \d+n \]/);
    assert.match(
      page.body,
      /<td><code>\[ &quot;users&quot;, \d+n \]<\/code><\/td>/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ------------------------------------------------------ a real browser

// The page's globals, as far as the functions run in the page use them
// (tests are type-checked without the DOM library).
interface PageElement {
  textContent: string | null;
}
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): PageElement | null;
  querySelector(selectors: string): PageElement | null;
  querySelectorAll(selectors: string): { length: number };
};

const chromiumMissing = await Deno.stat(CHROMIUM).then(
  () => undefined,
  (err: Error) => `${CHROMIUM}: ${err.message}`,
);

async function launch(userDataDir: string): Promise<Browser> {
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    // No network here: these keep Chromium from waiting on it.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${userDataDir}`,
    ],
    timeout: 60_000,
  });
}

if (chromiumMissing !== undefined) {
  Deno.test({
    name:
      `inspector in Chromium (skipped: chromium is not installed: ${chromiumMissing})`,
    ignore: true,
    fn() {},
  });
} else {
  Deno.test({
    name:
      "inspector in Chromium: sign in, level picture, key browser, live figures, screenshot",
    // puppeteer keeps a socket and the browser process between steps.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "strata_inspector_" });
      const userDataDir = await Deno.makeTempDir({
        prefix: "strata_chromium_",
      });
      let browser: Browser | undefined;
      try {
        const users = await leveledDatabase(dir);
        const kv = await openKv(dir);
        // Hostile data: if the page ran it, these would set the flag.
        await kv.set(["<img src=x onerror=window.__pwned=1>"], "x");
        await kv.set(["xss"], "<script>window.__pwned=2</script>");
        await using s = served(kv);
        browser = await launch(userDataDir);
        const page = await browser.newPage();
        page.setDefaultTimeout(20_000);
        await page.setViewport({ width: 1280, height: 800 });
        const problems: string[] = [];
        page.on("pageerror", (err) => problems.push(String(err)));
        page.on("console", (m) => {
          if (/Refused|Content Security Policy/i.test(m.text())) {
            problems.push(m.text());
          }
        });

        // Sign in through the form.
        await page.goto(s.base + "/");
        await page.type("#token", TOKEN);
        await Promise.all([
          page.waitForNavigation(),
          page.click("button[type=submit]"),
        ]);
        assert.equal(new URL(page.url()).pathname, "/");
        assert.equal(
          await page.$eval("header .path", (e) => e.textContent),
          dir,
        );

        // The picture shows every file of the database, on its level.
        const files = coreOf(kv).db.levelFiles();
        const drawn = await page.$$eval(
          "#picture g.file",
          (gs) => gs.map((g) => g.getAttribute("data-level")),
        );
        assert.deepEqual(
          drawn.map(Number),
          files.flatMap((level, l) => level.map(() => l)),
        );
        assert(files.filter((l) => l.length > 0).length >= 2);

        // The key browser lists what the database holds.
        const firstKeys = await page.$$eval(
          "table.entries tbody tr td:first-child code",
          (cs) => cs.map((c) => c.textContent),
        );
        assert.equal(
          firstKeys[0],
          `[ "<img src=x onerror=window.__pwned=1>" ]`,
        );
        assert(firstKeys.includes(`[ "orders", 0 ]`));
        await page.$eval("#prefix", (e) => {
          (e as unknown as { value: string }).value = "";
        });
        await page.type("#prefix", `[ "users" ]`);
        await Promise.all([
          page.waitForNavigation(),
          page.click("form.browse button"),
        ]);
        const userKeys = await page.$$eval(
          "table.entries tbody tr td:first-child code",
          (cs) => cs.map((c) => c.textContent),
        );
        assert.deepEqual(
          userKeys,
          Array.from({ length: 50 }, (_, i) => `[ "users", ${i}n ]`),
        );
        await Promise.all([
          page.waitForNavigation(),
          page.click("a[rel=next]"),
        ]);
        assert.equal(
          await page.$eval(
            "table.entries tbody tr td:first-child code",
            (c) => c.textContent,
          ),
          `[ "users", 50n ]`,
        );
        const flag = await page.evaluate(() =>
          (globalThis as { __pwned?: number }).__pwned
        );
        assert.equal(flag, undefined);

        // Live: writes show in the figures and the rate; a flush redraws.
        const figure = (id: string) =>
          page.$eval(
            `[data-figure="${id}"] .value`,
            (e) => e.textContent ?? "",
          );
        await page.waitForFunction(
          () =>
            document.getElementById("live")?.textContent?.startsWith("live ·"),
        );
        const before = await figure("sequence");
        for (let i = 0; i < 200; i++) {
          await kv.set(["live", i], { i, at: Date.now() });
        }
        const sequence = coreOf(kv).db.stats().sequence.toLocaleString("en-US");
        await page.waitForFunction(
          (want) =>
            document.querySelector('[data-figure="sequence"] .value')
              ?.textContent === want,
          {},
          sequence,
        );
        assert.notEqual(before, sequence);
        await page.waitForFunction(() => {
          const rate = document.querySelector('[data-figure="rate"] .value')
            ?.textContent;
          return typeof rate === "string" && rate !== "—" &&
            Number(rate.replaceAll(",", "")) > 0;
        }, { polling: 100 });
        const shape = await page.evaluate(() => document.body.dataset.version);
        await coreOf(kv).db.flush();
        await coreOf(kv).db.waitForBackgroundWork();
        await page.waitForFunction(
          (old, n) =>
            document.body.dataset.version !== old &&
            document.querySelectorAll("#picture g.file").length === n,
          {},
          shape,
          coreOf(kv).db.levelFiles().flat().length,
        );

        // The screenshot for the README: a fresh page, live for a while.
        await page.goto(s.base + "/?prefix=" + encodeURIComponent(`["users"]`));
        for (let i = 0; i < 6; i++) {
          await kv.set(["users", BigInt(users + i)], { name: `late ${i}` });
          await new Promise((r) => setTimeout(r, 500));
        }
        await page.waitForFunction(
          () =>
            document.querySelector('[data-figure="rate"] svg polyline') !==
              null,
        );
        // The README's docs/inspector.png is rewritten only when asked
        // (STRATA_UPDATE_SCREENSHOT=1), so a test run leaves the checkout
        // clean; otherwise the shot goes to the temporary directory.
        const update = Deno.env.get("STRATA_UPDATE_SCREENSHOT") === "1";
        const shot = update
          ? new URL("../../docs/inspector.png", import.meta.url).pathname
          : `${dir}/inspector.png`;
        await page.screenshot({ path: shot });
        const png = await Deno.readFile(shot);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
        assert(png.length > 10_000, `screenshot of ${png.length} bytes`);
        assert.deepEqual(problems, []);
        await browser.close(); // before the server stops under its polls
        browser = undefined;
      } finally {
        await browser?.close();
        await Deno.remove(userDataDir, { recursive: true });
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
