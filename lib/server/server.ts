/**
 * `serve`: one Strata database shared over HTTP, by KV Connect clients
 * (`Deno.openKv("http://…")`, `npm:@deno/kv`) and by people, through the
 * inspector page. Built on `Deno.serve`.
 *
 * Routes:
 *
 * | method, path                  | what                                        |
 * | ----------------------------- | ------------------------------------------- |
 * | `POST /`                      | KV Connect metadata exchange (JSON)         |
 * | `POST /v2/snapshot_read`      | reads (protobuf)                            |
 * | `POST /v2/atomic_write`       | atomic writes (protobuf)                    |
 * | `POST /v2/watch`              | watches, streamed (protobuf frames)         |
 * | `GET /`, `/inspector/…`       | the inspector (lib/server/inspector.ts)     |
 *
 * Safety: every request needs the access token, compared in constant time
 * (a bearer token, or for the inspector a cookie set by its login form); a
 * bad one is 401. A malformed body is 400 with a one-line reason, a body
 * over the limit 413, an unknown path 404; none of them touches the
 * database, and no stack trace is ever printed for a client's mistake.
 * `shutdown()` stops accepting, ends watches, lets the requests in flight
 * finish (a client that stalls halfway through its request gets a grace
 * period, not forever); the caller then closes the database.
 *
 * @module
 */

import type { Kv } from "../kv/kv.ts";
import { coreOf } from "../kv/kv.ts";
import { InvalidArgumentError } from "../util/errors.ts";
import { tokenMatches } from "./auth.ts";
import { ClientError, KvConnect } from "./kv_connect.ts";
import { ProtobufDecodeError } from "./datapath_codec.ts";

/** Options of {@link serve}. */
export interface ServeOptions {
  /** The address to listen on [127.0.0.1]. */
  hostname?: string;
  /** The port [4512]; 0 picks a free one. */
  port?: number;
  /**
   * The access token every client sends. Required for a non-loopback
   * hostname; on loopback a random one is made when none is given.
   */
  accessToken?: string;
  /** Largest request body, in bytes [64 MiB]. */
  maxBodyBytes?: number;
  /**
   * How long `shutdown()` waits for requests in flight, in milliseconds
   * [5000]; new requests meanwhile are answered 503. A client still
   * sending its request after that (a stalled body) would otherwise hold
   * the server open for as long as it likes: past the grace period, such
   * requests are cut off and never touch the database, and `shutdown()`
   * returns once the database work in flight has finished.
   */
  shutdownGraceMs?: number;
  /**
   * Serves the inspector's routes (`GET /`, `/inspector/…`) once the
   * request is authenticated; the server answers 404 without one.
   */
  inspector?: InspectorHandler;
  /** Called once listening, with the address (default: silent). */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** What the inspector gets to answer a request with. */
export interface InspectorContext {
  /** The served database's handle. */
  kv: Kv;
  /** Whether the request carries the token (bearer or cookie). */
  authenticated: boolean;
  /** The token, to check a login form against. */
  checkToken: (presented: string) => boolean;
}

/** Answers the inspector's routes. */
export type InspectorHandler = (
  request: Request,
  url: URL,
  context: InspectorContext,
) => Response | Promise<Response>;

/** A running server. */
export interface Server {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** The access token clients must send. */
  readonly accessToken: string;
  /**
   * Stops accepting, ends watches, waits for the requests in flight (for
   * at most the grace period, then only for those already at the
   * database).
   */
  shutdown(): Promise<void>;
  /** Resolves once the server has stopped. */
  readonly finished: Promise<void>;
}

/** Bytes as `Response` takes them (our codec's output is one). */
type BodyBytes = Uint8Array<ArrayBuffer>;

/** The cookie the inspector's login form sets. */
export const TOKEN_COOKIE = "strata_token";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

/**
 * Whether a hostname only ever accepts connections from this machine.
 *
 * @param hostname The listening address.
 * @returns True for loopback addresses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./server.ts";
 * assert(isLoopback("127.0.0.1"));
 * assert(!isLoopback("0.0.0.0"));
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function text(status: number, message: string): Response {
  return new Response(message + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function bearer(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  const m = header && /^Bearer\s+(.+)$/i.exec(header);
  return m ? m[1]!.trim() : undefined;
}

function cookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join("="));
    } catch {
      // A cookie that is not valid percent-encoding was not set by us:
      // the same as no cookie (a 401 and the login form), never a 500.
      return undefined;
    }
  }
  return undefined;
}

/** Reads a body up to `max` bytes; 413 beyond. */
async function readBody(request: Request, max: number): Promise<Uint8Array> {
  const length = Number(request.headers.get("content-length") ?? "NaN");
  if (length > max) throw new ClientError(413, `body over ${max} bytes`);
  if (!request.body) return new Uint8Array(0);
  if (length >= 0) {
    // Announced and within the limit (the HTTP layer holds the client to
    // it): one read of the whole body, without a stream and its reader,
    // which cost more than the rest of a small request's handling.
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch {
      throw new ClientError(400, "the request body was cut off");
    }
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > max) throw new ClientError(413, `body over ${max} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ClientError) throw err;
    // The client went away mid-body (or Deno.serve cut it off as it shut
    // down): not "the database is closed", which BadResource would say.
    throw new ClientError(400, "the request body was cut off");
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Serves `kv` over HTTP: KV Connect for clients, and the inspector when
 * one is given.
 *
 * @param kv An open Strata `Kv` (from `openKv`); the caller closes it after
 * `shutdown()`.
 * @param options Address, token, limits, inspector.
 * @returns The running server.
 * @throws {InvalidArgumentError} A non-loopback hostname without a token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKv } from "../kv/open_kv.ts";
 * import { serve } from "./server.ts";
 * await using kv = await openKv(":memory:");
 * const server = serve(kv, { port: 0, accessToken: "secret" });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
 *   method: "POST",
 *   headers: { authorization: "Bearer secret", "content-type": "application/json" },
 *   body: JSON.stringify({ supportedVersions: [1, 2, 3] }),
 * });
 * assert.equal((await res.json()).version, 3);
 * await server.shutdown();
 * ```
 */
export function serve(kv: Kv, options: ServeOptions = {}): Server {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 4512;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const graceMs = options.shutdownGraceMs ?? 5000;
  if (!(graceMs >= 0)) {
    throw new InvalidArgumentError(
      `Invalid shutdownGraceMs ${graceMs}: expected a number of milliseconds`,
    );
  }
  if (options.accessToken !== undefined && options.accessToken.length < 1) {
    throw new InvalidArgumentError("Invalid access token: it is empty");
  }
  if (!isLoopback(hostname) && options.accessToken === undefined) {
    throw new InvalidArgumentError(
      `Refusing to serve on "${hostname}" without an access token: anyone who can reach it could read and write the database (pass --access-token or set STRATA_ACCESS_TOKEN)`,
    );
  }
  const accessToken = options.accessToken ??
    crypto.randomUUID().replaceAll("-", "");
  const core = coreOf(kv);
  const connect = new KvConnect(core, accessToken);
  const watches = new Set<() => void>();
  /** Shutdown has begun: new requests are turned away. */
  let stopping = false;
  /** Requests being handled, and who waits for there to be none. */
  let active = 0;
  let quiet: (() => void) | undefined;
  /** The grace period is over: no request starts database work. */
  let refusing = false;
  /** Requests at the database now, and who waits for there to be none. */
  let busy = 0;
  let idle: (() => void) | undefined;
  const atDatabase = async <T>(work: () => T | Promise<T>): Promise<T> => {
    if (refusing) throw new ClientError(503, "the server is stopping");
    busy++;
    try {
      return await work();
    } finally {
      if (--busy === 0) idle?.();
    }
  };
  const checkToken = (presented: string | undefined) =>
    presented !== undefined && tokenMatches(presented, accessToken);

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    const authorized = checkToken(bearer(request));
    if (request.method === "POST" && path === "/") {
      if (!authorized) return text(401, "invalid or missing access token");
      let json: unknown;
      try {
        json = JSON.parse(
          new TextDecoder().decode(await readBody(request, 1 << 16)),
        );
      } catch (err) {
        if (err instanceof ClientError) throw err;
        throw new ClientError(400, "metadata request is not JSON");
      }
      return new Response(JSON.stringify(connect.metadata(json)), {
        headers: { "content-type": "application/json" },
      });
    }
    if (path.startsWith("/v2/")) {
      if (request.method !== "POST") return text(405, "use POST");
      if (!authorized) return text(401, "invalid or missing access token");
      const route = path.slice(4);
      if (
        route !== "snapshot_read" && route !== "atomic_write" &&
        route !== "watch"
      ) {
        return text(404, `no such endpoint: ${path}`);
      }
      const body = await readBody(request, maxBodyBytes);
      const protobuf = { "content-type": "application/x-protobuf" };
      if (route === "snapshot_read") {
        const out = await atDatabase(() => connect.snapshotRead(body));
        return new Response(out as BodyBytes, { headers: protobuf });
      }
      if (route === "atomic_write") {
        const out = await atDatabase(() => connect.atomicWrite(body));
        return new Response(out as BodyBytes, { headers: protobuf });
      }
      // Each watch leaves the set when it ends (a client that goes away
      // cancels its stream), so a long-running server keeps none it no
      // longer serves.
      const watch = connect.watch(body, () => watches.delete(watch.end));
      watches.add(watch.end);
      return new Response(watch.stream, {
        headers: { "content-type": "application/octet-stream" },
      });
    }
    if (
      options.inspector &&
      (request.method === "GET" || request.method === "POST") &&
      (path === "/" || path === "/login" || path.startsWith("/inspector"))
    ) {
      return await options.inspector(request, url, {
        kv,
        authenticated: authorized || checkToken(cookie(request, TOKEN_COOKIE)),
        checkToken: (t) => checkToken(t),
      });
    }
    return text(404, `not found: ${request.method} ${path}`);
  };

  const server = Deno.serve({
    hostname,
    port,
    onListen: (addr) => options.onListen?.(addr as Deno.NetAddr),
    onError: (err) => {
      // A database failure: the client sees a 500 and a one-line reason.
      const message = err instanceof Error ? err.message : String(err);
      return text(500, message.split("\n")[0]!.replace(/^strata: /, ""));
    },
  }, async (request) => {
    if (stopping) return text(503, "the server is stopping");
    active++;
    try {
      return await handle(request);
    } catch (err) {
      if (err instanceof ClientError) return text(err.status, err.message);
      if (err instanceof ProtobufDecodeError) {
        return text(400, err.message.replace(/^strata: /, ""));
      }
      if (err instanceof Deno.errors.BadResource) {
        return text(503, "the database is closed");
      }
      throw err; // onError answers 500
    } finally {
      if (--active === 0) quiet?.();
    }
  });

  let shutdown: Promise<void> | undefined;
  let forced: () => void;
  const finished = Promise.race([
    server.finished,
    new Promise<void>((resolve) => forced = resolve),
  ]);
  return {
    addr: server.addr as Deno.NetAddr,
    accessToken,
    finished,
    shutdown(): Promise<void> {
      shutdown ??= (async () => {
        stopping = true;
        // Long-lived watch streams end first, or shutdown would wait on them.
        for (const end of watches) end();
        watches.clear();
        const end = Date.now() + graceMs;
        /** Whether `p` settles before the grace period is over. */
        const inTime = async (p: Promise<unknown>, atLeast = 0) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const wait = Math.max(atLeast, end - Date.now());
          try {
            return await Promise.race([
              p.then(() => true),
              new Promise<boolean>((r) => timer = setTimeout(r, wait, false)),
            ]);
          } finally {
            clearTimeout(timer);
          }
        };
        // Deno.serve's shutdown cuts off request bodies still arriving, so
        // the requests in flight finish first (new ones are turned away).
        if (active > 0) await inTime(new Promise<void>((r) => quiet = r));
        refusing = true;
        // Now it closes the idle connections at once; a connection still
        // busy past the grace period (a client stalled halfway through its
        // request, or holding a refused body unread) it would wait for
        // forever, and it has no way to drop one. So we stop waiting: once
        // no request is at the database, the caller may close it (the CLI
        // then exits, which drops such connections).
        if (await inTime(server.shutdown(), 500)) return;
        if (busy > 0) await new Promise<void>((r) => idle = r);
        forced();
      })();
      return shutdown;
    },
  };
}
