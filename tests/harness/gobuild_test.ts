/** The Go builder caches by content, builds atomically and names failures. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildGo, covserverBinary, GoBuildError, hasGo, isRoot, repoRoot } from "./gobuild.ts";
import { cacheDir } from "./cache.ts";

const ignore = !(await hasGo());

async function tempModule(main: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gobuild-test-" });
  await Deno.writeTextFile(join(dir, "go.mod"), "module example.test/gobuildtest\n\ngo 1.22\n");
  await Deno.writeTextFile(join(dir, "main.go"), main);
  return dir;
}

Deno.test("gobuild: repoRoot is the absolute repository root", async () => {
  assert.ok(repoRoot.startsWith("/") && !repoRoot.endsWith("/"));
  assert.ok((await Deno.stat(join(repoRoot, "deno.json"))).isFile);
  assert.equal(typeof isRoot(), "boolean");
});

Deno.test({
  name:
    "gobuild: the fixture binary is cached outside the clone under <cache>/go/<hash>/<name> and reused",
  ignore,
  async fn() {
    const a = await covserverBinary("covcache-a");
    assert.ok(a.startsWith(join(cacheDir(), "go") + "/"), a);
    assert.ok(!a.startsWith(repoRoot + "/"), `${a} is inside the clone`);
    assert.equal(a.split("/").at(-1), "covcache-a");
    const before = (await Deno.stat(a)).mtime?.getTime();
    assert.equal(await covserverBinary("covcache-a"), a);
    assert.equal((await Deno.stat(a)).mtime?.getTime(), before, "not rebuilt");
    const b = await covserverBinary("covcache-b");
    assert.notEqual(b, a);
    const plain = await buildGo({
      dir: join(repoRoot, "tests/fixtures/covserver"),
      name: "covcache-a",
      cover: false,
    });
    assert.notEqual(plain, a, "flags are part of the cache key");
  },
});

Deno.test({
  name: "gobuild: changed sources give a new binary; no temp directories are left",
  ignore,
  async fn() {
    const dir = await tempModule('package main\n\nfunc main() { println("one") }\n');
    try {
      const one = await buildGo({ dir, name: "gbt", cover: false });
      await Deno.writeTextFile(
        join(dir, "main.go"),
        'package main\n\nfunc main() { println("two") }\n',
      );
      const two = await buildGo({ dir, name: "gbt", cover: false });
      assert.notEqual(two, one);
      const out = await new Deno.Command(two, { stderr: "piped" }).output();
      assert.equal(new TextDecoder().decode(out.stderr).trim(), "two");
      const leftovers = [];
      for await (const e of Deno.readDir(join(cacheDir(), "go"))) {
        if (e.name.includes(".tmp-")) leftovers.push(e.name);
      }
      // Other test files may be building at the same time; ours are gone.
      const ours = [one, two].map((p) => p.split("/").at(-2));
      assert.deepEqual(leftovers.filter((n) => ours.some((h) => n.startsWith(`${h}.`))), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "gobuild: a failing build names the directory and what Go said",
  ignore,
  async fn() {
    const dir = await tempModule("package main\n\nfunc main() { undefinedThing() }\n");
    try {
      const err = await buildGo({ dir, name: "broken", cover: false }).then(
        () => assert.fail("built a broken program"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof GoBuildError);
      assert.ok(err.message.includes(dir), err.message);
      assert.match(err.message, /undefined: undefinedThing/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("gobuild: a binary name that is not a plain file name is refused", async () => {
  for (const name of ["", "a/b", ".hidden"]) {
    await assert.rejects(buildGo({ dir: repoRoot, name, cover: false }), GoBuildError);
  }
});
