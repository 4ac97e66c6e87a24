import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { silentLogger } from "../log.ts";
import { makeTarget } from "../../tests/harness/covfiles.ts";
import { TimelineCopies } from "./timeline_copies.ts";
import { entryName, pathOf } from "./prefix_memory.ts";

const target = { ...makeTarget(), hostStartTime: "98765" };
const entry = entryName(target.hostPid, "98765", pathOf(target, "n"));
const copyName = entry.replace(/\.json$/, ".cvtl");

Deno.test("a copy reads back; copies of processes the prefix memory no longer holds are removed", async () => {
  const state = await Deno.makeTempDir({ prefix: "timeline-copies-" });
  const dir = join(state, "timelines");
  try {
    const copies = (await TimelineCopies.open(dir, silentLogger, "n", () => true))!;
    const copy = copies.of(target)!;
    assertEquals(await copy.read(100), undefined);
    await copy.write(Uint8Array.from([1, 2, 3]));
    assertEquals(await copy.read(100), Uint8Array.from([1, 2, 3]));
    assertEquals(await copy.read(2), undefined, "over the bound: not read");
    assertEquals(copies.of({ ...target, hostStartTime: undefined }), undefined);

    await Deno.writeFile(join(dir, ".x.tmp"), new Uint8Array(1));
    await Deno.writeFile(join(dir, "someone-else.txt"), new Uint8Array(1));
    await TimelineCopies.open(dir, silentLogger, "n", (e) => e === entry);
    const names = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names(), [copyName, "someone-else.txt"]);
    await TimelineCopies.open(dir, silentLogger, "n", () => false);
    assertEquals(names(), ["someone-else.txt"]);
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("a symlink at a copy's name is neither read nor written through", async () => {
  const state = await Deno.makeTempDir({ prefix: "timeline-copies-" });
  const dir = join(state, "timelines");
  try {
    const copies = (await TimelineCopies.open(dir, silentLogger, "n", () => true))!;
    const outside = join(state, "outside");
    await Deno.writeFile(outside, Uint8Array.from([9]));
    await Deno.symlink(outside, join(dir, copyName));
    const copy = copies.of(target)!;
    assertEquals(await copy.read(100), undefined);
    await copy.write(Uint8Array.from([1]));
    assertEquals(await Deno.readFile(outside), Uint8Array.from([9]));
    await copies.forget(target);
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});
