// MemFs behaves as the real filesystem does for the calls the engine makes:
// the same operations on MemFs and on DiskFs give the same results.

import assert from "node:assert/strict";
import { DiskFs } from "../../lib/fs/disk_fs.ts";
import {
  type Fs,
  isAlreadyExists,
  isNotFound,
  readFully,
  writeAll,
} from "../../lib/fs/fs.ts";
import { MemFs } from "../../lib/fs/mem_fs.ts";

async function script(fs: Fs, root: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const dir = `${root}/db`;
  await fs.mkdir(dir);
  out.push(fs.stat(dir)?.isDirectory);
  const a = await fs.create(`${dir}/a`);
  writeAll(a, new Uint8Array([1, 2, 3, 4, 5]));
  await a.syncData();
  out.push(
    await fs.create(`${dir}/a`).then(
      () => "created",
      (e) => isAlreadyExists(e),
    ),
  );
  const r = fs.openReadable(`${dir}/a`);
  const buf = new Uint8Array(8);
  out.push(r.size, readFully(r, buf, 1, 7, 2), [...buf]);
  await fs.rename(`${dir}/a`, `${dir}/b`);
  // A handle still reads a renamed (and then removed) file.
  await fs.remove(`${dir}/b`);
  out.push(readFully(r, buf, 0, 2, 0), [...buf.subarray(0, 2)]);
  r.close();
  out.push(
    await fs.remove(`${dir}/b`).then(() => "removed", (e) => isNotFound(e)),
  );
  const c = fs.createSync(`${dir}/c`);
  writeAll(c, new Uint8Array([9, 9, 9]));
  c.close();
  const d = await fs.openAppend(`${dir}/c`, 1);
  writeAll(d, new Uint8Array([7]));
  d.close();
  out.push([...fs.readFile(`${dir}/c`)], fs.stat(`${dir}/c`)?.size);
  // A hard link: a second name for the same bytes, which outlive the first.
  await fs.link(`${dir}/c`, `${dir}/c2`);
  out.push(
    await fs.link(`${dir}/c`, `${dir}/c2`).then(
      () => "linked",
      (e) => isAlreadyExists(e),
    ),
  );
  await fs.remove(`${dir}/c`);
  out.push([...fs.readFile(`${dir}/c2`)]);
  await fs.link(`${dir}/c2`, `${dir}/c`);
  out.push((await fs.list(dir)).sort(), fs.listSync(dir).sort());
  out.push(fs.stat(`${dir}/nothing`));
  const lock = fs.lock(`${dir}/LOCK`, "42\n");
  out.push("release" in lock, fs.lock(`${dir}/LOCK`, "43\n"));
  if ("release" in lock) lock.release();
  const relock = fs.lock(`${dir}/LOCK`, "44\n");
  out.push("release" in relock);
  if ("release" in relock) relock.release();
  await fs.syncDir(dir);
  await fs.removeAll(dir);
  out.push(fs.stat(dir));
  return out;
}

Deno.test("mem fs: the same calls give the same results as the real disk", async () => {
  const root = await Deno.makeTempDir({ prefix: "strata_memfs_" });
  try {
    const disk = await script(new DiskFs(), root);
    const mem = await script(new MemFs(), root);
    assert.deepEqual(mem, disk);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
