import assert from "node:assert/strict";
import { join } from "node:path";
import { DirSink } from "./dir.ts";
import { KeyRejectedError } from "./sink.ts";
import { readSpooled, scanSpool, writeSpooled } from "./spool_files.ts";
import { silentLogger } from "../log.ts";

/** A temp dir with `out/` (the sink's root or state dir) and `outside/` (must stay untouched). */
async function withDirs(fn: (out: string, outside: string) => Promise<void>): Promise<void> {
  const top = await Deno.makeTempDir({ prefix: "nofollow-test-" });
  const out = join(top, "out");
  const outside = join(top, "outside");
  await Deno.mkdir(out);
  await Deno.mkdir(outside);
  try {
    await fn(out, outside);
  } finally {
    await Deno.remove(top, { recursive: true });
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) found.push(e.name);
  return found.sort();
}

async function refused(p: Promise<unknown>): Promise<KeyRejectedError> {
  const e = await p.then(() => null, (e) => e);
  assert.ok(e instanceof KeyRejectedError, `expected a refusal, got ${e}`);
  return e;
}

Deno.test("DirSink refuses to write through a symlink planted at a leaf directory", () =>
  withDirs(async (out, outside) => {
    await Deno.mkdir(join(out, "node1"));
    await Deno.symlink(outside, join(out, "node1", "ns"));
    const e = await refused(new DirSink(out).put("node1/ns/pod/info.json", bytes("{}")));
    assert.match(e.message, /node1\/ns: is a symlink; refusing to write through it/);
    assert.equal(e.key, "node1/ns/pod/info.json");
    assert.deepEqual(await names(outside), []);
  }));

Deno.test("DirSink refuses to write through a symlink planted at the first directory under its root", () =>
  withDirs(async (out, outside) => {
    await Deno.symlink(outside, join(out, "node1"));
    await refused(new DirSink(out).put("node1/ns/info.json", bytes("{}")));
    assert.deepEqual(await names(outside), []);
  }));

Deno.test("DirSink refuses to replace a symlink planted at the file itself; its target is untouched", () =>
  withDirs(async (out, outside) => {
    const target = join(outside, "precious");
    await Deno.writeTextFile(target, "orig");
    await Deno.mkdir(join(out, "a"));
    await Deno.symlink(target, join(out, "a", "covmeta.ab"));
    const e = await refused(new DirSink(out).put("a/covmeta.ab", bytes("evil")));
    assert.match(e.message, /covmeta\.ab: is a symlink/);
    assert.equal(await Deno.readTextFile(target), "orig");
    assert.ok((await Deno.lstat(join(out, "a", "covmeta.ab"))).isSymlink);
    assert.deepEqual(await names(join(out, "a")), ["covmeta.ab"], "no temp file left");
  }));

Deno.test("DirSink makes directories 0700 and files 0600 whatever the umask", () =>
  withDirs(async (out) => {
    const old = Deno.umask(0);
    try {
      await new DirSink(join(out, "root")).put("a/b/covcounters.x", bytes("c"));
    } finally {
      Deno.umask(old);
    }
    for (const d of ["root", "root/a", "root/a/b"]) {
      assert.equal((await Deno.stat(join(out, d))).mode! & 0o777, 0o700, d);
    }
    assert.equal((await Deno.stat(join(out, "root/a/b/covcounters.x"))).mode! & 0o777, 0o600);
  }));

Deno.test("DirSink removes the temp files a killed run left, and nothing else", () =>
  withDirs(async (out) => {
    await Deno.mkdir(join(out, "a", "b"), { recursive: true });
    const left = join(out, "a", "b", ".covcounters.x.k3j2.tmp");
    await Deno.writeTextFile(left, "half");
    const past = new Date(Date.now() - 3_600_000);
    await Deno.utime(left, past, past);
    await Deno.writeTextFile(join(out, "a", "b", "covcounters.x"), "whole");
    await Deno.writeTextFile(join(out, "a", "notes.tmp"), "not ours: no leading dot");
    const sink = new DirSink(out);
    assert.equal(await sink.removeLeftovers(), 1);
    assert.deepEqual(await names(join(out, "a", "b")), ["covcounters.x"]);
    assert.deepEqual(await names(join(out, "a")), ["b", "notes.tmp"]);
  }));

Deno.test("the spool refuses a symlinked spool directory and never reads through a planted file link", () =>
  withDirs(async (state, outside) => {
    const spool = join(state, "spool");
    // the spool directory itself a link: refused, nothing written outside
    await Deno.symlink(outside, spool);
    await assert.rejects(writeSpooled(spool, "a/b", bytes("x"), 1), /spool: is a symlink/);
    await assert.rejects(scanSpool(spool, silentLogger), /is a symlink/);
    assert.deepEqual(await names(outside), []);
    await Deno.remove(spool);
    // a real spool: 0700/0600 under umask 0
    const old = Deno.umask(0);
    let name: string;
    try {
      name = await writeSpooled(spool, "a/b", bytes("x"), 1);
    } finally {
      Deno.umask(old);
    }
    assert.equal((await Deno.stat(spool)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(join(spool, `${name}.data`))).mode! & 0o777, 0o600);
    // a data file swapped for a link to a secret: not read, and dropped at the next scan
    await Deno.writeTextFile(join(outside, "secret"), "token");
    await Deno.remove(join(spool, `${name}.data`));
    await Deno.symlink(join(outside, "secret"), join(spool, `${name}.data`));
    await assert.rejects(readSpooled(spool, name), /is a symlink/);
    assert.deepEqual(await scanSpool(spool, silentLogger), []);
    assert.deepEqual(await names(spool), []);
    assert.equal(await Deno.readTextFile(join(outside, "secret")), "token");
  }));
