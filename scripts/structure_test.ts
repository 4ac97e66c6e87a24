import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { checkStructure, importsOf, LAYERS } from "./structure.ts";

/** A tree of files under a new temp dir; removed by the caller. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "structure-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, dirname(path)), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

async function offencesOf(files: Record<string, string>) {
  const root = await tree(files);
  try {
    return (await checkStructure(root)).map((o) => `${o.file}:${o.line} → ${o.target}: ${o.why}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const CLEAN = {
  "main.ts": 'import { main } from "./src/app/cli.ts";\nmain();\n',
  "src/app/cli.ts": 'import { run } from "../engine/engine.ts";\nexport const main = run;\n',
  "src/engine/engine.ts": [
    'import type { Stages } from "./stages.ts";',
    'import { probe } from "../probe/probe.ts";',
    'export { log } from "../log.ts";',
    "export const run = (s?: Stages) => probe(s);",
  ].join("\n"),
  "src/engine/stages.ts": "export interface Stages { x: number }\n",
  "src/probe/probe.ts": 'import { log } from "../log.ts";\nexport const probe = log;\n',
  "src/log.ts": "export const log = (x: unknown) => console.log(x);\n",
  // Tests may import anything; a test's import never counts.
  "src/log_test.ts": 'import { main } from "./app/cli.ts";\nmain();\n',
};

Deno.test("a clean tree passes", async () => {
  assert.deepEqual(await offencesOf(CLEAN), []);
});

Deno.test("an import circle between two files is named by its closing import", async () => {
  const found = await offencesOf({
    ...CLEAN,
    "src/engine/stages.ts":
      'import { run } from "./engine.ts";\nexport type Stages = typeof run;\n',
  });
  assert.deepEqual(found, [
    "src/engine/stages.ts:1 → src/engine/engine.ts: closes an import circle: " +
    "src/engine/engine.ts → src/engine/stages.ts → src/engine/engine.ts",
  ]);
});

Deno.test("a circle through three files in the base is caught too", async () => {
  const found = await offencesOf({
    ...CLEAN,
    "src/log.ts": 'import "./a.ts";\nexport const log = 1;\n',
    "src/a.ts":
      '// a comment: import "./nothing.ts"\nimport { b } from "./b.ts";\nexport const a = b;\n',
    "src/b.ts": 'export { log as b } from "./log.ts";\n',
  });
  assert.deepEqual(found, [
    "src/b.ts:1 → src/log.ts: closes an import circle: src/log.ts → src/a.ts → src/b.ts → src/log.ts",
  ]);
});

Deno.test("an upward import (base → folder, stage → engine) fails with file:line → target", async () => {
  const found = await offencesOf({
    ...CLEAN,
    "src/log.ts":
      'import type { Stages } from "./engine/stages.ts";\nexport const log = (x: Stages) => x;\n',
    "src/probe/probe.ts":
      'import { log } from "../log.ts";\n\nimport { run } from "../engine/engine.ts";\n' +
      "export const probe = log || run;\n",
  });
  assert.deepEqual(found.sort(), [
    "src/log.ts:1 → src/engine/stages.ts: imports upward (src/* → src/engine/)",
    "src/probe/probe.ts:3 → src/engine/engine.ts: closes an import circle: " +
    "src/engine/engine.ts → src/probe/probe.ts → src/engine/engine.ts",
    "src/probe/probe.ts:3 → src/engine/engine.ts: imports upward (src/probe/ → src/engine/)",
  ]);
});

Deno.test("folders of one row do not import each other", async () => {
  const found = await offencesOf({
    ...CLEAN,
    "src/doctor/doctor.ts": 'import { r } from "../report/report.ts";\nexport const d = r;\n',
    "src/report/report.ts": "export const r = 1;\n",
  });
  assert.deepEqual(found, [
    "src/doctor/doctor.ts:1 → src/report/report.ts: imports a sibling of its layer (src/doctor/ → src/report/)",
  ]);
});

Deno.test("a folder the table does not know is an offence", async () => {
  const found = await offencesOf({ ...CLEAN, "src/extra/x.ts": "export const x = 1;\n" });
  assert.deepEqual(found, ["src/extra/x.ts:1 → src/extra/x.ts: in no layer of the table"]);
});

Deno.test("import statements are found in every form, and not in strings, comments or regexps", () => {
  const text = [
    'import a from "./a.ts";',
    "import {",
    "  b,",
    "  type C,",
    '} from "../b.ts";',
    'import * as d from "./d.ts";',
    'import "./e.ts";',
    'export * from "./f.ts";',
    'export type { G } from "./g.ts";',
    'const h = await import("./h.ts");',
    "export const x = 1;",
    "export function y() {}",
    'const s = "import z from \\"./no1.ts\\"";',
    "const t = `",
    'import z from "./no2.ts";',
    "`;",
    'const r = /["\']/; /* import z from "./no3.ts" */',
    'import json from "../deno.json" with { type: "json" };',
  ].join("\n");
  assert.deepEqual(importsOf(text), [
    { line: 1, specifier: "./a.ts" },
    { line: 2, specifier: "../b.ts" },
    { line: 6, specifier: "./d.ts" },
    { line: 7, specifier: "./e.ts" },
    { line: 8, specifier: "./f.ts" },
    { line: 9, specifier: "./g.ts" },
    { line: 10, specifier: "./h.ts" },
    { line: 18, specifier: "../deno.json" },
  ]);
});

Deno.test("the repository's own tree holds (the check task runs scripts/structure.ts too)", async () => {
  const root = join(dirname(new URL(import.meta.url).pathname), "..");
  assert.deepEqual(await checkStructure(root), []);
  assert.ok(LAYERS.length > 3);
});
