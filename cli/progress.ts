/**
 * A one-line progress bar with rate and ETA, drawn on stderr while long
 * commands run (import, export, compact, verify, bench).
 *
 * It only appears when a person is watching: stderr must be a terminal,
 * and stdout must not be a pipe or socket (a script reads it). When stdout
 * itself is a terminal that the command writes its results to, the bar is
 * left out too, so it cannot interleave with them. Otherwise nothing extra
 * is printed at all.
 *
 * @module
 */

import { fstatSync } from "node:fs";
import { writeAll } from "./output.ts";
import { formatBytes, formatCount, formatDuration } from "../lib/util/units.ts";

const encoder = new TextEncoder();
// Redraw at most ten times a second: enough to look live, cheap to draw.
const REDRAW_MS = 100;
const SPINNER = "|/-\\";

function stdoutIsPipe(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isSocket();
  } catch {
    return true; // closed or unknown: assume a script is on the other end
  }
}

/**
 * Tells whether progress may be drawn for this process.
 *
 * @param writesToStdout The command prints its results to stdout (export),
 * so a terminal there would mix bar and results.
 * @returns `true` when stderr is a terminal and stdout is not piped.
 *
 * @example
 * ```ts
 * import { progressAllowed } from "./progress.ts";
 * console.log(progressAllowed(false));
 * ```
 */
export function progressAllowed(writesToStdout: boolean): boolean {
  if (!Deno.stderr.isTerminal()) return false;
  if (stdoutIsPipe()) return false;
  return !(writesToStdout && Deno.stdout.isTerminal());
}

/** How a {@link ProgressBar} counts its work. */
export type ProgressUnit = "bytes" | "items";

/**
 * A progress bar that redraws itself in place on stderr.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress.ts";
 * const bar = new ProgressBar("import", 100, "items", false); // disabled: draws nothing
 * bar.update(50);
 * bar.finish();
 * ```
 */
export class ProgressBar {
  readonly #label: string;
  readonly #unit: ProgressUnit;
  readonly #enabled: boolean;
  readonly #start = performance.now();
  #total: number | undefined;
  #lastDraw = 0;
  #done = 0;
  #frame = 0;
  #drawn = false;

  /**
   * @param label What is being done, shown first.
   * @param total The amount of work, or `undefined` when unknown (then
   * there is no bar or ETA, only the count, rate and elapsed time).
   * @param unit Whether the amounts are bytes or items.
   * @param enabled Draw at all; pass {@link progressAllowed}'s answer.
   */
  constructor(
    label: string,
    total: number | undefined,
    unit: ProgressUnit,
    enabled: boolean,
  ) {
    this.#label = label;
    this.#total = total;
    this.#unit = unit;
    this.#enabled = enabled;
  }

  /**
   * Records progress, redrawing when the last draw is old enough.
   *
   * @param done Work done so far.
   * @param total A new estimate of the total, if it changed.
   */
  update(done: number, total?: number): void {
    this.#done = done;
    if (total !== undefined) this.#total = total;
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    this.#draw(now);
  }

  /** Erases the bar, leaving the line clean for what follows. */
  finish(): void {
    if (this.#enabled && this.#drawn) this.#write("\r\x1b[K");
    this.#drawn = false;
  }

  #amount(n: number): string {
    return this.#unit === "bytes" ? formatBytes(n) : formatCount(n);
  }

  #draw(now: number): void {
    const elapsed = (now - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const rateText = `${this.#amount(rate)}/s`;
    let columns = 80;
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      // not a terminal after all: keep 80
    }
    let line: string;
    const total = this.#total;
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, this.#done / total);
      const eta = rate > 0 ? formatDuration((total - this.#done) / rate) : "?";
      const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}%  ${
        this.#amount(this.#done)
      }/${this.#amount(total)}  ${rateText}  ETA ${eta}`;
      // On a narrow terminal the bar goes first: the numbers matter more.
      const width = Math.min(
        40,
        columns - 1 - this.#label.length - tail.length - 3,
      );
      const filled = Math.round(fraction * width);
      line = width < 10
        ? `${this.#label}${tail}`
        : `${this.#label} [${"#".repeat(filled)}${
          ".".repeat(width - filled)
        }]${tail}`;
    } else {
      const spin = SPINNER[this.#frame++ % SPINNER.length];
      line = `${this.#label} ${spin} ${
        this.#amount(this.#done)
      }  ${rateText}  ${formatDuration(elapsed)} elapsed`;
    }
    this.#write("\r" + line.slice(0, columns - 1) + "\x1b[K");
    this.#drawn = true;
  }

  #write(text: string): void {
    try {
      writeAll(Deno.stderr, encoder.encode(text));
    } catch {
      // a vanished terminal must not fail the command
    }
  }
}
