import assert from "node:assert/strict";
import { join } from "node:path";
import { DirSink, writeAtomic } from "./dir.ts";
import { SinkError } from "./sink.ts";
import { encodeKey, keySegments } from "./key.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dirsink-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("DirSink writes the key's segments as directories", () =>
  withDir(async (dir) => {
    const sink = new DirSink(dir);
    const key = "node1/ns/pod/c/20260101T000000Z/quay.io-img-sha256-ab/kube-apiserver/info.json";
    await sink.put(key, bytes("{}"));
    assert.equal(await Deno.readTextFile(join(dir, ...key.split("/"))), "{}");
    assert.equal(sink.description, `dir:${dir}`);
  }));

Deno.test("DirSink replaces a file whole and leaves no temp files", () =>
  withDir(async (dir) => {
    const sink = new DirSink(dir);
    await sink.put("a/b/covcounters.x.1.1", bytes("first"));
    await sink.put("a/b/covcounters.x.1.1", bytes("second, longer"));
    assert.equal(await Deno.readTextFile(join(dir, "a/b/covcounters.x.1.1")), "second, longer");
    const names = [];
    for await (const e of Deno.readDir(join(dir, "a/b"))) names.push(e.name);
    assert.deepEqual(names, ["covcounters.x.1.1"]);
  }));

Deno.test("writeAtomic never exposes a partial file to a concurrent reader", () =>
  withDir(async (dir) => {
    const path = join(dir, "f");
    const a = new Uint8Array(1 << 20).fill(0x61);
    const b = new Uint8Array(1 << 20).fill(0x62);
    await writeAtomic(path, a);
    const writes = [writeAtomic(path, b), writeAtomic(path, a), writeAtomic(path, b)];
    const seen = new Set<string>();
    let done = false;
    const all = Promise.all(writes).then(() => done = true);
    while (!done) {
      const got = await Deno.readFile(path);
      assert.equal(got.length, 1 << 20);
      seen.add(String.fromCharCode(got[0]) + String.fromCharCode(got[got.length - 1]));
      await new Promise((r) => setTimeout(r, 0));
    }
    await all;
    for (const s of seen) assert.ok(s === "aa" || s === "bb", `mixed file seen: ${s}`);
  }));

for (const bad of ["", "/abs/x", "a//b", "a/../b", "..", "a/./b", "a/b/", "a\\b"]) {
  Deno.test(`DirSink refuses the unsafe key ${JSON.stringify(bad)}`, () =>
    withDir(async (dir) => {
      const err = await new DirSink(join(dir, "out")).put(bad, bytes("x")).then(
        () => assert.fail("accepted"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SinkError && err.permanent, String(err));
      assert.match(err.message, /unsafe object key/);
      await assert.rejects(Deno.stat(join(dir, "out")), Deno.errors.NotFound);
    }));
}

Deno.test("a file in the way of a directory is a permanent error naming the path", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "a"), "file");
    const err = await new DirSink(dir).put("a/b", bytes("x")).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SinkError, String(err));
    assert.match(err.message, new RegExp(`cannot write ${dir}/a/b`));
  }));

Deno.test("keys are encoded per segment", () => {
  assert.equal(encodeKey("h/img:1@sha256:ab/x y/f!"), "h/img%3A1%40sha256%3Aab/x%20y/f%21");
  assert.deepEqual(keySegments("a/b"), ["a", "b"]);
});
