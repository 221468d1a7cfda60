// The layout of lib/: one folder per subsystem, and data flows one way. A
// file may import from its own folder and from folders of a lower layer,
// never from a folder of its own layer or above (JSDoc
// examples aside: they show a part in use with whatever helps).

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = fileURLToPath(new URL("../../lib/", import.meta.url));

/** Layers, bottom first: a folder may import the folders of lower layers. */
const LAYERS: string[][] = [
  ["util"],
  ["fs"],
  ["iterator"],
  ["wal", "memtable", "sstable"],
  ["manifest"],
  ["compaction"],
  ["engine"],
  ["tools", "kv"],
  ["server"],
];

function layerOf(folder: string): number {
  const i = LAYERS.findIndex((names) => names.includes(folder));
  assert.ok(i >= 0, `lib/${folder}/ is in no layer of this test`);
  return i;
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

Deno.test("lib/: every file sits in a subsystem folder", () => {
  for (const e of Deno.readDirSync(LIB)) {
    assert.ok(e.isDirectory, `lib/${e.name} is not in a subsystem folder`);
    layerOf(e.name);
  }
});

Deno.test("lib/: imports flow from upper layers to lower ones only", () => {
  const problems: string[] = [];
  for (const file of tsFiles(LIB)) {
    const from = relative(LIB, file).split("/")[0]!;
    // Code only: JSDoc lines (examples) start with " * ".
    const text = Deno.readTextFileSync(file).split("\n")
      .filter((line) => !/^\s*\*/.test(line)).join("\n");
    for (const m of text.matchAll(/from\s+"(\.\.?\/[^"]+\.ts)"/g)) {
      const target = resolve(dirname(file), m[1]!);
      const rel = relative(LIB, target);
      if (rel.startsWith("..")) {
        problems.push(`${relative(LIB, file)} imports ${m[1]} outside lib/`);
        continue;
      }
      const to = rel.split("/")[0]!;
      if (to !== from && layerOf(to) >= layerOf(from)) {
        problems.push(`lib/${relative(LIB, file)} imports lib/${rel}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
