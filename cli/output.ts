/**
 * Buffered text output for the CLI. Scans and exports print one line per
 * entry; one `writeSync` per line would cost a syscall each, so lines are
 * gathered into a buffer and written in chunks.
 *
 * @module
 */

const encoder = new TextEncoder();
// Big enough to amortise the syscall, small enough to stream promptly.
const FLUSH_AT = 64 * 1024;

/** Something that accepts bytes synchronously, like `Deno.stdout`. */
export interface SyncWriter {
  /** Writes some of `p`, returning how many bytes were written. */
  writeSync(p: Uint8Array): number;
}

/**
 * Writes every byte of `data`, looping over partial writes.
 *
 * @param writer Where to write.
 * @param data The bytes.
 *
 * @example
 * ```ts
 * import { writeAll } from "./output.ts";
 * writeAll(Deno.stdout, new TextEncoder().encode(""));
 * ```
 */
export function writeAll(writer: SyncWriter, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writer.writeSync(data.subarray(off));
}

/**
 * A line-oriented buffered writer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Output } from "./output.ts";
 * const chunks: Uint8Array[] = [];
 * const out = new Output({ writeSync: (p) => (chunks.push(p.slice()), p.length) });
 * out.line("hello");
 * out.flush();
 * assert(new TextDecoder().decode(chunks[0]) === "hello\n");
 * ```
 */
export class Output {
  readonly #writer: SyncWriter;
  #pending: string[] = [];
  #size = 0;

  /** @param writer Destination, `Deno.stdout` by default. */
  constructor(writer: SyncWriter = Deno.stdout) {
    this.#writer = writer;
  }

  /**
   * Queues `text` followed by a newline.
   *
   * @param text One line, without its newline.
   */
  line(text: string): void {
    this.#pending.push(text, "\n");
    this.#size += text.length + 1;
    if (this.#size >= FLUSH_AT) this.flush();
  }

  /** Writes everything queued. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    this.#size = 0;
    writeAll(this.#writer, encoder.encode(text));
  }
}
