/**
 * The inspector: a page at `/` for people, showing what the engine holds
 * and does. `serve(kv, { inspector })` (lib/server/server.ts) hands it
 * `GET|POST /`, `/login` and `/inspector/…`.
 *
 * | method, path              | signed out            | signed in                      |
 * | ------------------------- | --------------------- | ------------------------------ |
 * | `GET /`                   | the login form        | the inspector page             |
 * | `GET /login`              | the login form        | 303 to `/`                     |
 * | `POST /login`             | token right: cookie, 303 to `/`; wrong: 401 and the form |
 * | `GET /inspector/stats`    | 401                   | the figures, JSON              |
 * | `POST /inspector/logout`  | 401                   | clears the cookie, 303 to `/`  |
 *
 * The token is entered once; the cookie (`strata_token`, HttpOnly,
 * SameSite=Strict, Path=/) then carries it, and the server checks it on
 * every request, in constant time, as it checks a bearer token. The
 * inspector only reads: no route of it changes the database.
 *
 * `GET /` takes the key browser's query: `prefix` (a key prefix as Deno
 * prints keys, see lib/server/inspector_keys.ts), `limit` (entries per
 * page), `cursor` and `page` (from a "Next page" link).
 *
 * @module
 */

import type { InspectorContext } from "./server.ts";
import { TOKEN_COOKIE } from "./server.ts";
import { makeNonce, securityHeaders } from "./inspector_html.ts";
import {
  type KeyPage,
  listPage,
  parsePrefix,
  PrefixSyntaxError,
} from "./inspector_keys.ts";
import {
  type BrowserView,
  inspectorPage,
  loginPage,
  PAGE_SIZES,
} from "./inspector_page.ts";
import { statsSnapshot } from "./inspector_stats.ts";

/** Largest login form body: a token and its field name, generously. */
const MAX_LOGIN_BYTES = 16 * 1024;
const DEFAULT_PAGE_SIZE = 50;

/**
 * Answers the inspector's routes (see the module's table).
 *
 * @param request The request.
 * @param url Its URL.
 * @param context The database and the request's authentication.
 * @returns The response.
 *
 * @example Sign in, then read the figures
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "../kv/open_kv.ts";
 * import { inspector } from "./inspector.ts";
 * import { serve } from "./server.ts";
 * await using kv = await openKv(":memory:");
 * const server = serve(kv, { port: 0, accessToken: "secret", inspector });
 * const base = `http://127.0.0.1:${server.addr.port}`;
 * const login = await fetch(`${base}/login`, {
 *   method: "POST",
 *   body: new URLSearchParams({ token: "secret" }),
 *   redirect: "manual",
 * });
 * assert.equal(login.status, 303);
 * const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
 * const stats = await fetch(`${base}/inspector/stats`, { headers: { cookie } });
 * assert.equal((await stats.json()).stats.levels.length, 7);
 * await server.shutdown();
 * ```
 */
export async function inspector(
  request: Request,
  url: URL,
  context: InspectorContext,
): Promise<Response> {
  const { pathname } = url;
  const method = request.method;
  if (pathname === "/login") {
    if (method === "POST") return await login(request, context);
    return context.authenticated ? redirect("/") : signedOut(request);
  }
  if (pathname === "/") {
    if (method !== "GET") return plain(405, "use GET");
    return context.authenticated
      ? await page(url, context)
      : signedOut(request);
  }
  // Nothing under /inspector/ is for a request without the token, not even
  // whether a path exists.
  if (!context.authenticated) {
    return plain(401, "invalid or missing access token");
  }
  if (pathname === "/inspector/stats") {
    if (method !== "GET") return plain(405, "use GET");
    const known = url.searchParams.get("version") ?? undefined;
    return new Response(JSON.stringify(statsSnapshot(context.kv, known)), {
      headers: securityHeaders("application/json; charset=utf-8"),
    });
  }
  if (pathname === "/inspector/logout") {
    if (method !== "POST") return plain(405, "use POST");
    return redirect("/", cookieHeader("", 0));
  }
  return plain(404, `not found: ${pathname}`);
}

function plain(status: number, message: string): Response {
  return new Response(message + "\n", {
    status,
    headers: securityHeaders("text/plain; charset=utf-8"),
  });
}

function html(status: number, render: (nonce: string) => string): Response {
  const nonce = makeNonce();
  return new Response(render(nonce), {
    status,
    headers: securityHeaders("text/html; charset=utf-8", nonce),
  });
}

function redirect(location: string, setCookie?: string): Response {
  const headers = securityHeaders("text/plain; charset=utf-8");
  headers.set("location", location);
  if (setCookie !== undefined) headers.set("set-cookie", setCookie);
  return new Response(null, { status: 303, headers });
}

/**
 * The cookie that carries the token. HttpOnly keeps it from scripts;
 * SameSite=Strict keeps other sites' pages from sending it. No `Secure`:
 * the server speaks plain HTTP (on loopback, by default).
 */
function cookieHeader(token: string, maxAge?: number): string {
  return `${TOKEN_COOKIE}=${
    encodeURIComponent(token)
  }; HttpOnly; SameSite=Strict; Path=/${
    maxAge === undefined ? "" : `; Max-Age=${maxAge}`
  }`;
}

/** The login form; a stale cookie (the token changed) is said so, and dropped. */
function signedOut(request: Request): Response {
  const stale = (request.headers.get("cookie") ?? "")
    .split(";").some((c) => c.trim().startsWith(`${TOKEN_COOKIE}=`));
  const response = html(
    200,
    (nonce) =>
      loginPage(
        nonce,
        stale
          ? "The saved token is no longer accepted: sign in again"
          : undefined,
      ),
  );
  if (stale) response.headers.set("set-cookie", cookieHeader("", 0));
  return response;
}

async function login(
  request: Request,
  context: InspectorContext,
): Promise<Response> {
  const token = await formToken(request);
  if (token === undefined || !context.checkToken(token)) {
    // The same answer for every wrong token: it tells nothing.
    return html(401, (n) => loginPage(n, "That is not the access token"));
  }
  return redirect("/", cookieHeader(token));
}

/** The `token` field of a urlencoded form body, read up to a small limit. */
async function formToken(request: Request): Promise<string | undefined> {
  if (!request.body) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > MAX_LOGIN_BYTES) return undefined;
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  const text = new TextDecoder().decode(bytes);
  return new URLSearchParams(text).get("token") ?? undefined;
}

async function page(url: URL, context: InspectorContext): Promise<Response> {
  const browser = await browse(url, context);
  const snapshot = statsSnapshot(context.kv);
  return html(
    browser.error ? 400 : 200,
    (nonce) => inspectorPage(nonce, snapshot, browser),
  );
}

/** The key browser's query, read and listed; a bad prefix or cursor is said so. */
async function browse(
  url: URL,
  context: InspectorContext,
): Promise<BrowserView> {
  const q = url.searchParams;
  const prefixText = q.get("prefix") ?? "";
  const asked = Number(q.get("limit"));
  const limit = PAGE_SIZES.includes(asked) ? asked : DEFAULT_PAGE_SIZE;
  const pageNumber = Math.max(1, Math.floor(Number(q.get("page")) || 1));
  const cursor = q.get("cursor") || undefined;
  const view: BrowserView = { prefixText, limit, page: pageNumber, rows: [] };
  let result: KeyPage;
  try {
    result = await listPage(context.kv, parsePrefix(prefixText), limit, cursor);
  } catch (err) {
    // The person's input (Deno KV's TypeError and RangeError for bad keys
    // and cursors), said in one line; anything else is the server's.
    if (
      err instanceof PrefixSyntaxError || err instanceof TypeError ||
      err instanceof RangeError
    ) {
      const line = err.message.split("\n")[0]!;
      view.error = err instanceof PrefixSyntaxError
        ? line
        : `Cannot list these keys: ${line}`;
      return view;
    }
    throw err;
  }
  view.rows = result.rows;
  if (result.next !== undefined) view.next = result.next;
  return view;
}
