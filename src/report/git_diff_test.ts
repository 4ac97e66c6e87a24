/** gitDiff runs the real git with a clean environment: a repository's settings and the caller's do not change its output. */

import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { gitDiff, GitDiffError } from "./git_diff.ts";
import { parseUnifiedDiff } from "./unified_diff.ts";
import { git, hasGit } from "../../tests/harness/git.ts";

Deno.test({
  name:
    "settings that would change git's diff (prefixes, colour, external diff, textconv, context, env) do not",
  ignore: !hasGit,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "git-diff-" });
    const marker = join(dir, "ran");
    try {
      await git(dir, "init", "-q");
      await Deno.writeTextFile(join(dir, "a.go"), "1\n2\n3\n4\n5\n6\n7\n8\n");
      await git(dir, "add", "-A");
      await git(dir, "commit", "-q", "-m", "base");
      await Deno.writeTextFile(join(dir, "a.go"), "1\n2\n3\nfour\n5\n6\n7\n8\n");
      const hook = join(dir, "hook.sh");
      await Deno.writeTextFile(hook, `#!/bin/sh\ntouch ${marker}\n`);
      await Deno.chmod(hook, 0o755);
      await Deno.writeTextFile(join(dir, ".gitattributes"), "*.go diff=conv\n");
      await git(dir, "add", ".gitattributes");
      for (
        const [k, v] of [
          ["diff.noprefix", "true"],
          ["diff.mnemonicPrefix", "true"],
          ["color.ui", "always"],
          ["color.diff", "always"],
          ["diff.external", hook],
          ["diff.conv.textconv", hook],
          ["diff.context", "8"],
          ["core.fsmonitor", hook],
        ]
      ) await git(dir, "config", k, v);
      Deno.env.set("GIT_DIR", "/nonexistent");
      Deno.env.set("GIT_EXTERNAL_DIFF", hook);
      let text;
      try {
        text = await gitDiff(dir, "HEAD");
      } finally {
        Deno.env.delete("GIT_DIR");
        Deno.env.delete("GIT_EXTERNAL_DIFF");
      }
      ok(!text.includes("\x1b"), "no colour");
      assertEquals(parseUnifiedDiff(text).find((f) => f.path === "a.go")?.lines, [4]);
      ok(text.includes("@@ -4 +4 @@"), text);
      ok(!(await Deno.stat(marker).then(() => true, () => false)), "no program of the repo ran");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a diff past maxBytes, an unknown ref and a ref like an option are GitDiffErrors",
  ignore: !hasGit,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "git-diff-" });
    try {
      await git(dir, "init", "-q");
      await Deno.writeTextFile(join(dir, "a"), "x\n");
      await git(dir, "add", "-A");
      await git(dir, "commit", "-q", "-m", "base");
      await Deno.writeTextFile(join(dir, "a"), "y\n".repeat(100_000));
      await rejects(gitDiff(dir, "HEAD", { maxBytes: 1000 }), (e) => {
        ok(e instanceof GitDiffError && /larger than 1000 bytes/.test(e.message), String(e));
        return true;
      });
      await rejects(gitDiff(dir, "no-such-ref"), /git exited 128/);
      await rejects(gitDiff(dir, "--output=/tmp/x"), /starts with '-'/);
      ok((await gitDiff(dir, "HEAD")).length > 100_000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
