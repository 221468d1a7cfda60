/**
 * The SVG chart of a peer comparison, hand-written (no dependency): grouped
 * horizontal bars, one group per workload and one bar per engine, on a log
 * scale because rates span four decades (a durable put vs a cached read);
 * below it, disk and peak RSS on a linear scale.
 *
 * @module
 */

import type { EngineName } from "./engine.ts";
import {
  diskOf,
  diskRows,
  ENGINE_LABELS,
  floorOf,
  formatMiB,
  formatShort,
  type PeerRun,
  rateOf,
  rssOf,
} from "./peer_run.ts";
import { WORKLOADS } from "./workloads.ts";

/** Bar colours (ColorBrewer Dark2: distinct, and readable when printed grey). */
export const ENGINE_COLORS: Record<EngineName, string> = {
  strata: "#d95f02",
  sqlite: "#1b9e77",
  denokv: "#7570b3",
  leveldb: "#e7298a",
  lmdb: "#66a61e",
};

const WIDTH = 980;
const X0 = 230; // left edge of the bars; workload labels sit to its left
const X1 = 860; // where the largest value ends; value labels go to its right
const BAR = 13;
const BAR_GAP = 3;
const GROUP_GAP = 14;

interface Group {
  label: string;
  unit: string;
  values: (number | undefined)[];
  /** Per engine: the workload threw (shown as "error", not "not measured"). */
  failed?: boolean[];
  /** Per engine: its fdatasync floor, drawn as a dashed mark on its bar. */
  floors?: (number | undefined)[];
}

/**
 * Renders the chart.
 *
 * @param run The run.
 * @returns A standalone SVG document.
 *
 * @example
 * ```ts
 * import { renderChart } from "./chart.ts";
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
 * const svg = renderChart(run);
 * if (!svg.startsWith("<svg") || !svg.includes("fillseq")) throw new Error("bad chart");
 * ```
 */
export function renderChart(run: PeerRun): string {
  const engines = run.engines;
  const rates: Group[] = WORKLOADS.filter((w) => run.workloads.includes(w.name))
    .map((w) => {
      const g: Group = {
        label: w.label,
        unit: w.unit,
        values: engines.map((e) => rateOf(run, e, w.name)),
        failed: engines.map((e) =>
          run.lines.some((l) =>
            l.kind === "error" && l.engine === e && l.workload === w.name
          )
        ),
      };
      if (w.name === "fillsync") g.floors = engines.map((e) => floorOf(run, e));
      return g;
    });
  const resources: Group[] = [
    ...diskRows(run).map((d) => ({
      label: d.label,
      unit: "MiB",
      values: engines.map((e) => mib(diskOf(run, e, d.after))),
    })),
    {
      label: "peak RSS",
      unit: "MiB",
      values: engines.map((e) => mib(rssOf(run, e))),
    },
  ];

  const parts: string[] = [];
  let y = 30;
  const m = run.machine;
  parts.push(
    text(
      16,
      y,
      `Strata and its peers — db_bench workloads, N = ${
        run.num.toLocaleString("en-US")
      }`,
      {
        size: 18,
        weight: "bold",
      },
    ),
  );
  y += 20;
  parts.push(
    text(
      16,
      y,
      `${m.cpu}, ${m.cores} cores, ${m.os}, ${m.fileSystem}, Deno ${m.deno}, ${m.date}` +
        (m.load.length > 0
          ? `, load ${m.load.map((x) => x.toFixed(1)).join(" → ")}`
          : ""),
      {
        size: 12,
        fill: "#555",
      },
    ),
  );
  y += 24;
  let lx = 16;
  for (const e of engines) {
    parts.push(
      `<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${
        ENGINE_COLORS[e]
      }"/>`,
    );
    parts.push(text(lx + 17, y, ENGINE_LABELS[e], { size: 13 }));
    lx += 30 + ENGINE_LABELS[e].length * 8;
  }
  if (run.lines.some((l) => l.kind === "floor")) {
    parts.push(dashed(lx + 6, y - 11, y + 2));
    parts.push(text(lx + 12, y, "fdatasync floor", { size: 13 }));
  }
  y += 26;

  parts.push(
    text(16, y, "Throughput per second, log scale (higher is better)", {
      size: 14,
      weight: "bold",
    }),
  );
  y += 8;
  y = panel(parts, rates, engines, y, logScale(rates));
  y += 18;
  parts.push(
    text(16, y, "Disk and memory, MiB, linear scale (lower is better)", {
      size: 14,
      weight: "bold",
    }),
  );
  y += 8;
  y = panel(parts, resources, engines, y, linearScale(resources));
  y += 10;
  parts.push(
    text(16, y, `Reproduce: ${run.command}`, { size: 11, fill: "#555" }),
  );
  y += 12;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" ` +
    `font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${y}" fill="#fff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

interface Scale {
  x: (v: number) => number;
  ticks: { v: number; label: string }[];
  label: (v: number) => string;
}

function logScale(groups: Group[]): Scale {
  const all = groups.flatMap((g) => [...g.values, ...g.floors ?? []]).filter((
    v,
  ): v is number => v !== undefined && v > 0);
  let lo = Math.floor(Math.log10(Math.min(...all, 1e6)));
  // The axis ends just past the largest value, not at the next decade, so
  // the bars use the width; a twentieth of a decade leaves room to breathe.
  let hi = Math.log10(Math.max(...all, 1)) + 0.05;
  if (all.length === 0) [lo, hi] = [0, 6];
  if (hi < lo + 1) hi = lo + 1;
  const x = (v: number) =>
    X0 + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (X1 - X0);
  const ticks = [];
  const decade = (k: number) =>
    k >= 6
      ? `${10 ** (k - 6)}M`
      : k >= 3
      ? `${10 ** (k - 3)}k`
      : String(10 ** k);
  for (let k = lo; k <= Math.floor(hi); k++) {
    ticks.push({ v: 10 ** k, label: decade(k) });
  }
  return { x, ticks, label: formatShort };
}

function linearScale(groups: Group[]): Scale {
  const max = Math.max(
    1,
    ...groups.flatMap((g) => g.values).filter((v): v is number =>
      v !== undefined
    ),
  );
  // The smallest 1-2-5 step that needs at most 8 ticks keeps labels round.
  const mag = 10 ** Math.floor(Math.log10(max));
  const step =
    [0.1, 0.2, 0.5, 1, 2, 5].map((s) => s * mag).find((s) => max / s <= 8) ??
      mag;
  const top = Math.ceil(max / step) * step;
  const x = (v: number) => X0 + (v / top) * (X1 - X0);
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    ticks.push({ v, label: String(Number(v.toFixed(3))) });
  }
  return { x, ticks, label: (v) => v.toFixed(1) };
}

function panel(
  parts: string[],
  groups: Group[],
  engines: EngineName[],
  y: number,
  scale: Scale,
): number {
  const groupHeight = engines.length * (BAR + BAR_GAP) - BAR_GAP;
  const top = y + 16;
  const bottom = top + groups.length * (groupHeight + GROUP_GAP);
  for (const t of scale.ticks) {
    const x = scale.x(t.v).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${
        bottom - GROUP_GAP / 2
      }" stroke="#ddd"/>`,
    );
    parts.push(
      text(Number(x), top - 7, t.label, {
        size: 11,
        fill: "#555",
        anchor: "middle",
      }),
    );
  }
  let gy = top + GROUP_GAP / 2;
  for (const g of groups) {
    const mid = gy + groupHeight / 2;
    parts.push(text(X0 - 10, mid - 1, g.label, { size: 13, anchor: "end" }));
    parts.push(
      text(X0 - 10, mid + 12, g.unit, {
        size: 10,
        fill: "#777",
        anchor: "end",
      }),
    );
    engines.forEach((e, i) => {
      const by = gy + i * (BAR + BAR_GAP);
      const v = g.values[i];
      if (v === undefined) {
        parts.push(
          text(X0 + 4, by + BAR - 2, g.failed?.[i] ? "error" : "not measured", {
            size: 10,
            fill: g.failed?.[i] ? "#c00" : "#999",
          }),
        );
        return;
      }
      const w = Math.max(1, scale.x(v) - X0);
      parts.push(
        `<rect x="${X0}" y="${by}" width="${
          w.toFixed(1)
        }" height="${BAR}" fill="${ENGINE_COLORS[e]}">` +
          `<title>${
            esc(`${ENGINE_LABELS[e]} ${g.label}: ${scale.label(v)} ${g.unit}`)
          }</title></rect>`,
      );
      const floor = g.floors?.[i];
      let labelX = X0 + w + 4;
      if (floor !== undefined) {
        const fx = scale.x(floor);
        parts.push(dashed(fx, by - 1, by + BAR + 1));
        labelX = Math.max(labelX, fx + 4);
      }
      parts.push(text(labelX, by + BAR - 2, scale.label(v), { size: 11 }));
    });
    gy += groupHeight + GROUP_GAP;
  }
  parts.push(
    `<line x1="${X0}" y1="${top - 4}" x2="${X0}" y2="${
      bottom - GROUP_GAP / 2
    }" stroke="#333"/>`,
  );
  return bottom;
}

function mib(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : Number(formatMiB(bytes));
}

function dashed(x: number, y1: number, y2: number): string {
  const xs = x.toFixed(1);
  return `<line x1="${xs}" y1="${y1}" x2="${xs}" y2="${y2}" stroke="#111" stroke-width="1.5" stroke-dasharray="4 3"/>`;
}

function text(
  x: number,
  y: number,
  s: string,
  o: { size: number; weight?: string; fill?: string; anchor?: string },
): string {
  const attrs = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    `font-size="${o.size}"`,
  ];
  if (o.weight !== undefined) attrs.push(`font-weight="${o.weight}"`);
  if (o.fill !== undefined) attrs.push(`fill="${o.fill}"`);
  if (o.anchor !== undefined) attrs.push(`text-anchor="${o.anchor}"`);
  return `<text ${attrs.join(" ")}>${esc(s)}</text>`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
