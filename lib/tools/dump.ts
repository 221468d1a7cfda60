/**
 * Decodes one database file (a WAL `NNNNNN.log`, an SSTable `NNNNNN.sst`
 * or a `MANIFEST-NNNNNN`) into a plain description, and renders that as
 * readable text: for debugging, and for learning how the formats work.
 *
 * - WAL: every record (write batch) with its offset, first sequence and
 *   operations, and where replay would stop.
 * - SSTable: footer, properties, bloom filter, index, and every data block
 *   with its entries.
 * - Manifest: every version edit with its offset.
 *
 * The kind is taken from the file name, or, for a renamed file, from its
 * magic number. Decoding uses the engine's own readers, so a damaged file
 * throws the same `CorruptionError` the engine would.
 *
 * @module
 */

import { diskFs } from "../fs/disk_fs.ts";
import { type Fs, readFully } from "../fs/fs.ts";
import { basename } from "node:path";
import { BlockCache } from "../sstable/block_cache.ts";
import { InvalidArgumentError, NotFoundError } from "../util/errors.ts";
import { parseFileName } from "../util/filenames.ts";
import { TYPE_DELETE, TYPE_PUT } from "../iterator/internal_key.ts";
import { MANIFEST_MAGIC, readManifest } from "../manifest/manifest.ts";
import type {
  BlockHandle,
  Footer,
  TableProperties,
} from "../sstable/sstable_format.ts";
import { FOOTER_SIZE, tableMagic } from "../sstable/sstable_format.ts";
import { SSTableReader } from "../sstable/sstable_reader.ts";

export type {
  BlockHandle,
  Footer,
  TableProperties,
} from "../sstable/sstable_format.ts";
import {
  replayWal,
  WAL_HEADER_SIZE,
  WAL_MAGIC,
  WAL_VERSION,
  walRecordHeaderSize,
} from "../wal/wal.ts";

/** One operation of a WAL record or one entry of a table. */
export interface DumpEntry {
  /** Sequence number. */
  seq: number;
  /** `put`, `delete`, or (in a WAL) `range-delete`. */
  type: "put" | "delete" | "range-delete";
  /** User key (a range delete's first key). */
  key: Uint8Array;
  /** Value (empty for a delete; a range delete's end, empty: no end). */
  value: Uint8Array;
}

/** A decoded WAL. */
export interface WalDump {
  /** Discriminant. */
  kind: "log";
  /** Path of the file. */
  path: string;
  /** Its size in bytes. */
  fileSize: number;
  /** Format version from the header. */
  version: number;
  /** Every record replay accepts, in file order. */
  records: {
    offset: number;
    bytes: number;
    firstSequence: number;
    ops: DumpEntry[];
  }[];
  /** Length of the consistent prefix. */
  validBytes: number;
  /** Bytes replay would drop, after the prefix. */
  droppedBytes: number;
  /**
   * Bytes after the prefix that end the log cleanly: zeros written ahead
   * of the records, or records of the file's earlier use.
   */
  tailBytes?: number;
  /** Why, when bytes are dropped. */
  dropReason?: string;
}

/** A decoded SSTable. */
export interface TableDump {
  /** Discriminant. */
  kind: "table";
  /** Path of the file. */
  path: string;
  /** Its size in bytes. */
  fileSize: number;
  /** File offset of the footer. */
  footerOffset: number;
  /** The footer: block handles and format version. */
  footer: Footer;
  /** The properties block. */
  properties: TableProperties;
  /** The bloom filter's shape. */
  filter: { bytes: number; bits: number; k: number };
  /** Data blocks in file order, with their entries. */
  blocks: {
    handle: BlockHandle;
    restarts: number;
    lastKey: Uint8Array;
    lastSeq: number;
    entries: DumpEntry[];
  }[];
}

/** A decoded manifest. */
export interface ManifestDump {
  /** Discriminant. */
  kind: "manifest";
  /** Path of the file. */
  path: string;
  /** Its size in bytes. */
  fileSize: number;
  /** Format version from the header. */
  version: number;
  /** Every edit with its record offset. */
  edits: {
    offset: number;
    logNumber?: number;
    nextFileNumber?: number;
    lastSequence?: number;
    added: {
      level: number;
      number: number;
      size: number;
      entries: number;
      smallestKey: Uint8Array;
      smallestSeq: number;
      largestKey: Uint8Array;
      largestSeq: number;
    }[];
    deleted: { level: number; number: number }[];
    compactPointers: { level: number; key: Uint8Array }[];
    rangeTombstonesAdded: { start: Uint8Array; end: Uint8Array; seq: number }[];
    rangeTombstonesRetired: number[];
    lifetime?: Record<string, number>;
  }[];
  /** Bytes of whole records, header included. */
  validBytes: number;
  /** Bytes of a torn final record that recovery ignores. */
  droppedBytes: number;
}

/** What {@link dumpFile} returns. */
export type FileDump = WalDump | TableDump | ManifestDump;

function sniff(
  path: string,
  fs: Fs,
): "log" | "table" | "manifest" | undefined {
  const parsed = parseFileName(basename(path));
  if (
    parsed?.kind === "log" || parsed?.kind === "table" ||
    parsed?.kind === "manifest"
  ) {
    return parsed.kind;
  }
  const file = fs.openReadable(path);
  try {
    const size = file.size;
    const head = new Uint8Array(4);
    if (size >= 4 && readFully(file, head, 0, 4, 0) === 4) {
      const magic = new DataView(head.buffer).getUint32(0, true);
      if (magic === WAL_MAGIC) return "log";
      if (magic === MANIFEST_MAGIC) return "manifest";
    }
    if (size >= FOOTER_SIZE) {
      const tail = new Uint8Array(8);
      if (
        readFully(file, tail, 0, 8, size - 8) === 8 &&
        tail.every((b, i) => b === tableMagic()[i])
      ) return "table";
    }
    return undefined;
  } finally {
    file.close();
  }
}

/** The version field of a log's header (replay checks it is known). */
function walVersionOf(path: string, fs: Fs): number {
  const file = fs.openReadable(path);
  try {
    const header = new Uint8Array(8);
    const n = file.readAt(header, 0, 8, 0);
    return n < 8 ? WAL_VERSION : new DataView(header.buffer).getUint32(4, true);
  } finally {
    file.close();
  }
}

function dumpWal(path: string, fileSize: number, fs: Fs): WalDump {
  const records: WalDump["records"] = [];
  let offset = WAL_HEADER_SIZE;
  const version = walVersionOf(path, fs);
  const result = replayWal(path, (firstSequence, ops) => {
    let bytes = walRecordHeaderSize(version);
    const entries = ops.map((op, i): DumpEntry => {
      const value = op.type === TYPE_DELETE
        ? new Uint8Array(0)
        : op.value.slice();
      bytes += 9 + op.key.length + value.length;
      return {
        seq: firstSequence + i,
        type: op.type === TYPE_PUT
          ? "put"
          : op.type === TYPE_DELETE
          ? "delete"
          : "range-delete",
        key: op.key.slice(),
        value,
      };
    });
    records.push({ offset, bytes, firstSequence, ops: entries });
    offset += bytes;
  }, fs);
  const dump: WalDump = {
    kind: "log",
    path,
    fileSize,
    version,
    records,
    validBytes: result.validBytes,
    droppedBytes: result.droppedBytes,
  };
  if (result.tailBytes > 0) dump.tailBytes = result.tailBytes;
  if (result.dropReason !== undefined) dump.dropReason = result.dropReason;
  return dump;
}

function dumpTable(path: string, fs: Fs): TableDump {
  const number = parseFileName(basename(path))?.number ?? 0;
  const reader = SSTableReader.open(path, number, new BlockCache(0), fs);
  try {
    const described = reader.describe();
    const blocks: TableDump["blocks"] = [];
    for (let i = 0; i < described.blocks.length; i++) {
      const b = described.blocks[i]!;
      const it = reader.dataBlock(i, false).iterator();
      const entries: DumpEntry[] = [];
      for (it.seekToFirst(); it.valid(); it.next()) {
        entries.push({
          seq: it.seq(),
          type: it.type() === TYPE_PUT ? "put" : "delete",
          key: it.key().slice(),
          value: it.value().slice(),
        });
      }
      blocks.push({
        handle: b.handle,
        restarts: b.restarts,
        lastKey: b.lastKey,
        lastSeq: b.lastSeq,
        entries,
      });
    }
    const p = described.properties;
    return {
      kind: "table",
      path,
      fileSize: described.fileSize,
      footerOffset: described.fileSize - FOOTER_SIZE,
      footer: described.footer,
      properties: {
        ...p,
        smallestKey: p.smallestKey.slice(),
        largestKey: p.largestKey.slice(),
      },
      filter: described.filter,
      blocks,
    };
  } finally {
    reader.close();
  }
}

function dumpManifest(
  path: string,
  fileSize: number,
  fs: Fs,
): ManifestDump {
  const contents = readManifest(path, fs);
  return {
    kind: "manifest",
    path,
    fileSize,
    version: contents.version,
    edits: contents.edits.map((e, i) => {
      const edit: ManifestDump["edits"][number] = {
        offset: contents.offsets[i]!,
        added: (e.added ?? []).map(([level, f]) => ({ level, ...f })),
        deleted: (e.deleted ?? []).map(([level, number]) => ({
          level,
          number,
        })),
        compactPointers: (e.compactPointers ?? []).map(([level, key]) => ({
          level,
          key,
        })),
        rangeTombstonesAdded: e.rangeTombstonesAdded ?? [],
        rangeTombstonesRetired: e.rangeTombstonesRetired ?? [],
      };
      if (e.lifetime) edit.lifetime = e.lifetime;
      if (e.logNumber !== undefined) edit.logNumber = e.logNumber;
      if (e.nextFileNumber !== undefined) {
        edit.nextFileNumber = e.nextFileNumber;
      }
      if (e.lastSequence !== undefined) edit.lastSequence = e.lastSequence;
      return edit;
    }),
    validBytes: contents.validBytes,
    droppedBytes: contents.droppedBytes,
  };
}

/**
 * Decodes a WAL, SSTable or manifest file.
 *
 * @param path The file.
 * @param fs The filesystem (the real one by default).
 * @returns Its decoded contents.
 * @throws {NotFoundError} When the file does not exist.
 * @throws {InvalidArgumentError} When it is none of the three kinds.
 * @throws {CorruptionError} When it is damaged where its reader can not go
 * on (a WAL's torn tail is reported, not thrown).
 *
 * @example Dump a manifest
 * ```ts
 * import assert from "node:assert/strict";
 * import { DB } from "../../mod.ts";
 * import { dumpFile } from "./dump.ts";
 * const dir = await Deno.makeTempDir();
 * const db = await DB.open(dir);
 * await db.close();
 * const current = (await Deno.readTextFile(`${dir}/CURRENT`)).trim();
 * const dump = dumpFile(`${dir}/${current}`);
 * assert(dump.kind === "manifest" && dump.edits.length > 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function dumpFile(path: string, fs: Fs = diskFs): FileDump {
  const info = fs.stat(path);
  if (info === undefined) {
    throw new NotFoundError(`Cannot dump "${path}": the file does not exist`);
  }
  if (!info.isFile) {
    throw new NotFoundError(`Cannot dump "${path}": it is not a file`);
  }
  const fileSize = info.size;
  const kind = sniff(path, fs);
  if (kind === "log") return dumpWal(path, fileSize, fs);
  if (kind === "table") return dumpTable(path, fs);
  if (kind === "manifest") return dumpManifest(path, fileSize, fs);
  throw new InvalidArgumentError(
    `Cannot dump "${path}": it is not a Strata WAL, SSTable or manifest (unknown name and magic number)`,
  );
}

const handle = (h: BlockHandle) => `@${h.offset}+${h.size}`;

/**
 * Renders a dump as text, one fact per line.
 *
 * @param dump What {@link dumpFile} returned.
 * @param show Formats a key or value for display (the CLI escapes
 * non-UTF-8 bytes, or prints hex).
 * @returns The text (no trailing newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDump } from "./dump.ts";
 * const text = renderDump({
 *   kind: "log", path: "000003.log", fileSize: 8, version: 2, records: [],
 *   validBytes: 8, droppedBytes: 0,
 * }, (b) => new TextDecoder().decode(b));
 * assert(text.startsWith("WAL 000003.log"));
 * ```
 */
export function renderDump(
  dump: FileDump,
  show: (bytes: Uint8Array) => string,
): string {
  const lines: string[] = [];
  const entry = (e: DumpEntry) =>
    e.type === "range-delete"
      ? `seq ${e.seq}  DEL RANGE  ${show(e.key)} .. ${
        e.value.length === 0 ? "(no end)" : show(e.value)
      }`
      : `seq ${e.seq}  ${e.type === "put" ? "PUT" : "DEL"}  ${show(e.key)}${
        e.type === "put" ? ` => ${show(e.value)}` : ""
      }`;
  if (dump.kind === "log") {
    lines.push(
      `WAL ${dump.path}: ${dump.fileSize} bytes, format version ${dump.version}`,
    );
    for (const r of dump.records) {
      lines.push(
        `record @${r.offset} (${r.bytes} bytes): ${r.ops.length} op${
          r.ops.length === 1 ? "" : "s"
        } from sequence ${r.firstSequence}`,
      );
      for (const op of r.ops) lines.push(`  ${entry(op)}`);
    }
    lines.push(
      `${dump.validBytes} bytes valid, ${dump.droppedBytes} bytes dropped by replay${
        dump.tailBytes
          ? `, ${dump.tailBytes} bytes of zeros or of the file's earlier use after the records`
          : ""
      }`,
    );
    if (dump.dropReason) {
      lines.push(
        `replay stops at offset ${dump.validBytes}: ${dump.dropReason}`,
      );
    }
  } else if (dump.kind === "table") {
    const f = dump.footer;
    const p = dump.properties;
    lines.push(
      `SSTable ${dump.path}: ${dump.fileSize} bytes, format version ${f.version}`,
    );
    lines.push(
      `footer @${dump.footerOffset}: filter ${handle(f.filter)}, properties ${
        handle(f.properties)
      }, index ${handle(f.index)}`,
    );
    lines.push(
      `properties ${
        handle(f.properties)
      }: ${p.entries} entries (${p.deletions} deletions) in ${p.dataBlocks} data blocks, ${p.rawKeyBytes} key bytes, ${p.rawValueBytes} value bytes`,
    );
    lines.push(`  smallest ${show(p.smallestKey)} seq ${p.smallestSeq}`);
    lines.push(`  largest  ${show(p.largestKey)} seq ${p.largestSeq}`);
    lines.push(
      `filter ${
        handle(f.filter)
      }: bloom, ${dump.filter.bytes} bytes, ${dump.filter.bits} bits, ${dump.filter.k} probes per key`,
    );
    lines.push(`index ${handle(f.index)}: ${dump.blocks.length} entries`);
    dump.blocks.forEach((b, i) => {
      lines.push(
        `  block ${i} ${handle(b.handle)}: last key ${
          show(b.lastKey)
        } seq ${b.lastSeq}`,
      );
    });
    dump.blocks.forEach((b, i) => {
      lines.push(
        `data block ${i} ${
          handle(b.handle)
        }: ${b.entries.length} entries, ${b.restarts} restart points`,
      );
      for (const e of b.entries) lines.push(`  ${entry(e)}`);
    });
  } else {
    lines.push(
      `Manifest ${dump.path}: ${dump.fileSize} bytes, format version ${dump.version}`,
    );
    for (const e of dump.edits) {
      const facts: string[] = [];
      if (e.logNumber !== undefined) facts.push(`log ${e.logNumber}`);
      if (e.nextFileNumber !== undefined) {
        facts.push(`next file ${e.nextFileNumber}`);
      }
      if (e.lastSequence !== undefined) {
        facts.push(`last sequence ${e.lastSequence}`);
      }
      lines.push(`edit @${e.offset}: ${facts.join(", ") || "(no counters)"}`);
      for (const a of e.added) {
        lines.push(
          `  add L${a.level} ${
            String(a.number).padStart(6, "0")
          }.sst: ${a.size} bytes, ${a.entries} entries, ${
            show(a.smallestKey)
          } seq ${a.smallestSeq} .. ${show(a.largestKey)} seq ${a.largestSeq}`,
        );
      }
      for (const d of e.deleted) {
        lines.push(
          `  delete L${d.level} ${String(d.number).padStart(6, "0")}.sst`,
        );
      }
      for (const c of e.compactPointers) {
        lines.push(`  compact pointer L${c.level}: ${show(c.key)}`);
      }
      for (const t of e.rangeTombstonesAdded) {
        lines.push(
          `  range delete seq ${t.seq}: ${show(t.start)} .. ${
            t.end.length === 0 ? "(no end)" : show(t.end)
          }`,
        );
      }
      if (e.rangeTombstonesRetired.length > 0) {
        lines.push(
          `  range deletes retired: seq ${e.rangeTombstonesRetired.join(", ")}`,
        );
      }
      if (e.lifetime) {
        lines.push(
          `  lifetime: ${
            Object.entries(e.lifetime).map(([k, n]) => `${k} ${n}`).join(", ")
          }`,
        );
      }
    }
    lines.push(
      `${dump.validBytes} bytes valid, ${dump.droppedBytes} bytes of torn final record ignored`,
    );
  }
  return lines.join("\n");
}
