import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { dirname, join } from "node:path";
import { escapeModule, SourceRoots } from "./source_files.ts";

async function tree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "source-files-" });
  for (const [name, body] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(root, name)), { recursive: true });
    if (typeof body === "string") await Deno.writeTextFile(join(root, name), body);
    else await Deno.writeFile(join(root, name), body);
  }
  return root;
}

const found = (r: { text: string } | { why: string }) => ("text" in r ? r.text : `why: ${r.why}`);

Deno.test("source lookup: import path (GOPATH, GOROOT, vendor), module cache, then module-relative", async () => {
  const root = await tree({
    "checkout/a/a.go": "relative",
    "checkout/example.test/m/b/b.go": "by import path",
    "checkout/b/b.go": "relative b",
    "gopath/src/example.test/m/c/c.go": "gopath",
    "vendored/vendor/example.test/m/d/d.go": "vendor",
    "modcache/github.com/!foo/bar@v1.2.0/x/x.go": "v1.2.0",
    "modcache/github.com/!foo/bar@v1.10.0/y/y.go": "v1.10.0 y",
    "modcache/github.com/!foo/bar@v1.2.0/y/y.go": "v1.2.0 y",
    "gopath/pkg/mod/github.com/!foo/bar@v1.0.0/z/z.go": "pkg/mod",
  });
  try {
    const roots = await SourceRoots.open(
      ["checkout", "gopath", "vendored", "modcache"].map((d) => join(root, d)),
    );
    const m = "example.test/m", foo = "github.com/Foo/bar";
    assertEquals(found(await roots.find(`${m}/a/a.go`, m)), "relative");
    assertEquals(found(await roots.find(`${m}/b/b.go`, m)), "by import path");
    assertEquals(found(await roots.find(`${m}/c/c.go`, m)), "gopath");
    assertEquals(found(await roots.find(`${m}/d/d.go`, m)), "vendor");
    assertEquals(found(await roots.find(`${foo}/x/x.go`, foo)), "v1.2.0");
    // Two versions hold it: the highest, numbers compared as numbers.
    assertEquals(found(await roots.find(`${foo}/y/y.go`, foo)), "v1.10.0 y");
    assertEquals(found(await roots.find(`${foo}/z/z.go`, foo)), "pkg/mod");
    assertEquals(
      found(await roots.find(`${m}/none.go`, m)),
      "why: not found in any --source directory",
    );
    assertEquals(escapeModule("github.com/Foo/BAR"), "github.com/!foo/!b!a!r");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("source lookup: hostile names are never looked up; symlinks may not leave the directory", async () => {
  const root = await tree({
    "outside/secret.go": "secret",
    "src/ok/inner.go": "inner",
    "src/ok/real.go": "real",
  });
  try {
    const src = join(root, "src");
    await Deno.symlink(join(root, "outside", "secret.go"), join(src, "ok", "leak.go"));
    await Deno.symlink(join(root, "outside"), join(src, "ok", "dir"));
    await Deno.symlink(join(src, "ok", "real.go"), join(src, "ok", "alias.go"));
    const roots = await SourceRoots.open([src]);
    for (
      const name of [
        "../outside/secret.go",
        "ok/../../outside/secret.go",
        "/etc/passwd",
        "ok//a.go",
        "ok/./a.go",
        "ok/a\x00.go",
        "ok\\a.go",
        "",
      ]
    ) {
      assertEquals(
        found(await roots.find(name, "")),
        "why: its name is not a clean relative path",
        name,
      );
    }
    // A module path that would climb is not used to strip a prefix.
    assertEquals(
      found(await roots.find("../x/ok/inner.go", "../x")),
      "why: its name is not a clean relative path",
    );
    assertEquals(
      found(await roots.find("m/../ok/inner.go", "m/..")),
      "why: its name is not a clean relative path",
    );
    const leak = found(await roots.find("ok/leak.go", ""));
    ok(leak.includes("resolves outside its --source directory"), leak);
    ok(found(await roots.find("ok/dir/secret.go", "")).includes("resolves outside"));
    assertEquals(found(await roots.find("ok/alias.go", "")), "real");
    assertEquals(found(await roots.find("ok/inner.go", "")), "inner");
    await rejects(SourceRoots.open([join(root, "nope")]), /--source .*nope/);
    await rejects(SourceRoots.open([join(src, "ok", "inner.go")]), /not a directory/);
    const none = await SourceRoots.open([]);
    assertEquals(found(await none.find("ok/inner.go", "")), "why: no --source given");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("source lookup: a file not UTF-8, over the per-file limit or past the report's budget is not shown", async () => {
  const root = await tree({
    "bad.go": new Uint8Array([0x70, 0x61, 0xff, 0xfe, 0x0a]),
    "big.go": "x".repeat(11),
    "a.go": "1234567890",
    "b.go": "abcdefghij",
    "c.go": "",
  });
  try {
    const roots = await SourceRoots.open([root], { maxFileBytes: 10, maxTotalBytes: 15 });
    assertEquals(found(await roots.find("bad.go", "")), "why: it is not valid UTF-8");
    assertEquals(found(await roots.find("big.go", "")), "why: it is over 10 bytes");
    assertEquals(found(await roots.find("a.go", "")), "1234567890");
    assertEquals(roots.left, 5);
    assertEquals(
      found(await roots.find("b.go", "")),
      "why: the report's source budget (15 bytes) is spent",
    );
    assertEquals(found(await roots.find("c.go", "")), "");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
