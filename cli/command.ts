/**
 * What every subcommand of `strata` declares: its name, usage, options and
 * how to run it. The dispatcher in `cli.ts` parses arguments against the
 * declaration and prints help from it, so usage text and parsing can not
 * drift apart.
 *
 * @module
 */

/** One `--flag` of a command. */
export interface OptionSpec {
  /** `boolean` for a switch, `string` for an option that takes a value. */
  type: "boolean" | "string";
  /** One-letter alias, as in `-h`. */
  short?: string;
  /** Placeholder of the value in help text, as in `N`. */
  value?: string;
  /** One line of help. */
  help: string;
}

/** Parsed arguments of one command. */
export interface ParsedArgs {
  /** Positional arguments, after the command name. */
  positionals: string[];
  /** Switches that were given. */
  flags: Set<string>;
  /** Values of options that take one. */
  strings: Map<string, string>;
}

/** Process streams and settings a command runs with. */
export interface CommandContext {
  /** Print stack traces of errors (`--debug`). */
  debug: boolean;
}

/** A subcommand of `strata`. */
export interface Command {
  /** The word that selects it, as in `scan`. */
  name: string;
  /** Positional arguments for the usage line, as in `<db> <key>`. */
  args: string;
  /** How many positional arguments it takes, at least and at most. */
  arity: [min: number, max: number];
  /** One line for the command list. */
  summary: string;
  /** A paragraph or two for `--help`. */
  description: string;
  /** Its options (`--help` and `--debug` are added to every command). */
  options: Record<string, OptionSpec>;
  /**
   * Runs the command.
   *
   * @returns The exit code: 0 success, 1 not found, 2 error.
   */
  run(args: ParsedArgs, context: CommandContext): Promise<number>;
}

/**
 * The command line was wrong: an unknown command or flag, a missing or
 * extra argument, a malformed value. The CLI prints the message and the
 * usage and exits 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./command.ts";
 * const err = new UsageError('Invalid number "x" for --limit: expected an integer');
 * assert(err.message.startsWith("Invalid"));
 * ```
 */
export class UsageError extends Error {
  /** The command whose usage to print, if known. */
  readonly command: Command | undefined;

  /**
   * @param message What was wrong, one line.
   * @param command The command whose usage to print.
   */
  constructor(message: string, command?: Command) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}
