import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../log.ts";
import { entryName, MAX_ENTRY_BYTES, pathOf, PrefixMemory } from "./prefix_memory.ts";
import { readStartTime } from "../procfs/stat.ts";
import { createSystem } from "../system.ts";
import type { Target } from "../target.ts";

const system = createSystem("/");
const HASH = "ab".repeat(16);
const AT = new Date("2026-11-22T10:00:05Z");

/** A host target of process `pid` (its real start time) reporting `binary`. */
async function targetOf(pid: number, binary = "app"): Promise<Target> {
  return {
    key: `_host_:53700:${pid}`,
    owner: { kind: "host" },
    host: "127.0.0.1",
    port: 53700,
    identity: { binary, pid, extra: {} },
    hostPid: pid,
    hostStartTime: (await readStartTime(system, pid)) ?? undefined,
    discoveredAt: new Date(),
  };
}

function open(dir: string, lines: string[] = [], maxEntries?: number) {
  const log = createLogger({ write: (l) => lines.push(l), format: "logfmt" });
  return PrefixMemory.open({ dir, system, log, hostname: "node-1", maxEntries });
}

/** The PID of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("a remembered process is recalled after a restart, from a 0600 file", async () => {
  const dir = join(await Deno.makeTempDir(), "prefixes");
  const t = await targetOf(Deno.pid);
  const first = (await open(dir))!;
  assert.equal(first.recall(t), undefined);
  await first.remember(t, AT, HASH);
  const name = entryName(t.hostPid, t.hostStartTime!, pathOf(t, "node-1"));
  assert.equal((await Deno.stat(join(dir, name))).mode! & 0o777, 0o600);

  const lines: string[] = [];
  const again = (await open(dir, lines))!;
  assert.deepEqual(again.recall(t), { discoveredAt: AT, metaHash: HASH });
  assert.ok(lines.some((l) => /prefix memory loaded.*entries=1/.test(l)), lines.join("\n"));
  // Another binary on the same process (an exec) is another path: not this prefix.
  assert.equal(again.recall(await targetOf(Deno.pid, "other")), undefined);
  await again.forget(t);
  assert.equal((await open(dir))!.recall(t), undefined);
});

Deno.test("entries of processes that are gone, or of another boot, are pruned at start", async () => {
  const dir = join(await Deno.makeTempDir(), "prefixes");
  const live = await targetOf(Deno.pid);
  const pid = await deadPid();
  const dead: Target = { ...live, key: "dead", hostPid: pid, identity: { ...live.identity, pid } };
  const m = (await open(dir))!;
  await m.remember(live, AT, HASH);
  await m.remember(dead, AT, HASH);
  // Another boot: same PID and start time, but written before a reboot.
  const other = { ...live, identity: { ...live.identity, binary: "b2" } };
  await m.remember(other, AT, HASH);
  const otherFile = join(
    dir,
    entryName(other.hostPid, other.hostStartTime!, pathOf(other, "node-1")),
  );
  const entry = JSON.parse(await Deno.readTextFile(otherFile));
  await Deno.writeTextFile(otherFile, JSON.stringify({ ...entry, bootId: "0000-1111" }));

  const again = (await open(dir))!;
  assert.equal(again.size, 1);
  assert.ok(again.recall(live));
  assert.equal(again.recall(dead), undefined);
  assert.equal(again.recall(other), undefined);
  assert.deepEqual([...Deno.readDirSync(dir)].length, 1);
});

Deno.test("a state file that fails validation, or is a symlink, is ignored with its name logged", async () => {
  const root = await Deno.makeTempDir();
  const dir = join(root, "prefixes");
  const t = await targetOf(Deno.pid);
  const m = (await open(dir))!;
  await m.remember(t, AT, HASH);
  const good = entryName(t.hostPid, t.hostStartTime!, pathOf(t, "node-1"));
  const entry = JSON.parse(await Deno.readTextFile(join(dir, good)));
  const bad = {
    "1-2-0123456789abcdef.json": "{not json",
    "3-4-0123456789abcdef.json": JSON.stringify({ ...entry, hostPid: -1 }),
    "5-6-0123456789abcdef.json": JSON.stringify({ ...entry, extra: "x" }),
    "7-8-0123456789abcdef.json": " ".repeat(MAX_ENTRY_BYTES + 1),
    // A valid entry under a name that is not its own.
    "9-9-0123456789abcdef.json": JSON.stringify(entry),
    "notes.txt": "hello",
  };
  for (const [name, text] of Object.entries(bad)) await Deno.writeTextFile(join(dir, name), text);
  // The good entry moved out, and a symlink to it left in its place: not followed.
  await Deno.rename(join(dir, good), join(root, "elsewhere.json"));
  await Deno.symlink(join(root, "elsewhere.json"), join(dir, good));

  const lines: string[] = [];
  const again = (await open(dir, lines))!;
  assert.equal(again.recall(t), undefined);
  assert.equal(again.size, 0);
  for (const name of [...Object.keys(bad), good]) {
    assert.ok(
      lines.some((l) => l.includes("file ignored") && l.includes(join(dir, name))),
      `${name} not named:\n${lines.join("\n")}`,
    );
  }
  assert.ok(lines.some((l) => l.includes(good) && l.includes("symlink")), lines.join("\n"));
});

Deno.test("the memory is bounded: past its entries a process is not remembered", async () => {
  const dir = join(await Deno.makeTempDir(), "prefixes");
  const lines: string[] = [];
  const m = (await open(dir, lines, 2))!;
  const targets = await Promise.all(["a", "b", "c"].map((b) => targetOf(Deno.pid, b)));
  for (const t of targets) await m.remember(t, AT, HASH);
  assert.equal(m.size, 2);
  assert.equal(m.recall(targets[2]), undefined);
  assert.ok(lines.some((l) => l.includes("prefix memory full")), lines.join("\n"));
  assert.equal([...Deno.readDirSync(dir)].length, 2);
});

Deno.test("a symlinked prefixes directory is not used", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "real"));
  await Deno.symlink(join(root, "real"), join(root, "prefixes"));
  const lines: string[] = [];
  assert.equal(await open(join(root, "prefixes"), lines), null);
  assert.ok(lines.some((l) => l.includes("directory unusable")), lines.join("\n"));
});
