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
 * finish; the caller then closes the database.
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
  /** Stops accepting, ends watches, waits for the requests in flight. */
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
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

/** Reads a body up to `max` bytes; 413 beyond. */
async function readBody(request: Request, max: number): Promise<Uint8Array> {
  const length = Number(request.headers.get("content-length") ?? "NaN");
  if (length > max) throw new ClientError(413, `body over ${max} bytes`);
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > max) throw new ClientError(413, `body over ${max} bytes`);
    chunks.push(chunk);
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
        return new Response(connect.snapshotRead(body) as BodyBytes, {
          headers: protobuf,
        });
      }
      if (route === "atomic_write") {
        return new Response(await connect.atomicWrite(body) as BodyBytes, {
          headers: protobuf,
        });
      }
      const { stream, end } = connect.watch(body);
      watches.add(end);
      return new Response(stream, {
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
    }
  });

  let stopping: Promise<void> | undefined;
  return {
    addr: server.addr as Deno.NetAddr,
    accessToken,
    finished: server.finished,
    shutdown(): Promise<void> {
      stopping ??= (async () => {
        // Long-lived watch streams end first, or shutdown would wait on them.
        for (const end of watches) end();
        watches.clear();
        await server.shutdown();
      })();
      return stopping;
    },
  };
}
