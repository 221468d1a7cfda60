// The seam is whole: no file of lib/ outside lib/fs/ calls the filesystem
// itself, so a MemFs or StrictFs database touches no disk, and a simulated
// power loss covers every byte the engine writes.

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = fileURLToPath(new URL("../../lib/", import.meta.url));
const FILE_CALL =
  /\bDeno\.(open|openSync|create|createSync|readFile|readFileSync|readTextFile|readTextFileSync|writeFile|writeFileSync|writeTextFile|writeTextFileSync|remove|removeSync|rename|renameSync|readDir|readDirSync|stat|statSync|lstat|lstatSync|mkdir|mkdirSync|truncate|truncateSync|link|linkSync|symlink|realPath|realPathSync|makeTempDir|makeTempFile|copyFile|chmod|fsync|fdatasync)\b|from\s+"node:fs(\/promises)?"/;

function* tsFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

Deno.test("fs seam: no file call in lib/ outside lib/fs/", () => {
  const found: string[] = [];
  for (const file of tsFiles(LIB)) {
    const rel = relative(LIB, file);
    if (rel.startsWith("fs/")) continue;
    Deno.readTextFileSync(file).split("\n").forEach((line, i) => {
      // JSDoc examples and comments may show Deno's own calls.
      if (/^\s*(\*|\/\/)/.test(line)) return;
      if (FILE_CALL.test(line)) {
        found.push(`lib/${rel}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(found, []);
});

Deno.test("fs seam: the check sees a file call", () => {
  assert.ok(FILE_CALL.test(`  const f = Deno.openSync(path);`));
  assert.ok(FILE_CALL.test(`import { readSync } from "node:fs";`));
  assert.ok(!FILE_CALL.test(`  fs.openReadable(path);`));
});
