// Crashes at every step of a flush, a compaction and a manifest rewrite:
// a child process kills itself at a named failpoint, and recovery must keep
// every acknowledged write, resurrect no deleted key, and leave a database
// that verifies clean and keeps working.

import assert from "node:assert/strict";
import type { FailpointName } from "../../lib/util/failpoints.ts";
import { DB, verifyDatabase } from "../../mod.ts";

const CHILD =
  new URL("../fixtures/failpoint_writer.ts", import.meta.url).pathname;
const POINTS: FailpointName[] = [
  "flush:table-synced",
  "flush:manifest-appended",
  "compaction:outputs-synced",
  "compaction:manifest-appended",
  "obsolete:deleted-one",
  "manifest:new-written",
  "current:temp-written",
];

for (const point of POINTS) {
  for (const skip of [0, 3]) {
    Deno.test(`a crash at ${point} (hit ${skip + 1}) loses no acknowledged write`, async () => {
      const dir = await Deno.makeTempDir({ prefix: "strata_failpoint_" });
      try {
        // The first hit, and a later one that lands with earlier tables and
        // edits in place.
        const { code, signal, stdout, stderr } = await new Deno.Command(
          Deno.execPath(),
          {
            args: ["run", "-A", CHILD, dir, point, String(skip)],
            stdout: "piped",
            stderr: "piped",
          },
        ).output();
        const lines = new TextDecoder().decode(stdout).split("\n").filter(
          Boolean,
        );
        assert.equal(
          signal,
          "SIGKILL",
          `child exited with ${code}: ${new TextDecoder().decode(stderr)}`,
        );
        const model = new Map<string, string | undefined>();
        for (const line of lines) {
          const [kind, key, value] = line.split(" ");
          model.set(key!, kind === "put" ? value : undefined);
        }
        assert.ok(model.size > 0);
        // The write in flight when the child died (op number lines.length) was
        // not acknowledged: its key may hold the old or the new state.
        const i = lines.length;
        const inFlightKey = `k${String(i % 500).padStart(4, "0")}`;
        const inFlightState = i % 5 === 4 ? undefined : `v${i}`;
        const accept = (key: string, got: string | undefined) =>
          got === model.get(key) ||
          (key === inFlightKey && got === inFlightState);
        const decode = (b: Uint8Array | undefined) =>
          b && new TextDecoder().decode(b);

        const db = await DB.open(dir);
        const recovered = new Map<string, string | undefined>();
        for (const key of model.keys()) {
          const got = decode(await db.get(key));
          assert.ok(
            accept(key, got),
            `key ${key}: ${got} (acknowledged ${model.get(key)})`,
          );
          recovered.set(key, got);
        }
        // Still a working database.
        await db.put("after", "crash");
        await db.flush();
        await db.compact();
        await db.close();
        const report = await verifyDatabase(dir);
        assert.ok(report.ok, JSON.stringify(report.problems));
        const again = await DB.open(dir);
        assert.equal(
          new TextDecoder().decode(await again.get("after")),
          "crash",
        );
        for (const [key, value] of recovered) {
          assert.equal(
            decode(await again.get(key)),
            value,
            `key ${key} after compaction`,
          );
        }
        await again.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}
