/**
 * The markdown report of a peer comparison: one table (rows = workloads,
 * columns = engines' rates, then Strata's ratio to each peer, then disk and
 * peak-RSS rows), the fdatasync floor, Strata's targets, sanity checks, and
 * what each workload and engine setting was.
 *
 * @module
 */

import type { EngineName } from "./engine.ts";
import { KEY_SIZE, VALUE_SIZE } from "./keys.ts";
import {
  diskOf,
  diskRows,
  ENGINE_LABELS,
  floorOf,
  formatCount,
  formatMiB,
  formatRatio,
  type PeerRun,
  rateOf,
  rssOf,
} from "./peer_run.ts";

function baselineRssOf(run: PeerRun, engine: EngineName): number | undefined {
  for (const l of run.lines) {
    if (l.kind === "rss" && l.engine === engine) return l.baselineBytes;
  }
  return undefined;
}
import { WORKLOADS } from "./workloads.ts";

/** One performance target of Strata (from the issue). */
export interface Target {
  /** What is measured. */
  label: string;
  /** The goal as text. */
  goal: string;
  /** The measured value, or `undefined` when it did not run. */
  measured: (run: PeerRun) => number | undefined;
  /** How the measured value is shown. */
  show: (x: number) => string;
  /** Whether the measured value meets the goal. */
  met: (x: number, run: PeerRun) => boolean;
}

const atLeast = (workload: string, min: number, unit: string): Target => ({
  label: WORKLOADS.find((w) => w.name === workload)!.label,
  goal: `≥ ${formatCount(min)} ${unit}`,
  measured: (run) => rateOf(run, "strata", workload),
  show: formatCount,
  met: (x) => x >= min,
});

/** Strata's targets at N = 200,000 with per-op `await`. */
export const TARGETS: readonly Target[] = [
  atLeast("fillseq", 500_000, "ops/s"),
  atLeast("fillrandom", 400_000, "ops/s"),
  atLeast("fillbatch", 900_000, "entries/s"),
  {
    label: "fillsync (1 writer)",
    goal: "≥ 90% of the fdatasync floor",
    measured: (run) => {
      const r = rateOf(run, "strata", "fillsync");
      const floor = floorOf(run, "strata");
      return r === undefined || floor === undefined
        ? undefined
        : (100 * r) / floor;
    },
    show: (x) => `${x.toFixed(0)}% of floor`,
    met: (x) => x >= 90,
  },
  atLeast("fillsync64", 65_000, "ops/s"),
  atLeast("readrandom", 440_000, "ops/s"),
  atLeast("readseq", 700_000, "entries/s"),
  {
    label: "peak RSS",
    goal: "≤ 200 MiB",
    measured: (run) => rssOf(run, "strata"),
    show: (x) => `${formatMiB(x)} MiB`,
    met: (x) => x <= 200 * 1048576,
  },
];

/**
 * Renders the report.
 *
 * @param run The run.
 * @param chartFile File name of the SVG chart written next to the report.
 * @returns Markdown.
 *
 * @example
 * ```ts
 * import { renderReport } from "./report.ts";
 * import type { PeerRun } from "./peer_run.ts";
 * const run: PeerRun = {
 *   num: 1000, seed: 1, engines: ["strata", "sqlite"], workloads: ["fillseq"],
 *   machine: { cpu: "CPU", cores: 2, memoryBytes: 2 ** 30, os: "linux", deno: "2", fileSystem: "ext4", date: "now", load: [] },
 *   lines: [
 *     { kind: "result", engine: "strata", workload: "fillseq", ops: 1000, entries: 1000, seconds: 1, rate: 1000, microsPerOp: 1000 },
 *     { kind: "result", engine: "sqlite", workload: "fillseq", ops: 1000, entries: 1000, seconds: 2, rate: 500, microsPerOp: 2000 },
 *   ],
 *   command: "deno task bench:peers --num 1000",
 * };
 * if (!renderReport(run, "x.svg").includes("| fillseq | ops/s | 1,000 | 500 | 2.00× |")) throw new Error("bad table");
 * ```
 */
export function renderReport(run: PeerRun, chartFile: string): string {
  const m = run.machine;
  const out: string[] = [];
  const peers = run.engines.filter((e) => e !== "strata");
  const hasStrata = run.engines.includes("strata");
  out.push(`# Strata and its peers, N = ${formatCount(run.num)}`, "");
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${
      (m.memoryBytes / 2 ** 30).toFixed(1)
    } GiB RAM, ` +
      `${m.os}, ${m.fileSystem}, Deno ${m.deno}; ${m.date}.` +
      (m.load.length > 0
        ? ` Load average (1 min) at start${
          m.load.length > 1 ? " and end" : ""
        }: ` +
          `${
            m.load.map((x) => x.toFixed(2)).join(" and ")
          } on ${m.cores} cores.`
        : ""),
  );
  out.push(`Reproduce: \`${run.command}\``, "");
  out.push(`![ops/s per engine](${chartFile})`, "");

  const head = [
    "workload",
    "unit",
    ...run.engines.map((e) => ENGINE_LABELS[e]),
  ];
  if (hasStrata) head.push(...peers.map((p) => `Strata ÷ ${ENGINE_LABELS[p]}`));
  out.push(`| ${head.join(" | ")} |`);
  out.push(`|${["---", "---", ...head.slice(2).map(() => "--:")].join("|")}|`);
  const row = (
    label: string,
    unit: string,
    value: (e: EngineName) => number | undefined,
    fmt: (x: number) => string,
    ratios = true,
  ) => {
    const cells = [
      label,
      unit,
      ...run.engines.map((e) => cellText(run, e, label, value(e), fmt)),
    ];
    if (hasStrata && !ratios) cells.push(...peers.map(() => ""));
    if (hasStrata && ratios) {
      const s = value("strata");
      for (const p of peers) {
        const v = value(p);
        cells.push(
          s !== undefined && v !== undefined && v > 0
            ? formatRatio(s / v)
            : "–",
        );
      }
    }
    out.push(`| ${cells.join(" | ")} |`);
  };
  for (const w of WORKLOADS) {
    if (!run.workloads.includes(w.name)) continue;
    row(w.label, w.unit, (e) => rateOf(run, e, w.name), formatCount);
    if (w.name === "fillsync" && run.lines.some((l) => l.kind === "floor")) {
      row("↳ fdatasync floor", "ops/s", (e) => floorOf(run, e), formatCount);
      row(
        "↳ fillsync ÷ floor",
        "%",
        (e) => {
          const r = rateOf(run, e, "fillsync"), f = floorOf(run, e);
          return r === undefined || f === undefined ? undefined : (100 * r) / f;
        },
        (x) => x.toFixed(0),
        false,
      );
    }
  }
  for (const d of diskRows(run)) {
    row(d.label, "MiB", (e) => diskOf(run, e, d.after), formatMiB);
  }
  row("peak RSS", "MiB", (e) => rssOf(run, e), formatMiB);
  row(
    "RSS before the engine loads",
    "MiB",
    (e) => baselineRssOf(run, e),
    formatMiB,
  );
  out.push("");
  out.push(
    "Rates: higher is better, so a ratio above 1× means Strata is faster. Disk and RSS: lower is better, " +
      "so a ratio below 1× means Strata uses less. " +
      `Raw data: ${
        formatMiB(run.num * (KEY_SIZE + VALUE_SIZE))
      } MiB of keys and values.`,
  );
  const floor = run.lines.find((l) => l.kind === "floor");
  if (floor?.kind === "floor") {
    out.push(
      "",
      `fdatasync floor: each engine's process, right before its fillsync (1 writer), appends ` +
        `${formatCount(floor.ops)} records of ${
          KEY_SIZE + VALUE_SIZE
        } bytes to a new plain file, each followed ` +
        "by an awaited `syncData()` (fdatasync). Appending changes the file size, so every fdatasync also " +
        "commits file-system metadata; a log that overwrites preallocated space (SQLite's WAL after a " +
        "checkpoint) can beat this floor.",
    );
  }

  if (hasStrata) {
    out.push(
      "",
      "## Targets (Strata)",
      "",
      "| target | goal | measured | met |",
      "|---|---|--:|:-:|",
    );
    for (const t of TARGETS) {
      const x = t.measured(run);
      out.push(
        `| ${t.label} | ${t.goal} | ${x === undefined ? "–" : t.show(x)} | ${
          x === undefined ? "–" : t.met(x, run) ? "yes" : "**no**"
        } |`,
      );
    }
  }

  out.push("", "## Checks", "");
  const issues = run.lines.flatMap((l) =>
    l.kind === "error"
      ? [`- ${ENGINE_LABELS[l.engine]} ${l.workload}: error: ${l.message}`]
      : l.kind === "result" && l.problem !== undefined
      ? [`- ${ENGINE_LABELS[l.engine]} ${l.workload}: ${l.problem}`]
      : []
  );
  if (issues.length === 0) {
    out.push(
      "Every engine returned the expected counts and values (readrandom samples every 64th value).",
    );
  } else {
    out.push(...issues);
  }

  out.push("", "## Method", "");
  out.push(
    `Keys are ${KEY_SIZE} bytes (zero-padded decimal), values ${VALUE_SIZE} pseudo-random bytes; every engine ` +
      `gets the same keys, values and seeded orders (seed ${run.seed}). Each engine runs in its own process, ` +
      "in a fresh directory, and the single-writer loops `await` every operation. Times are wall clock; " +
      "disk is allocated bytes of the closed database directory; peak RSS is `VmHWM` of the engine's process " +
      "(Deno itself included; the RSS row below it is the same process before it loaded the engine, " +
      "i.e. Deno plus the precomputed keys and values).",
    "",
  );
  for (const w of WORKLOADS) {
    if (run.workloads.includes(w.name)) {
      out.push(`- **${w.label}**: ${w.about}.`);
    }
  }
  out.push("");
  for (const e of run.engines) {
    const info = run.lines.find((l) => l.kind === "info" && l.engine === e);
    if (info?.kind === "info") {
      out.push(`- **${ENGINE_LABELS[e]}**: ${info.describe}.`);
    }
  }
  out.push("");
  return out.join("\n");
}

function cellText(
  run: PeerRun,
  engine: EngineName,
  label: string,
  x: number | undefined,
  fmt: (x: number) => string,
): string {
  if (x !== undefined) {
    const flagged = run.lines.some((l) =>
      l.kind === "result" && l.engine === engine && l.problem !== undefined &&
      WORKLOADS.find((w) => w.name === l.workload)?.label === label
    );
    return flagged ? `${fmt(x)} (!)` : fmt(x);
  }
  const failed = run.lines.some((l) =>
    l.kind === "error" && l.engine === engine &&
    WORKLOADS.find((w) => w.name === l.workload)?.label === label
  );
  return failed ? "error" : "–";
}
