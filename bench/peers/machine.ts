/**
 * A description of the machine a benchmark ran on, for the report's
 * "machine" line: numbers mean little without it.
 *
 * @module
 */

/** What the report says about the machine. */
export interface MachineInfo {
  /** CPU model name from /proc/cpuinfo (or "unknown CPU"). */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Total RAM in bytes. */
  memoryBytes: number;
  /** OS and kernel release. */
  os: string;
  /** Deno version. */
  deno: string;
  /** File system type holding the benchmark directories (from /proc/mounts). */
  fileSystem: string;
  /** ISO date and time (UTC) of the run. */
  date: string;
  /**
   * 1-minute load averages when the run started and ended: other work on the
   * machine makes the numbers noisy, and this says how much there was.
   */
  load: number[];
}

/**
 * Describes this machine.
 *
 * @param dir A directory on the file system the benchmark writes to.
 * @returns The machine description.
 *
 * @example
 * ```ts
 * import { describeMachine } from "./machine.ts";
 * const m = describeMachine(Deno.cwd());
 * if (m.cores < 1 || m.deno === "") throw new Error("bad");
 * ```
 */
export function describeMachine(dir: string): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: navigator.hardwareConcurrency,
    memoryBytes: Deno.systemMemoryInfo().total,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    fileSystem: fileSystemOf(dir),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    load: [loadAverage()].filter((x) => !Number.isNaN(x)),
  };
}

/**
 * The 1-minute load average (from /proc/loadavg).
 *
 * @returns Runnable tasks averaged over a minute; `NaN` where unknown.
 *
 * @example
 * ```ts
 * import { loadAverage } from "./machine.ts";
 * const load = loadAverage();
 * if (load < 0) throw new Error("bad");
 * ```
 */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(
      Deno.readTextFileSync("/proc/cpuinfo"),
    );
    if (m !== null) return m[1]!.trim().replace(/\s+/g, " ");
  } catch {
    // Not Linux: fall through.
  }
  return "unknown CPU";
}

function fileSystemOf(dir: string): string {
  try {
    const path = Deno.realPathSync(dir);
    let best = { mount: "", type: "unknown" };
    for (const line of Deno.readTextFileSync("/proc/mounts").split("\n")) {
      const [, mount, type] = line.split(" ");
      if (mount === undefined || type === undefined) continue;
      const inside = path === mount ||
        path.startsWith(mount.endsWith("/") ? mount : `${mount}/`);
      if (inside && mount.length >= best.mount.length) best = { mount, type };
    }
    return best.type;
  } catch {
    return "unknown";
  }
}
