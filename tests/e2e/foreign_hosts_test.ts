/**
 * The foreign host server filter with real processes: a `_host_` prefix is foreign only when its
 * process descends from none of the test's own; ours stays ours wherever it is filed.
 */

import assert from "node:assert/strict";
import {
  descendsFrom,
  isForeignHostPrefix,
  isForeignRow,
  type OwnProcesses,
  summaryRows,
} from "./foreign_hosts.ts";

const HOST = "testnode/_host_/20261129T120000Z/srv";
const info = (pid: number) => JSON.stringify({ binary: "srv", pid, hostPid: pid });

Deno.test("a _host_ prefix is foreign only when its process descends from none of ours", async () => {
  // `mine` runs a child (its "server"); `other` is a sibling the test does not count as its own.
  const mine = new Deno.Command("sh", {
    args: ["-c", "sleep 60 & echo $!; wait"],
    stdout: "piped",
    stdin: "null",
  }).spawn();
  const other = new Deno.Command("sleep", { args: ["60"], stdin: "null" }).spawn();
  try {
    const reader = mine.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    const child = Number(new TextDecoder().decode(value).trim());
    assert.ok(child > 0);
    const own: OwnProcesses = { roots: new Set([mine.pid]), ports: new Set() };
    assert.equal(await descendsFrom(child, own.roots), true);
    assert.equal(await descendsFrom(other.pid, own.roots), false);
    // Ours filed under _host_ (misfiled or not) stays ours; the sibling's is foreign.
    assert.equal(await isForeignHostPrefix(HOST, info(child), own), false);
    assert.equal(await isForeignHostPrefix(HOST, info(mine.pid), own), false);
    assert.equal(await isForeignHostPrefix(HOST, info(other.pid), own), true);
    // Outside _host_ nothing is foreign: a server filed under a pod is the test's to judge.
    const pod = "testnode/ns/web/app/20261129T120000Z/img/srv";
    assert.equal(await isForeignHostPrefix(pod, info(other.pid), own), false);
    // Unreadable info.json stays ours (so the test's own checks fail on it).
    assert.equal(await isForeignHostPrefix(HOST, "{", own), false);
  } finally {
    for (const p of [mine, other]) {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await mine.stdout.cancel().catch(() => {});
    await Promise.all([mine.status, other.status]);
  }
});

Deno.test("summary rows: a foreign row is _host_ under a foreign prefix, or unstored on a port not ours", () => {
  const stdout = [
    "NAMESPACE  POD  CONTAINER  BINARY   ADDRESS           RESULT  PREFIX / ERROR",
    `_host_     -    -          srv      [::1]:56100       stored  ${HOST}`,
    "_host_     -    -          gone     [::1]:56101       failed  pull: connection refused",
    "_host_     -    -          mine     [::1]:56102       failed  pull: connection refused",
    "e2e-a      web  app        web-srv  10.244.0.2:56100  stored  testnode/e2e-a/web/app/x/y/web-srv",
    "4 of 4 coverage servers stored into dir:/tmp/x",
  ].join("\n");
  const rows = summaryRows(stdout);
  assert.deepEqual(rows.map((r) => [r.namespace, r.binary, r.result]), [
    ["_host_", "srv", "stored"],
    ["_host_", "gone", "failed"],
    ["_host_", "mine", "failed"],
    ["e2e-a", "web-srv", "stored"],
  ]);
  const own: OwnProcesses = { roots: new Set(), ports: new Set([56102]) };
  const foreign = new Map([[HOST, []]]);
  assert.deepEqual(rows.map((r) => isForeignRow(r, foreign, own)), [true, true, false, false]);
  assert.deepEqual(rows.map((r) => isForeignRow(r, new Map(), own)), [false, true, false, false]);
});
