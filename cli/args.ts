/**
 * Argument parsing for `strata` subcommands, on `parseArgs` from
 * `node:util`, with the conversions commands share: integers, and keys or
 * values given as text or (with `--hex`) as hex digits.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fromHex, utf8 } from "../lib/util/bytes.ts";
import type { Command, OptionSpec, ParsedArgs } from "./command.ts";
import { UsageError } from "./command.ts";

/** Options every command accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", help: "show this help" },
  debug: { type: "boolean", help: "print the stack trace of an error" },
};

/**
 * Parses the arguments that follow a command name.
 *
 * @param command The command's declaration.
 * @param argv The arguments after the command name.
 * @returns Positionals, switches and option values.
 * @throws {UsageError} On an unknown flag, a missing option value, or the
 * wrong number of positionals (unless `--help` was given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandArgs } from "./args.ts";
 * const cmd = {
 *   name: "get", args: "<db> <key>", arity: [2, 2] as [number, number],
 *   summary: "", description: "",
 *   options: { hex: { type: "boolean" as const, help: "hex" } },
 *   run: () => Promise.resolve(0),
 * };
 * const args = parseCommandArgs(cmd, ["db", "--hex", "6b"]);
 * assert(args.flags.has("hex") && args.positionals[1] === "6b");
 * ```
 */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const specs = { ...command.options, ...COMMON_OPTIONS };
  const options: Record<
    string,
    { type: "boolean" | "string"; short?: string }
  > = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.short === undefined
      ? { type: spec.type }
      : { type: spec.type, short: spec.short };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // node:util's messages suggest `--` for positionals that start with a
    // dash; keep the first sentence, which names the bad flag.
    const text = (err as Error).message.split(". ")[0]!.replace(/\.$/, "")
      .replaceAll("'", '"');
    throw new UsageError(text, command);
  }
  const flags = new Set<string>();
  const strings = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === true) flags.add(name);
    else if (typeof value === "string") strings.set(name, value);
  }
  const positionals = parsed.positionals;
  if (!flags.has("help")) {
    const [min, max] = command.arity;
    if (positionals.length < min) {
      throw new UsageError(
        `Missing argument for "${command.name}": expected ${command.args}`,
        command,
      );
    }
    if (positionals.length > max) {
      throw new UsageError(
        `Unexpected argument "${
          positionals[max]
        }": "${command.name}" takes ${command.args}`,
        command,
      );
    }
  }
  return { positionals, flags, strings };
}

/**
 * Formats the `--help` text of a command.
 *
 * @param command The command's declaration.
 * @returns Usage line, description and options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatHelp } from "./args.ts";
 * const text = formatHelp({
 *   name: "compact", args: "<db>", arity: [1, 1], summary: "", description: "Compacts.",
 *   options: {}, run: () => Promise.resolve(0),
 * });
 * assert(text.startsWith("Usage: strata compact <db>"));
 * ```
 */
export function formatHelp(command: Command): string {
  const specs = { ...command.options, ...COMMON_OPTIONS };
  const entries = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "";
    const value = spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : "";
    return [`${short}--${name}${value}`, spec.help] as const;
  });
  const width = Math.max(...entries.map(([left]) => left.length));
  const options = entries.map(([left, help]) =>
    `  ${left.padEnd(width)}  ${help}`
  );
  const hasOptions = Object.keys(command.options).length > 0;
  return [
    `Usage: strata ${[command.name, command.args].filter(Boolean).join(" ")}${
      hasOptions ? " [options]" : ""
    }`,
    "",
    command.description,
    "",
    "Options:",
    ...options,
  ].join("\n");
}

/**
 * Reads an integer option.
 *
 * @param args Parsed arguments.
 * @param name Option name, without dashes.
 * @param min Smallest accepted value.
 * @returns The integer, or `undefined` when the option was not given.
 * @throws {UsageError} When the value is not an integer of at least `min`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intOption } from "./args.ts";
 * const args = { positionals: [], flags: new Set<string>(), strings: new Map([["limit", "10"]]) };
 * assert(intOption(args, "limit", 0) === 10);
 * ```
 */
export function intOption(
  args: ParsedArgs,
  name: string,
  min: number,
): number | undefined {
  const text = args.strings.get(name);
  if (text === undefined) return undefined;
  const n = Number(text.replaceAll("_", ""));
  if (!/^\s*\d[\d_]*\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(
      `Invalid value "${text}" for --${name}: expected an integer of at least ${min}`,
    );
  }
  return n;
}

/**
 * Converts a key or value from the command line to bytes: UTF-8 text as
 * given, or hex digits with `--hex`.
 *
 * @param text The argument.
 * @param hex Whether `--hex` was given.
 * @param what What the argument is, for the error message (`key`, `--gte`).
 * @returns The bytes.
 * @throws {UsageError} When `hex` is set and `text` is not hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesArg } from "./args.ts";
 * assert(bytesArg("00ff", true, "key")[1] === 255);
 * assert(bytesArg("00ff", false, "key").length === 4);
 * ```
 */
export function bytesArg(text: string, hex: boolean, what: string): Uint8Array {
  if (!hex) return utf8(text);
  const bytes = fromHex(text);
  if (!bytes) {
    throw new UsageError(
      `Invalid hex ${what} "${text}": expected an even number of hex digits`,
    );
  }
  return bytes;
}
