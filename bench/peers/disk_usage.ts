/**
 * Disk usage of a benchmark directory and peak memory of this process: the
 * two resource numbers the peer table reports next to throughput.
 *
 * @module
 */

/**
 * Sums the space allocated to every file under `dir` (like `du`: 512-byte
 * blocks, so sparse or preallocated files count what they really occupy;
 * apparent size where the OS reports no blocks).
 *
 * @param dir Directory to measure.
 * @returns Bytes on disk.
 *
 * @example
 * ```ts
 * import { diskUsage } from "./disk_usage.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/a`, new Uint8Array(10_000));
 * if (await diskUsage(dir) < 10_000) throw new Error("too small");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      total += await diskUsage(path);
    } else if (entry.isFile) {
      const st = await Deno.stat(path);
      total += st.blocks !== null ? st.blocks * 512 : st.size;
    }
  }
  return total;
}

/**
 * Peak resident set size of this process (`VmHWM` of /proc/self/status).
 *
 * @returns Bytes, or `undefined` where /proc is unavailable.
 *
 * @example
 * ```ts
 * import { peakRss } from "./disk_usage.ts";
 * const rss = peakRss();
 * if (rss !== undefined && rss < 1 << 20) throw new Error("implausible");
 * ```
 */
export function peakRss(): number | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
