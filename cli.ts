#!/usr/bin/env -S deno run --allow-read --allow-write
/**
 * `strata`, the command-line program of Strata: read and write a database,
 * import and export JSON lines, look at its levels, compact it, verify
 * every checksum, decode its files, and benchmark it.
 *
 * ```sh
 * deno run --allow-read --allow-write cli.ts put ./data user:1 Ada
 * deno run --allow-read --allow-write cli.ts get ./data user:1
 * deno run --allow-read --allow-write cli.ts --help
 * ```
 *
 * Exit codes: 0 success, 1 not found (`get` of an absent key), 2 usage or
 * runtime error, reported as one line on stderr (with the stack trace
 * only under `--debug`).
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { formatHelp, parseCommandArgs } from "./cli/args.ts";
import { benchCommand } from "./cli/bench_command.ts";
import type { Command } from "./cli/command.ts";
import { UsageError } from "./cli/command.ts";
import { checkpointCommand } from "./cli/checkpoint_command.ts";
import { compactCommand } from "./cli/compact_command.ts";
import { deleteCommand } from "./cli/delete_command.ts";
import { dumpCommand } from "./cli/dump_command.ts";
import { exportCommand } from "./cli/export_command.ts";
import { getCommand } from "./cli/get_command.ts";
import { importCommand } from "./cli/import_command.ts";
import { putCommand } from "./cli/put_command.ts";
import { repairCommand } from "./cli/repair_command.ts";
import { scanCommand } from "./cli/scan_command.ts";
import { serveCommand } from "./cli/serve_command.ts";
import { statsCommand } from "./cli/stats_command.ts";
import { verifyCommand } from "./cli/verify_command.ts";
import { StrataError } from "./mod.ts";

/** The version of Strata, from `deno.json`. */
export const VERSION: string = denoJson.version;

const COMMANDS: readonly Command[] = [
  putCommand,
  getCommand,
  deleteCommand,
  scanCommand,
  importCommand,
  exportCommand,
  statsCommand,
  compactCommand,
  verifyCommand,
  checkpointCommand,
  repairCommand,
  dumpCommand,
  benchCommand,
  serveCommand,
];

function usage(): string {
  const rows = COMMANDS.map((c) =>
    [`${c.name} ${c.args}`.trim(), c.summary] as const
  );
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    "Usage: strata <command> [options]",
    "",
    `Strata ${VERSION}, an LSM-tree key-value store.`,
    "",
    "Commands:",
    ...rows.map(([left, summary]) => `  ${left.padEnd(width)}  ${summary}`),
    "",
    "Options:",
    "  -h, --help  show help; `strata <command> --help` for a command's",
    "  --version   print the version",
    "  --debug     print the stack trace of an error",
    "",
    "Keys and values are UTF-8 text; --hex reads and prints them as hex digits.",
    "Exit codes: 0 success, 1 key not found (get), 2 usage or runtime error.",
  ].join("\n");
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function report(
  err: unknown,
  command: Command | undefined,
  debug: boolean,
): number {
  if (err instanceof UsageError) {
    console.error(`strata: ${oneLine(err.message)}`);
    console.error("");
    const target = err.command ?? command;
    console.error(target ? formatHelp(target) : usage());
    return 2;
  }
  if (err instanceof Deno.errors.BrokenPipe) {
    return 0; // the reader (`| head`) has all it wanted
  }
  const message = err instanceof Error ? oneLine(err.message) : String(err);
  if (err instanceof StrataError) {
    console.error(
      message.startsWith("strata: ") ? message : `strata: ${message}`,
    );
  } else if (err instanceof Deno.errors.PermissionDenied) {
    console.error(`strata: Permission denied: ${message}`);
  } else if (err instanceof Error && err.constructor.name in Deno.errors) {
    console.error(`strata: ${message}`);
  } else {
    const hint = debug ? "" : " (run with --debug for the stack trace)";
    console.error(`strata: Internal error: ${message}${hint}`);
  }
  if (debug && err instanceof Error && err.stack) console.error(err.stack);
  return 2;
}

/**
 * Runs the `strata` program.
 *
 * @param argv The arguments after the program name.
 * @returns The exit code: 0 success, 1 not found, 2 usage or runtime error.
 *
 * @example Print the version
 * ```ts
 * import { main } from "./cli.ts";
 * console.assert(await main(["--version"]) === 0);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const dashDash = argv.indexOf("--");
  const debug = (dashDash < 0 ? argv : argv.slice(0, dashDash)).includes(
    "--debug",
  );
  let command: Command | undefined;
  try {
    let i = 0;
    for (; i < argv.length && argv[i]!.startsWith("-"); i++) {
      const flag = argv[i]!;
      if (flag === "--version" || flag === "-V") {
        console.log(`strata ${VERSION}`);
        return 0;
      }
      if (flag === "--help" || flag === "-h") {
        console.log(usage());
        return 0;
      }
      if (flag !== "--debug") throw new UsageError(`Unknown option "${flag}"`);
    }
    let name = argv[i];
    let rest = argv.slice(i + 1);
    if (name === undefined) throw new UsageError("Missing command");
    if (name === "help") {
      if (rest.length === 0) {
        console.log(usage());
        return 0;
      }
      name = rest[0]!;
      rest = ["--help"];
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`Unknown command "${name}"`);
    const args = parseCommandArgs(command, rest);
    if (args.flags.has("help")) {
      console.log(formatHelp(command));
      return 0;
    }
    return await command.run(args, { debug });
  } catch (err) {
    return report(err, command, debug);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
