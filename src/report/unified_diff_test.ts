/** parseUnifiedDiff on real `git diff` output of a repository made here, judged by git's numstat. */

import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { DiffParseError, parseUnifiedDiff } from "./unified_diff.ts";
import { git, hasGit } from "../../tests/harness/git.ts";

const lines = (n: number, tag = "") => Array.from({ length: n }, (_, i) => `l${i + 1}${tag}`);

/** A repository with one commit, then edits of every kind in the work tree (staged for renames). */
async function repo(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "unified-diff-" });
  await git(dir, "init", "-q");
  await Deno.writeTextFile(join(dir, "mod.go"), lines(20).join("\n") + "\n");
  await Deno.writeTextFile(join(dir, "gone.go"), lines(3).join("\n") + "\n");
  await Deno.writeTextFile(join(dir, "old name.go"), lines(30).join("\n") + "\n");
  await Deno.writeFile(join(dir, "blob.bin"), new Uint8Array([0, 1, 2, 0, 255]));
  await Deno.writeTextFile(join(dir, "tail.go"), "a\nb");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "base");
  const mod = lines(20);
  mod.splice(2, 1, "changed3"); // line 3 changed
  mod.splice(10, 0, "new11", "new12"); // two lines inserted at 11
  mod.splice(17, 2); // two old lines deleted
  await Deno.writeTextFile(join(dir, "mod.go"), mod.join("\n") + "\n");
  await Deno.remove(join(dir, "gone.go"));
  await Deno.writeTextFile(join(dir, 'tab\tand"quote ü.go'), "x\ny\n");
  const renamed = lines(30);
  renamed[24] = "changed25";
  await Deno.writeTextFile(join(dir, "new name.go"), renamed.join("\n") + "\n");
  await Deno.remove(join(dir, "old name.go"));
  await Deno.writeFile(join(dir, "blob.bin"), new Uint8Array([0, 9, 9, 0, 255, 3]));
  await Deno.writeTextFile(join(dir, "tail.go"), "a\nc");
  await git(dir, "add", "-A");
  return dir;
}

Deno.test({
  name: "git diff -U0 and -U3: each file's added lines, renames, deletions, binaries, quoted names",
  ignore: !hasGit,
  async fn() {
    const dir = await repo();
    try {
      for (const u of ["--unified=0", "--unified=3"]) {
        const text = await git(dir, "diff", "--cached", "--no-color", "-M", u, "HEAD");
        const files = parseUnifiedDiff(text);
        const by = new Map(files.map((f) => [f.path, f]));
        assertEquals(by.get("mod.go")?.lines, [3, 11, 12], u);
        assertEquals(by.get("gone.go")?.status, "deleted");
        assertEquals(by.get("gone.go")?.lines, []);
        assertEquals(by.get("new name.go")?.status, "renamed");
        assertEquals(by.get("new name.go")?.oldPath, "old name.go");
        assertEquals(by.get("new name.go")?.lines, [25]);
        assertEquals(by.get("blob.bin")?.binary, true);
        assertEquals(by.get('tab\tand"quote ü.go')?.status, "added");
        assertEquals(by.get('tab\tand"quote ü.go')?.lines, [1, 2]);
        assertEquals(by.get("tail.go")?.lines, [2], "no newline at end of file, both sides");
        // The judge: git's own count of added lines per file (binary: "-").
        const numstat = await git(dir, "diff", "--cached", "-M", "--numstat", "-z", "HEAD");
        const counts = new Map<string, string>();
        const parts = numstat.split("\0");
        for (let i = 0; i < parts.length - 1; i++) {
          const [added, deleted] = parts[i].split("\t", 2);
          const path = parts[i].slice(added.length + deleted.length + 2);
          if (path === "") {
            counts.set(parts[i + 2], added); // a rename: "added\tdeleted\t\0old\0new\0"
            i += 2;
          } else counts.set(path, added);
        }
        assertEquals(
          new Map(files.map((f) => [f.path, f.binary ? "-" : String(f.lines.length)])),
          counts,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a plain diff -u with timestamps, and an empty diff", () => {
  const text = "--- x.go\t2026-01-01 00:00:00\n+++ x.go\t2026-01-02 00:00:00\n" +
    "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";
  assertEquals(parseUnifiedDiff(text), [
    { path: "x.go", status: "modified", binary: false, lines: [2] },
  ]);
  assertEquals(parseUnifiedDiff(""), []);
});

Deno.test("a removed line that reads '--- x' inside a hunk is a line, not a file", () => {
  const text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n--- x\n+++ y\n";
  assertEquals(parseUnifiedDiff(text)[0].lines, [1]);
});

Deno.test("malformed diffs are DiffParseErrors naming the line", () => {
  const cases: [string, string][] = [
    ["--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n+a\n", "ends inside the hunk"],
    ["--- a/x\n+++ b/x\n@@ -1 +1 @@\n+a\n+b\n", "line 5"],
    ["--- a/x\n+++ b/x\n@@ -1 +99999999999 @@\n+a\n", "not @@"],
    ["--- a/x\n+++ b/x\n@@ -1 +2147483647,5 @@\n+a\n", "past"],
    ["--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\nzzz\n", "early"],
    ["diff --git a/x b/x\n@@ -1 +1 @@\n+a\n", "before its file's +++"],
    ["diff --cc x\n@@@ -1,1 -1,1 +1,1 @@@\n", "combined diff"],
  ];
  for (const [text, want] of cases) {
    throws(() => parseUnifiedDiff(text), (e) => {
      ok(e instanceof DiffParseError, String(e));
      ok(e.message.includes(want), `${JSON.stringify(text)}: ${e.message}`);
      return true;
    });
  }
});
