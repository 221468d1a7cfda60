/**
 * How Strata's costs grow with the data: fills 1M, 3M and 10M random keys
 * (16-byte keys, 100-byte db_bench values that compress to about half), each
 * size in a fresh process and a fresh database, and reports per size:
 * fillrandom and readrandom ops/s, write amplification (bytes the engine
 * wrote to tables ÷ bytes the user wrote), space amplification (bytes on
 * disk ÷ the keys and values as written), peak RSS, and the longest write
 * stall (the slowest single `put`).
 *
 * The keys and their random order are computed, not stored (a
 * multiplicative permutation), so the harness itself holds nothing that
 * grows with N and the peak RSS is the engine's. readrandom reads 1M keys
 * of each database, in random order, after a close and reopen (as
 * bench:peers does). The table and an SVG chart go to `bench/results/`.
 *
 * Usage: deno task bench:scale [--sizes 1000000,3000000,10000000]
 *        [--reads 1000000] [--out bench/results]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DB } from "../mod.ts";
import { fillValuePool, Prng } from "../cli/bench.ts";
import { peakRss } from "./peers/disk_usage.ts";

const KEY_SIZE = 16;
const VALUE_SIZE = 100;

/** What one size's child process reports. */
interface ScaleResult {
  n: number;
  fillOpsPerSec: number;
  readOpsPerSec: number;
  readsFound: number;
  reads: number;
  writeAmplification: number;
  diskBytes: number;
  spaceAmplification: number;
  peakRssBytes: number;
  longestStallMs: number;
  level0Files: number;
  levels: number[];
}

/** Writes the 16-digit decimal of `i` into `buf` (a stored key). */
function writeKey(buf: Uint8Array, i: number): void {
  for (let p = KEY_SIZE - 1; p >= 0; p--) {
    buf[p] = 0x30 + (i % 10);
    i = Math.floor(i / 10);
  }
}

/** A multiplier coprime to `n`, so `i * m mod n` permutes [0, n). */
function coprimeMultiplier(n: number): number {
  const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);
  let m = Math.floor(n * 0.6180339887) | 1;
  while (gcd(m, n) !== 1) m += 2;
  return m;
}

async function runSize(
  n: number,
  reads: number,
  dir: string,
): Promise<ScaleResult> {
  const pool = new Uint8Array((1 << 20) + VALUE_SIZE);
  fillValuePool(pool, new Prng(301));
  const key = new Uint8Array(KEY_SIZE);
  const m = coprimeMultiplier(n);
  let db = await DB.open(dir);
  let longest = 0;
  const t0 = performance.now();
  let k = 0;
  for (let j = 0; j < n; j++) {
    writeKey(key, k);
    k += m; // k = j * m mod n, without a multiplication per key
    if (k >= n) k -= n;
    const at = Math.imul(j, 0x9e3779b1) >>> 12; // 0 … 2^20 - 1
    const s = performance.now();
    await db.put(key, pool.subarray(at, at + VALUE_SIZE));
    const took = performance.now() - s;
    if (took > longest) longest = took;
  }
  const fillMs = performance.now() - t0;
  await db.waitForBackgroundWork();
  const writeAmplification = db.stats().writeAmplification;
  await db.close();

  db = await DB.open(dir);
  const prng = new Prng(7);
  let found = 0;
  const r0 = performance.now();
  for (let j = 0; j < reads; j++) {
    writeKey(key, prng.below(n));
    if ((await db.get(key)) !== undefined) found++;
  }
  const readMs = performance.now() - r0;
  await db.waitForBackgroundWork();
  const stats = db.stats();
  await db.close();
  const raw = n * (KEY_SIZE + VALUE_SIZE);
  return {
    n,
    fillOpsPerSec: n / (fillMs / 1000),
    readOpsPerSec: reads / (readMs / 1000),
    readsFound: found,
    reads,
    writeAmplification,
    diskBytes: stats.diskBytes,
    spaceAmplification: stats.diskBytes / raw,
    peakRssBytes: peakRss() ?? 0,
    longestStallMs: longest,
    level0Files: stats.levels[0]!.files,
    levels: stats.levels.map((l) => l.files),
  };
}

function fmt(x: number, digits = 0): string {
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function table(results: ScaleResult[]): string {
  const first = results[0]!;
  const lines = [
    "| keys | fillrandom ops/s | readrandom ops/s | write amp | disk MiB | space amp | peak RSS MiB | longest stall ms | files per level |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of results) {
    lines.push(
      `| ${fmt(r.n)} | ${fmt(r.fillOpsPerSec)} | ${fmt(r.readOpsPerSec)} | ${
        fmt(r.writeAmplification, 2)
      } | ${fmt(r.diskBytes / 1048576, 1)} | ${
        fmt(r.spaceAmplification, 2)
      } | ${fmt(r.peakRssBytes / 1048576, 1)} | ${fmt(r.longestStallMs, 1)} | ${
        r.levels.join(" ")
      } |`,
    );
  }
  const last = results.at(-1)!;
  if (results.length > 1) {
    lines.push(
      "",
      `At ${fmt(last.n)} keys against ${fmt(first.n)}: fillrandom ${
        fmt(last.fillOpsPerSec / first.fillOpsPerSec, 2)
      }×, readrandom ${
        fmt(last.readOpsPerSec / first.readOpsPerSec, 2)
      }×, peak RSS ${fmt(last.peakRssBytes / first.peakRssBytes, 2)}×.`,
    );
  }
  return lines.join("\n");
}

/** Two panels: ops/s by size (fill, read), and peak RSS by size. */
function chart(results: ScaleResult[]): string {
  const W = 640, H = 300, pad = 50;
  const panel = (
    x0: number,
    title: string,
    series: { name: string; color: string; values: number[] }[],
    unit: (v: number) => string,
  ) => {
    const w = (W - 3 * pad) / 2, h = H - 2 * pad;
    const max = Math.max(...series.flatMap((s) => s.values)) * 1.1;
    const out: string[] = [
      `<text x="${x0}" y="${pad - 20}" font-weight="bold">${title}</text>`,
      `<line x1="${x0}" y1="${pad + h}" x2="${x0 + w}" y2="${
        pad + h
      }" stroke="#888"/>`,
    ];
    const bw = w / (results.length * (series.length + 1));
    results.forEach((r, i) => {
      const gx = x0 + i * bw * (series.length + 1) + bw / 2;
      series.forEach((s, j) => {
        const v = s.values[i]!;
        const bh = (v / max) * h;
        const x = gx + j * bw;
        out.push(
          `<rect x="${x.toFixed(1)}" y="${(pad + h - bh).toFixed(1)}" width="${
            (bw - 2).toFixed(1)
          }" height="${bh.toFixed(1)}" fill="${s.color}"/>`,
          `<text x="${(x + bw / 2).toFixed(1)}" y="${
            (pad + h - bh - 4).toFixed(1)
          }" font-size="9" text-anchor="middle">${unit(v)}</text>`,
        );
      });
      out.push(
        `<text x="${(gx + (bw * series.length) / 2).toFixed(1)}" y="${
          pad + h + 14
        }" font-size="11" text-anchor="middle">${fmt(r.n / 1e6)}M keys</text>`,
      );
    });
    series.forEach((s, j) => {
      out.push(
        `<rect x="${x0 + j * 110}" y="${
          H - 18
        }" width="10" height="10" fill="${s.color}"/>`,
        `<text x="${x0 + j * 110 + 14}" y="${
          H - 9
        }" font-size="11">${s.name}</text>`,
      );
    });
    return out.join("\n");
  };
  const k = (v: number) => `${fmt(v / 1000)}k`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    panel(pad, "ops/s", [
      {
        name: "fillrandom",
        color: "#4e79a7",
        values: results.map((r) => r.fillOpsPerSec),
      },
      {
        name: "readrandom",
        color: "#f28e2b",
        values: results.map((r) => r.readOpsPerSec),
      },
    ], k),
    panel(pad * 2 + (W - 3 * pad) / 2, "peak RSS (MiB)", [
      {
        name: "peak RSS",
        color: "#59a14f",
        values: results.map((r) => r.peakRssBytes / 1048576),
      },
    ], (v) => fmt(v)),
    `</svg>`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sizes: { type: "string", default: "1000000,3000000,10000000" },
      reads: { type: "string", default: "1000000" },
      out: { type: "string", default: "bench/results" },
      child: { type: "string" },
      dir: { type: "string" },
    },
  });
  const reads = Number(values.reads);
  if (values.child !== undefined) {
    const n = Number(values.child);
    const result = await runSize(n, Math.min(reads, n), values.dir!);
    console.log(JSON.stringify(result));
    return;
  }
  const sizes = values.sizes!.split(",").map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1000)) {
    throw new Error(`Invalid --sizes "${values.sizes}": integers >= 1000`);
  }
  const results: ScaleResult[] = [];
  for (const n of sizes) {
    const dir = await Deno.makeTempDir({ prefix: "strata_scale_" });
    try {
      console.error(`${fmt(n)} keys…`);
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          "--child",
          String(n),
          "--reads",
          String(reads),
          "--dir",
          dir,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`the ${n}-key run failed`);
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      results.push(result);
      console.error(JSON.stringify(result));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const when = new Date().toISOString();
  const md = [
    `# Strata as the data grows`,
    "",
    `${when}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores; reproduce with \`deno task bench:scale --sizes ${values.sizes}\`.`,
    "",
    "![fillrandom and readrandom ops/s, peak RSS](scale.svg)",
    "",
    table(results),
    "",
  ].join("\n");
  await Deno.mkdir(values.out!, { recursive: true });
  await Deno.writeTextFile(`${values.out}/scale.md`, md);
  await Deno.writeTextFile(`${values.out}/scale.svg`, chart(results));
  await Deno.writeTextFile(
    `${values.out}/scale.json`,
    JSON.stringify(results, null, 2) + "\n",
  );
  console.log(md);
}

if (import.meta.main) await main();
