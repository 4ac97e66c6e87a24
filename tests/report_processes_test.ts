/**
 * `report` over one process stored under two prefixes (as a restart of a collector that did not
 * keep prefixes left it): counts are the maximum, not the sum, and it is one process. Different
 * processes under the same path (another start time, another host PID) are still added. Real
 * `-cover` data: two snapshots of one fixture process, and one of another; `go tool covdata
 * textfmt` of the right inputs is the judge.
 */

import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { decodeCoverage } from "../src/collect/coverage.ts";
import { startCovserver } from "./harness/covserver.ts";
import { hasGo } from "./harness/gobuild.ts";
import { go } from "./harness/stored.ts";
import { runReport } from "./harness/run_report.ts";

const noGo = !(await hasGo());

interface Snapshot {
  hash: string;
  meta: Uint8Array;
  counters: Uint8Array;
}

/** Two snapshots of one process (the second after more work) and one of another process. */
interface Runs {
  early: Snapshot;
  late: Snapshot;
  other: Snapshot;
  pid: number;
  otherPid: number;
}

async function call(port: number, route: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`);
  await res.body?.cancel();
  if (!res.ok) throw new Error(`GET ${route}: HTTP ${res.status}`);
}

async function snapshot(coveragePort: number): Promise<Snapshot> {
  const res = await fetch(`http://127.0.0.1:${coveragePort}/coverage`);
  const d = decodeCoverage(await res.text(), { expectMeta: true });
  return { hash: d.meta!.hash, meta: d.meta!.bytes, counters: d.counters.bytes };
}

let shared: Promise<Runs> | undefined;
function runs(): Promise<Runs> {
  shared ??= (async () => {
    await using a = await startCovserver();
    await call(a.appPort, "/run/alpha");
    const early = await snapshot(a.coveragePort);
    await call(a.appPort, "/run/alpha");
    await call(a.appPort, "/run/beta?n=3");
    const late = await snapshot(a.coveragePort);
    await using b = await startCovserver();
    await call(b.appPort, "/run/alpha");
    await call(b.appPort, "/run/gamma");
    const other = await snapshot(b.coveragePort);
    return { early, late, other, pid: a.pid, otherPid: b.pid };
  })();
  return shared;
}

const IMG = "quay.io-x-sha256-1";
const BOOT = "0b5e1d2c-3a4f-4e5d-8c7b-6a5f4e3d2c1b";

/** A container prefix of pod `pod` found at `time`: the files as a collector stores them. */
async function storePrefix(
  base: string,
  time: string,
  s: Snapshot,
  info: Record<string, unknown>,
  where: { owner: "container" | "host"; pod?: string } = { owner: "container" },
): Promise<string> {
  const segs = where.owner === "host"
    ? ["node-1", "_host_", time, "covserver"]
    : ["node-1", "ns", where.pod ?? "pod", "app", time, IMG, "covserver"];
  const leaf = join(base, ...segs);
  await Deno.mkdir(leaf, { recursive: true });
  await Deno.writeFile(join(leaf, `covmeta.${s.hash}`), s.meta);
  // The PID the server reports inside its container: 1 for both processes, as in the field.
  await Deno.writeFile(join(leaf, `covcounters.${s.hash}.1.1`), s.counters);
  await Deno.writeTextFile(
    join(leaf, "info.json"),
    JSON.stringify({ binary: "covserver", pid: 1, owner: where.owner, ...info }, null, 2),
  );
  return leaf;
}

const report = runReport;

/** report's json figures (prefixes, processes) and its textfmt text of `base`. */
async function reportOf(base: string): Promise<{ counts: number[]; text: string }> {
  const json = await report(["--format", "json", base]);
  assertEquals(json.code, 0, json.err);
  const b = JSON.parse(json.out).binaries;
  assertEquals(b.length, 1, json.out.slice(0, 300));
  const file = join(await Deno.makeTempDir({ prefix: "report-proc-out-" }), "r.txt");
  const t = await report(["--format", "textfmt", "--out", file, base]);
  assertEquals(t.code, 0, t.err);
  return { counts: [b[0].prefixes, b[0].processes], text: await Deno.readTextFile(file) };
}

/** `go tool covdata textfmt -i <leaves>`. */
async function goText(leaves: string[]): Promise<string> {
  const file = join(await Deno.makeTempDir({ prefix: "report-proc-go-" }), "g.txt");
  await go(["tool", "covdata", "textfmt", "-i", leaves.join(","), "-o", file]);
  return await Deno.readTextFile(file);
}

Deno.test({
  name: "one process in two prefixes (an old collector's restart): max of counts, processes 1",
  ignore: noGo,
  async fn() {
    const r = await runs();
    const base = await Deno.makeTempDir({ prefix: "report-proc-old-" });
    // Written before start times were recorded: host PID and container ID only.
    const old = { hostPid: r.pid, containerId: "c1", podUid: "u1" };
    await storePrefix(base, "20261122T100005Z", r.early, old);
    const later = await storePrefix(base, "20261122T110000Z", r.late, old);
    const got = await reportOf(base);
    assertEquals(got.counts, [2, 1]);
    // The later snapshot alone, not the two added (which is what covdata of both would say).
    const want = await goText([later]);
    assertEquals(got.text, want);
    notDeepStrictEqual(
      want,
      await goText([join(base, "node-1/ns/pod/app/20261122T100005Z", IMG, "covserver"), later]),
    );
  },
});

Deno.test({
  name: "one process in two prefixes with its start time recorded: merged by max",
  ignore: noGo,
  async fn() {
    const r = await runs();
    const base = await Deno.makeTempDir({ prefix: "report-proc-new-" });
    const facts = { hostPid: r.pid, hostStartTime: "4242", bootId: BOOT, containerId: "c1" };
    await storePrefix(base, "20261122T100005Z", r.early, facts);
    const later = await storePrefix(base, "20261122T110000Z", r.late, facts);
    const got = await reportOf(base);
    assertEquals(got.counts, [2, 1]);
    assertEquals(got.text, await goText([later]));
  },
});

Deno.test({
  name: "another process under the same path (start time or host PID differ) is still added",
  ignore: noGo,
  async fn() {
    const r = await runs();
    const facts = { hostPid: r.pid, hostStartTime: "4242", bootId: BOOT, containerId: "c1" };
    const cases: [string, Record<string, unknown>][] = [
      // The PID reused by a later process of the same container: a later start time.
      ["start time", { ...facts, hostStartTime: "9999" }],
      // Another boot: the same PID and start time mean nothing across a reboot.
      ["boot", { ...facts, bootId: BOOT.replace("0b5e", "1c6f") }],
      // Old data: another host PID (a restarted server in the same container).
      ["host PID", { hostPid: r.otherPid, containerId: "c1" }],
    ];
    for (const [what, otherFacts] of cases) {
      const base = await Deno.makeTempDir({ prefix: "report-proc-two-" });
      // Two prefixes of one process (merged to the later) and a third: another process.
      await storePrefix(base, "20261122T100005Z", r.early, facts);
      const later = await storePrefix(base, "20261122T110000Z", r.late, facts);
      const other = await storePrefix(base, "20261122T120000Z", r.other, otherFacts);
      const got = await reportOf(base);
      assertEquals(got.counts, [3, 2], what);
      assertEquals(got.text, await goText([later, other]), what);
    }
  },
});

Deno.test({
  name: "without start times, a host process or counters that went down are not merged",
  ignore: noGo,
  async fn() {
    const r = await runs();
    /** Beside each case, one process in two prefixes (pod-2): merged, so one process more. */
    const pair = async (base: string) => {
      const facts = { hostPid: r.pid, containerId: "c2", owner: "container" };
      await storePrefix(base, "20261122T100005Z", r.early, facts, {
        owner: "container",
        pod: "p2",
      });
      return await storePrefix(base, "20261122T110000Z", r.late, facts, {
        owner: "container",
        pod: "p2",
      });
    };
    // A host process: the same PID may be another process after a reboot.
    const host = await Deno.makeTempDir({ prefix: "report-proc-host-" });
    const hostPair = await pair(host);
    const a = await storePrefix(host, "20261122T100005Z", r.early, { hostPid: r.pid }, {
      owner: "host",
    });
    const b = await storePrefix(host, "20261122T110000Z", r.late, { hostPid: r.pid }, {
      owner: "host",
    });
    const h = await reportOf(host);
    assertEquals(h.counts, [4, 3]);
    assertEquals(h.text, await goText([a, b, hostPair]));
    // The later prefix holds less than the earlier: not one process's growth.
    const down = await Deno.makeTempDir({ prefix: "report-proc-down-" });
    const downPair = await pair(down);
    const old = { hostPid: r.pid, containerId: "c1" };
    const x = await storePrefix(down, "20261122T100005Z", r.late, old);
    const y = await storePrefix(down, "20261122T110000Z", r.other, old);
    const d = await reportOf(down);
    assertEquals(d.counts, [4, 3]);
    assertEquals(d.text, await goText([x, y, downPair]));
    ok(d.text.startsWith("mode: atomic\n"));
  },
});
