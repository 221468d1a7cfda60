/**
 * The fdatasync floor: how many durable 116-byte appends per second a Deno
 * program can do on this disk with nothing else in the way (a loop of
 * `writeSync` + `await syncData()` on a plain file). A single durable writer
 * of any engine cannot beat it; the fillsync target is a fraction of it,
 * measured in the same run because disks and neighbours vary.
 *
 * @module
 */

// A db_bench entry: 16-byte key + 100-byte value.
const RECORD_SIZE = 116;

/** Result of {@link measureFsyncFloor}. */
export interface FsyncFloor {
  /** Appends done. */
  ops: number;
  /** Appends per second. */
  rate: number;
  /** Mean microseconds per append + fdatasync. */
  microsPerOp: number;
}

/**
 * Appends `ops` records of 116 bytes to a new file in `dir`, each followed
 * by an awaited `syncData()` (fdatasync), and removes the file.
 *
 * @param dir Directory on the file system under test.
 * @param ops How many appends.
 * @returns The rate.
 *
 * @example
 * ```ts
 * import { measureFsyncFloor } from "./fsync_floor.ts";
 * const dir = await Deno.makeTempDir();
 * const floor = await measureFsyncFloor(dir, 5);
 * if (!(floor.rate > 0)) throw new Error("bad");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function measureFsyncFloor(
  dir: string,
  ops: number,
): Promise<FsyncFloor> {
  const path = `${dir}/fsync-floor.log`;
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    append: true,
  });
  const record = new Uint8Array(RECORD_SIZE).fill(0x61);
  try {
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) {
      file.writeSync(record);
      await file.syncData();
    }
    const ms = performance.now() - t0;
    return { ops, rate: ops / (ms / 1000), microsPerOp: (ms * 1000) / ops };
  } finally {
    file.close();
    await Deno.remove(path);
  }
}
