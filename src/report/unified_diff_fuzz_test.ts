/** Diffs of any shape cost a DiffParseError at worst, and time linear in their size. */

import fc from "fast-check";
import { ok } from "node:assert/strict";
import { assertNearLinear, fuzzRuns, mutatedText, outcome } from "../../tests/harness/fuzz.ts";
import { DiffParseError, parseUnifiedDiff } from "./unified_diff.ts";

const SAMPLE = [
  "diff --git a/mod.go b/mod.go",
  "index 1b2c..3d4e 100644",
  "--- a/mod.go",
  "+++ b/mod.go",
  "@@ -3 +3 @@ func f() {",
  "-l3",
  "+changed3",
  "@@ -10,0 +11,2 @@",
  "+new11",
  "+new12",
  "diff --git a/old name.go b/new name.go",
  "similarity index 96%",
  "rename from old name.go",
  "rename to new name.go",
  "--- a/old name.go",
  "+++ b/new name.go",
  "@@ -25 +25 @@",
  "-l25",
  "+changed25",
  'diff --git "a/tab\\tq\\303\\274.go" "b/tab\\tq\\303\\274.go"',
  "new file mode 100644",
  "--- /dev/null",
  '+++ "b/tab\\tq\\303\\274.go"',
  "@@ -0,0 +1,2 @@",
  "+x",
  "+y",
  "\\ No newline at end of file",
  "diff --git a/blob.bin b/blob.bin",
  "Binary files a/blob.bin and b/blob.bin differ",
  "",
].join("\n");

Deno.test("the sample parses", () => {
  const files = parseUnifiedDiff(SAMPLE);
  ok(files.length === 4 && files[2].path === "tab\tqü.go", JSON.stringify(files));
});

Deno.test("mutated diffs: a value or a DiffParseError, never a crash; lines stay in range", () => {
  fc.assert(
    fc.property(mutatedText(SAMPLE), (text) => {
      if (outcome(() => parseUnifiedDiff(text), DiffParseError) === "error") return;
      for (const f of parseUnifiedDiff(text)) {
        for (let i = 0; i < f.lines.length; i++) {
          ok(Number.isInteger(f.lines[i]) && f.lines[i] >= 1 && f.lines[i] <= 2 ** 31 - 1);
          ok(i === 0 || f.lines[i] > f.lines[i - 1]);
        }
      }
    }),
    fuzzRuns(3000),
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
      outcome(() => parseUnifiedDiff(text), DiffParseError);
    }),
    fuzzRuns(2000),
  );
});

Deno.test("cost is linear: many files, one huge hunk, one file repeated, long quoted names", async () => {
  const manyFiles = (n: number) =>
    Array.from({ length: n }, (_, i) => `--- a/f${i}\n+++ b/f${i}\n@@ -1 +1 @@\n-a\n+b\n`).join("");
  const bigHunk = (n: number) => `--- a/x\n+++ b/x\n@@ -1,0 +1,${n} @@\n` + "+a\n".repeat(n);
  const sameFile = (n: number) =>
    Array.from({ length: n }, (_, i) => `--- a/x\n+++ b/x\n@@ -1 +${i + 1} @@\n-a\n+b\n`).join("");
  const quoted = (n: number) => `--- "a/${"\\303\\274".repeat(n)}"\n+++ "b/x"\n`;
  await assertNearLinear("many files", manyFiles, parseUnifiedDiff, { n: 5_000 });
  await assertNearLinear("one big hunk", bigHunk, parseUnifiedDiff, { n: 20_000 });
  await assertNearLinear("one file repeated", sameFile, parseUnifiedDiff, { n: 1_000 });
  await assertNearLinear("long quoted names", quoted, parseUnifiedDiff, { n: 20_000 });
});
