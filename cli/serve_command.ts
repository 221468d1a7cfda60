/**
 * `strata serve <db>`: shares a database over KV Connect, so that other
 * processes open it with `Deno.openKv("http://…")` or `npm:@deno/kv`, and
 * serves the inspector page at `/`.
 *
 * Least permissions: `--allow-net=HOST:PORT`, `--allow-read=DB,lib` (`lib`
 * lets compaction load its Worker; without it, compaction runs on the main
 * thread), `--allow-write=DB`, and `--allow-env=STRATA_ACCESS_TOKEN` to
 * read the token from the environment.
 *
 * @module
 */

import { openKv } from "../mod.ts";
import { inspector } from "../lib/server/inspector.ts";
import { isLoopback, serve } from "../lib/server/server.ts";
import { type Command, UsageError } from "./command.ts";

function envToken(): string | undefined {
  try {
    return Deno.env.get("STRATA_ACCESS_TOKEN") || undefined;
  } catch {
    return undefined; // no --allow-env: the flag is the only way
  }
}

/** The `serve` command. */
export const serveCommand: Command = {
  name: "serve",
  args: "<db>",
  arity: [1, 1],
  summary: "share the database over KV Connect, with an inspector page",
  description: [
    'Serves the database to Deno.openKv("http://HOST:PORT") and npm:@deno/kv',
    "clients (KV Connect), and the inspector at http://HOST:PORT/. Every",
    "request needs the access token: --access-token, or STRATA_ACCESS_TOKEN;",
    "on loopback without one, a random token is made and printed. A host",
    "that is not loopback needs a token. Clients set DENO_KV_ACCESS_TOKEN.",
    "SIGINT or SIGTERM stops it cleanly: requests in flight finish and the",
    "database is closed.",
  ].join("\n"),
  options: {
    host: {
      type: "string",
      value: "H",
      help: "address to listen on [127.0.0.1]",
    },
    port: { type: "string", value: "N", help: "port [4512]" },
    "access-token": {
      type: "string",
      value: "T",
      help: "the token clients send [STRATA_ACCESS_TOKEN]",
    },
    limits: {
      type: "string",
      value: "L",
      help: "deno (Deno KV's limits, the default) or strata (larger)",
    },
  },
  async run(args) {
    const [path] = args.positionals as [string];
    const hostname = args.strings.get("host") ?? "127.0.0.1";
    const portText = args.strings.get("port") ?? "4512";
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`Invalid --port "${portText}": expected 0 to 65535`);
    }
    const limits = args.strings.get("limits") ?? "deno";
    if (limits !== "deno" && limits !== "strata") {
      throw new UsageError(
        `Invalid --limits "${limits}": expected deno or strata`,
      );
    }
    const accessToken = args.strings.get("access-token") ?? envToken();
    if (accessToken === undefined && !isLoopback(hostname)) {
      throw new UsageError(
        `Refusing to serve on "${hostname}" without an access token (--access-token or STRATA_ACCESS_TOKEN)`,
      );
    }
    const kv = await openKv(path, { limits });
    let server;
    try {
      server = serve(kv, {
        hostname,
        port,
        ...(accessToken !== undefined ? { accessToken } : {}),
        inspector,
      });
    } catch (err) {
      await kv.closed();
      throw err;
    }
    const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
    const url = `http://${shown}:${server.addr.port}`;
    console.error(`strata: serving "${path}" at ${url}`);
    if (accessToken === undefined) {
      console.error(
        `strata: access token (made for this run): ${server.accessToken}`,
      );
    }
    console.error(
      `strata: connect with DENO_KV_ACCESS_TOKEN=… Deno.openKv("${url}"); inspector at ${url}/`,
    );
    const stop = () => {
      console.error("strata: stopping");
      server.shutdown();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      await server.finished;
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      await kv.closed(); // every acknowledged write is durable already
    }
    console.error("strata: stopped");
    return 0;
  },
};
