import assert from "node:assert/strict";
import { BlockCache } from "../../lib/sstable/block_cache.ts";
import { outputNumbersNeeded } from "../../lib/compaction/compaction_job.ts";
import { CompactionRunner } from "../../lib/compaction/compaction_runner.ts";
import { TYPE_DELETE, TYPE_PUT } from "../../lib/iterator/internal_key.ts";
import { MemTable } from "../../lib/memtable/memtable.ts";
import { TableCache } from "../../lib/sstable/table_cache.ts";

const enc = new TextEncoder();

/** Reads every entry of a table as "key@seq:type=value". */
function dumpTable(tables: TableCache, number: number): string[] {
  const out: string[] = [];
  const it = tables.get(number).iterator();
  for (it.seekToFirst(); it.valid(); it.next()) {
    const dec = new TextDecoder();
    out.push(
      `${dec.decode(it.key())}@${it.seq()}:${it.type()}=${
        dec.decode(it.value())
      }`,
    );
  }
  return out;
}

for (const useWorker of [true, false]) {
  Deno.test(`flush and compaction jobs (${useWorker ? "worker" : "main thread"})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "strata_runner_" });
    const tables = new TableCache(dir, new BlockCache(1 << 20));
    const runner = new CompactionRunner(tables, { useWorker });
    try {
      // Two memtables: older puts, newer overwrites and deletes.
      const older = new MemTable();
      const newer = new MemTable();
      for (let i = 0; i < 500; i++) {
        older.add(
          i + 1,
          TYPE_PUT,
          enc.encode(`k${String(i).padStart(3, "0")}`),
          enc.encode(`old${i}`),
        );
      }
      for (let i = 0; i < 500; i += 2) {
        const key = enc.encode(`k${String(i).padStart(3, "0")}`);
        if (i % 4 === 0) {
          newer.add(1000 + i, TYPE_DELETE, key, new Uint8Array());
        } else newer.add(1000 + i, TYPE_PUT, key, enc.encode(`new${i}`));
      }
      const common = {
        kind: "flush" as const,
        dir,
        blockSize: 512,
        bloomBitsPerKey: 10,
      };
      const a = await runner.run({
        ...common,
        image: older.toImage(),
        outputNumber: 10,
      });
      const b = await runner.run({
        ...common,
        image: newer.toImage(),
        outputNumber: 11,
      });
      assert.equal(a.outputs[0]?.entries, 500);
      assert.equal(b.outputs[0]?.entries, 250);

      const merged = await runner.run({
        kind: "compaction",
        dir,
        inputs: [b.outputs[0]!, a.outputs[0]!], // newest first
        overlaps: [],
        blockSize: 512,
        bloomBitsPerKey: 10,
        targetFileSize: 4096,
        smallestSnapshot: Number.MAX_SAFE_INTEGER,
        deeperLevels: [],
        outputNumbers: Array.from({
          length: outputNumbersNeeded(1 << 20, 4096),
        }, (_, i) => 20 + i),
      });
      assert.ok(!merged.aborted);
      assert.ok(
        merged.outputs.length > 1,
        `output cut at the target size: ${
          JSON.stringify(merged.outputs.map((f) => f.size))
        }`,
      );
      const entries = merged.outputs.flatMap((f) =>
        dumpTable(tables, f.number)
      );
      // Shadowed versions and bottom-level tombstones are gone.
      assert.equal(entries.length, 500 - 125);
      assert.ok(entries.includes(`k002@1002:1=new2`));
      assert.ok(!entries.some((e) => e.startsWith("k000@")));
      assert.ok(entries.includes(`k001@2:1=old1`));
    } finally {
      await runner.stop();
      tables.closeAll();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

function bigFlush(dir: string, outputNumber: number) {
  const mem = new MemTable();
  for (let i = 0; i < 20_000; i++) {
    mem.add(i + 1, TYPE_PUT, enc.encode(`key${i}`), new Uint8Array(100));
  }
  return {
    kind: "flush" as const,
    dir,
    image: mem.toImage(),
    blockSize: 4096,
    bloomBitsPerKey: 10,
    outputNumber,
  };
}

Deno.test("stop() aborts a job in flight and waits until its output is gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_runner_" });
  const tables = new TableCache(dir, new BlockCache(0));
  const runner = new CompactionRunner(tables);
  try {
    const job = runner.run(bigFlush(dir, 7));
    const names = () => [...Deno.readDirSync(dir)].map((e) => e.name);
    // Stop once the job has started writing its table.
    while (names().length === 0) await new Promise((r) => setTimeout(r, 1));
    await runner.stop();
    // The worker is done with the directory once stop() resolves, so a
    // reopened database can never race it for a file number.
    assert.deepEqual(names(), []);
    assert.ok((await job).aborted, "the job was still in flight");
  } finally {
    await runner.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two runners share the worker; stopping one leaves the other's job alone", async () => {
  const dirA = await Deno.makeTempDir({ prefix: "strata_runner_" });
  const dirB = await Deno.makeTempDir({ prefix: "strata_runner_" });
  const a = new CompactionRunner(new TableCache(dirA, new BlockCache(0)));
  const b = new CompactionRunner(new TableCache(dirB, new BlockCache(0)));
  try {
    const jobA = a.run(bigFlush(dirA, 7));
    const jobB = b.run(bigFlush(dirB, 8));
    await a.stop();
    assert.ok((await jobA).aborted);
    const resultB = await jobB;
    assert.ok(!resultB.aborted);
    assert.equal(resultB.outputs[0]?.entries, 20_000);
    assert.ok(b.usesWorker);
  } finally {
    await a.stop();
    await b.stop();
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("without read access to lib/, jobs run on the main thread instead of failing", async () => {
  // Deno refuses such a Worker only after it starts; the engine used to
  // take that for a failed job and refuse every write after it.
  const dir = await Deno.makeTempDir({ prefix: "strata_runner_perm_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        new URL("../fixtures/least_permissions_writer.ts", import.meta.url)
          .pathname,
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    assert.equal(stderr, "", "nothing printed (no worker error)");
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.found, 6000);
    assert.ok(report.flushes > 5, `${report.flushes} flushes`);
    assert.ok(report.compactions > 0, `${report.compactions} compactions`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
