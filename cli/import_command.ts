/**
 * `strata import <db> <file.jsonl|->`: loads JSON lines as written by
 * `strata export`.
 *
 * @module
 */

import { formatBytes, formatCount } from "../lib/util/units.ts";
import { intOption } from "./args.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { openDatabase } from "./open_database.ts";
import { Output } from "./output.ts";
import { progressAllowed, ProgressBar } from "./progress.ts";
import { parseRecord } from "./records.ts";
import { osErrorReason } from "./os_error.ts";
import { StrataError, type WriteBatch } from "../mod.ts";

// Big reads keep the syscall count low; lines may span reads.
const READ_SIZE = 1 << 20;
const lineDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** An import input line that is not a valid record. */
class RecordError extends StrataError {
  constructor(source: string, line: number, reason: string, imported: number) {
    super(
      "INVALID_ARGUMENT",
      `Invalid record at line ${line} of "${source}": ${reason} (${imported} records before it were imported)`,
    );
  }
}

/**
 * Yields the lines of a byte stream (without `\n` or a trailing `\r`),
 * with the number of bytes consumed so far.
 */
async function* lines(
  file: { read(p: Uint8Array): Promise<number | null> },
): AsyncGenerator<{ bytes: Uint8Array; consumed: number }> {
  let buf = new Uint8Array(READ_SIZE);
  let start = 0; // first byte of the current, unfinished line
  let end = 0; // bytes in buf
  let consumed = 0;
  for (;;) {
    if (end === buf.length) {
      if (start > 0) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      } else {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
    }
    const n = await file.read(buf.subarray(end));
    if (n === null) break;
    let scanFrom = end;
    end += n;
    for (;;) {
      const nl = buf.subarray(scanFrom, end).indexOf(0x0a);
      if (nl < 0) break;
      const lineEnd = scanFrom + nl;
      consumed += lineEnd + 1 - start;
      const stop = lineEnd > start && buf[lineEnd - 1] === 0x0d
        ? lineEnd - 1
        : lineEnd;
      yield { bytes: buf.subarray(start, stop), consumed };
      start = scanFrom = lineEnd + 1;
    }
  }
  if (end > start) {
    consumed += end - start;
    const stop = buf[end - 1] === 0x0d ? end - 1 : end;
    yield { bytes: buf.subarray(start, stop), consumed };
  }
}

/** The `import` command. */
export const importCommand: Command = {
  name: "import",
  args: "<db> <file.jsonl|->",
  arity: [2, 2],
  summary: "load JSON lines (from export) into the database",
  description: [
    'Reads one {"key": ..., "value": ...} object per line from a file, or stdin',
    'for "-", and stores them, creating the database if needed. "keyHex" /',
    '"valueHex" give bytes as hex; with --hex, "key" and "value" are hex too.',
    "Blank lines are skipped. Records are written in batches; on a bad line",
    "the command stops and reports it, and the batches before it stay",
    "imported. The last batch is synced to disk.",
  ].join("\n"),
  options: {
    hex: { type: "boolean", help: '"key" and "value" hold hex digits' },
    batch: {
      type: "string",
      value: "N",
      help: "records per write batch (default 1000)",
    },
    json: { type: "boolean", help: "print a JSON summary on stdout" },
  },
  async run(args) {
    const [path, source] = args.positionals as [string, string];
    const hex = args.flags.has("hex");
    const batchSize = intOption(args, "batch", 1) ?? 1000;
    let file: { read(p: Uint8Array): Promise<number | null>; close(): void };
    let total: number | undefined;
    if (source === "-") {
      file = Deno.stdin;
    } else {
      try {
        const opened = await Deno.open(source, { read: true });
        file = opened;
        const info = await opened.stat();
        if (info.isDirectory) {
          opened.close();
          throw new UsageError(`Cannot import "${source}": it is a directory`);
        }
        total = info.isFile ? info.size : undefined;
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new StrataError(
          "NOT_FOUND",
          `Cannot read "${source}": ${osErrorReason(err)}`,
        );
      }
    }
    const started = performance.now();
    const interactive = progressAllowed(false);
    const bar = new ProgressBar(
      "import",
      total,
      total === undefined ? "items" : "bytes",
      interactive,
    );
    const db = await openDatabase(path, "create");
    let imported = 0;
    let bytes = 0;
    try {
      // A full batch waits until the next record shows up, so the last one
      // written, whichever it is, can carry the sync.
      let ready: WriteBatch | undefined;
      let batch = db.batch();
      let lineNo = 0;
      for await (const line of lines(file)) {
        lineNo++;
        if (line.bytes.every((b) => b === 0x20 || b === 0x09)) continue;
        let text: string;
        try {
          text = lineDecoder.decode(line.bytes);
        } catch {
          throw new RecordError(source, lineNo, "not valid UTF-8", imported);
        }
        // Editors on Windows start files with a byte-order mark.
        if (lineNo === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
        let record;
        try {
          record = parseRecord(text, hex);
        } catch (err) {
          throw new RecordError(
            source,
            lineNo,
            (err as Error).message,
            imported,
          );
        }
        batch.put(record.key, record.value);
        bytes += record.key.length + record.value.length;
        if (batch.length >= batchSize) {
          if (ready) {
            await db.write(ready);
            imported += ready.length;
          }
          ready = batch;
          batch = db.batch();
          bar.update(total === undefined ? imported : line.consumed);
        }
      }
      if (ready) {
        await db.write(ready, { sync: batch.length === 0 });
        imported += ready.length;
      }
      if (batch.length > 0) {
        await db.write(batch, { sync: true });
        imported += batch.length;
      }
    } finally {
      bar.finish();
      await db.close();
      if (source !== "-") file.close();
    }
    const seconds = (performance.now() - started) / 1000;
    if (args.flags.has("json")) {
      const out = new Output();
      out.line(
        JSON.stringify({
          records: imported,
          bytes,
          seconds: Math.round(seconds * 1000) / 1000,
        }),
      );
      out.flush();
    } else if (interactive) {
      console.error(
        `Imported ${formatCount(imported)} records (${
          formatBytes(bytes)
        }) into "${path}" in ${seconds.toFixed(1)} s`,
      );
    }
    return 0;
  },
};
