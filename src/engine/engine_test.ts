import assert from "node:assert/strict";
import type { Deps } from "../deps.ts";
import { loadConfig } from "../config.ts";
import { collectorStatus } from "../../tests/doubles/collector_status.ts";
import { Engine } from "./engine.ts";
import type { CollectorHandle, ScanFindings, Stages } from "./stages.ts";
import { Health } from "../health.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { createSystem } from "../system.ts";
import type { Candidate, ContainerInfo, Target } from "../target.ts";

function container(id: string, podUid: string): ContainerInfo {
  return {
    id,
    sandboxId: `sb-${podUid}`,
    name: `c-${id}`,
    podName: `pod-${podUid}`,
    namespace: "ns",
    podUid,
    pid: 100,
    imageRef: "img",
    network: "POD",
    podIp: "10.244.0.2",
    coveragePort: 53700,
  };
}

function cand(c: ContainerInfo | null, port: number, inode: number): Candidate {
  return {
    owner: c ? { kind: "container", container: c } : { kind: "host" },
    host: c ? c.podIp : "127.0.0.1",
    port,
    inode,
    pids: [100],
  };
}

function harness(kinds: Record<number, "coverage" | "plain" | "wrong-pid" | "silent" | "throws">) {
  const config = loadConfig({ "scan-interval": "1h" }, {});
  /** `now` is the wall clock (may jump), `mono` the monotonic one (only goes forward). */
  const clock = { now: 1_000_000, mono: 0 };
  const deps: Deps = {
    config,
    log: silentLogger,
    metrics: new Metrics(),
    health: new Health(),
    system: { ...createSystem("/"), now: () => clock.now, monotonic: () => clock.mono },
  };
  let view: ScanFindings = { candidates: [], containers: [], crictlOk: true };
  const probed: number[] = [];
  const pulls: string[] = [];
  let scans = 0;
  let gate: Promise<void> = Promise.resolve();
  const ends = new Map<string, (r: string) => void>();
  const parts: Stages = {
    scan: async () => {
      scans++;
      await gate;
      return view;
    },
    probe: (c) => {
      probed.push(c.port);
      const k = kinds[c.port];
      if (k === "throws") return Promise.reject(new Error("EIO reading /proc"));
      return Promise.resolve(
        k === "plain"
          ? { kind: "not-coverage", status: 404 }
          : k === "silent"
          ? { kind: "error", error: "timed out" }
          : { kind: "coverage", identity: { binary: `b${c.port}`, pid: 1, extra: {} } },
      );
    },
    attribute: (c) => Promise.resolve(kinds[c.port] === "wrong-pid" ? null : 4242),
    collector: (t: Target): CollectorHandle => ({
      run: (signal) =>
        new Promise((resolve) => {
          ends.set(t.key, resolve);
          signal.addEventListener("abort", () => resolve("stopped"));
        }),
      pullNow: (reason) => {
        pulls.push(`${t.port}:${reason}`);
        return Promise.resolve({ stored: true });
      },
      status: () => collectorStatus({ port: t.port }),
    }),
  };
  const engine = new Engine(deps, parts);
  return {
    parts,
    deps,
    clock,
    engine,
    probed,
    pulls,
    ends,
    scans: () => scans,
    hold: () => {
      const d = Promise.withResolvers<void>();
      gate = d.promise;
      return () => {
        gate = Promise.resolve();
        d.resolve();
      };
    },
    setView: (v: Partial<ScanFindings>) => view = { ...view, ...v },
  };
}

Deno.test("readiness waits for the first complete scan", async () => {
  const h = harness({});
  assert.equal(h.deps.health.ready(), false);
  await h.engine.scanOnce(new AbortController().signal);
  assert.equal(h.deps.health.ready(), true);
});

Deno.test("a scan probes only candidates not judged before", async () => {
  const a = container("a", "uid-a");
  const h = harness({ 53700: "coverage", 53701: "plain", 53702: "wrong-pid" });
  h.setView({
    containers: [a],
    candidates: [cand(a, 53700, 1), cand(a, 53701, 2), cand(a, 53702, 3)],
  });
  const stop = new AbortController();
  const found = await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(found.map((t) => t.port), [53700]);
  assert.equal(found[0].hostPid, 4242);
  await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(h.probed.sort(), [53700, 53701, 53702], "nothing probed twice");
  assert.equal(h.deps.metrics.total("coverage_collector_attribution_refused_total"), 1);
  assert.equal((h.engine.status().targets as unknown[]).length, 1);
  stop.abort();
});

Deno.test("a socket that goes and comes back with a new inode is probed again", async () => {
  const h = harness({ 53701: "plain" });
  h.setView({ candidates: [cand(null, 53701, 7)] });
  const s = new AbortController().signal;
  await h.engine.scanOnce(s);
  h.setView({ candidates: [] });
  await h.engine.scanOnce(s);
  h.setView({ candidates: [cand(null, 53701, 8)] });
  await h.engine.scanOnce(s);
  assert.deepEqual(h.probed, [53701, 53701]);
});

Deno.test("a collector that ends (identity changed) frees its port for a new probe", async () => {
  const h = harness({ 53700: "coverage" });
  h.setView({ candidates: [cand(null, 53700, 1)] });
  const stop = new AbortController();
  const [t] = await h.engine.scanOnce(stop.signal, { start: true });
  h.ends.get(t.key)!("identity-changed");
  await new Promise((r) => setTimeout(r, 0));
  assert.equal((h.engine.status().targets as unknown[]).length, 0);
  await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(h.probed, [53700, 53700]);
  stop.abort();
});

Deno.test("finalPull pulls the servers of that pod only; finalPullAll pulls every one", async () => {
  const a = container("a", "uid-a");
  const b = container("b", "uid-b");
  const h = harness({ 53700: "coverage", 53710: "coverage" });
  h.setView({ containers: [a, b], candidates: [cand(a, 53700, 1), cand(b, 53710, 2)] });
  const stop = new AbortController();
  await h.engine.scanOnce(stop.signal, { start: true });
  await h.engine.finalPull("uid-b", "pod deleting");
  assert.deepEqual(h.pulls, ["53710:pod deleting"]);
  await h.engine.finalPullAll("shutdown");
  assert.deepEqual(h.pulls.slice(1).sort(), ["53700:shutdown", "53710:shutdown"]);
  stop.abort();
});

Deno.test("finalPull of a pod not yet known scans first, then pulls", async () => {
  const a = container("a", "uid-a");
  const h = harness({ 53700: "coverage" });
  h.setView({ containers: [a], candidates: [cand(a, 53700, 1)] });
  const stop = new AbortController();
  await h.engine.finalPull("uid-a", "pod deleted");
  assert.deepEqual(h.pulls, ["53700:pod deleted"]);
  stop.abort();
});

Deno.test("a burst of triggers while a scan runs costs one more scan", async () => {
  const h = harness({});
  const stop = new AbortController();
  const running = h.engine.run(stop.signal);
  while (h.scans() < 1) await new Promise((r) => setTimeout(r, 1));
  for (let i = 0; i < 50; i++) h.engine.triggerScan(`pod ${i}`);
  while (h.scans() < 2) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.scans(), 2);
  stop.abort();
  await running;
});

Deno.test("finalPull of an unknown pod waits for the scan under way instead of racing it", async () => {
  const a = container("a", "uid-a");
  const h = harness({ 53700: "coverage" });
  h.setView({ containers: [a], candidates: [cand(a, 53700, 1)] });
  const stop = new AbortController();
  const release = h.hold();
  const scanning = h.engine.scanOnce(stop.signal, { start: true, reason: "pod added" });
  const pulling = h.engine.finalPull("uid-a", "pod deleting");
  release();
  await scanning;
  await pulling;
  assert.equal(h.scans(), 1, "one scan, not two");
  assert.deepEqual(h.probed, [53700], "probed once");
  assert.deepEqual(h.pulls, ["53700:pod deleting"]);
  stop.abort();
});

Deno.test("a listener that does not answer is probed again later, less often", async () => {
  const h = harness({ 53705: "silent" });
  h.setView({ candidates: [cand(null, 53705, 9)] });
  const s = new AbortController().signal;
  await h.engine.scanOnce(s);
  await h.engine.scanOnce(s);
  assert.deepEqual(h.probed, [53705], "not again at once");
  h.clock.mono += 5_000;
  await h.engine.scanOnce(s);
  assert.deepEqual(h.probed, [53705, 53705], "again after 5 s");
  h.clock.mono += 5_000;
  await h.engine.scanOnce(s);
  assert.equal(h.probed.length, 2, "the next wait is 10 s");
});

Deno.test("a candidate whose judgement throws does not stop the scan or stick", async () => {
  const h = harness({ 53700: "throws", 53701: "coverage" });
  h.setView({ candidates: [cand(null, 53700, 1), cand(null, 53701, 2)] });
  const stop = new AbortController();
  const found = await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(found.map((t) => t.port), [53701]);
  await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(h.probed.filter((p) => p === 53700).length, 2, "tried again next scan");
  stop.abort();
});

Deno.test("a server whose collector cannot start costs only itself; it is judged again later", async () => {
  const h = harness({ 53700: "coverage", 53701: "coverage", 53702: "coverage" });
  const make = h.parts.collector;
  const made: number[] = [];
  h.parts.collector = (t) => {
    made.push(t.port);
    if (t.port === 53700) throw new Error("hostile identity");
    return make(t);
  };
  h.setView({ candidates: [cand(null, 53700, 1), cand(null, 53701, 2), cand(null, 53702, 3)] });
  const stop = new AbortController();
  await h.engine.scanOnce(stop.signal, { start: true });
  const running = () => (h.engine.status().targets as { port: number }[]).map((t) => t.port);
  assert.deepEqual(running().sort(), [53701, 53702], "the others started");
  await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(h.probed.filter((p) => p === 53700).length, 1, "not again at once");
  h.clock.mono += 5_000;
  await h.engine.scanOnce(stop.signal, { start: true });
  assert.deepEqual(h.probed.filter((p) => p === 53700).length, 2, "judged again, not stuck");
  assert.deepEqual(made.filter((p) => p === 53700).length, 2);
  assert.deepEqual(running().sort(), [53701, 53702]);
  stop.abort();
});

Deno.test("a server that never answers its probe does not delay the start of the others", async () => {
  const h = harness({ 53700: "coverage", 53701: "coverage" });
  const probe = h.parts.probe;
  const hung = Promise.withResolvers<void>();
  h.parts.probe = async (c, signal, timeoutMs) => {
    if (c.port === 53700) await hung.promise; // answers only when released
    return probe(c, signal, timeoutMs);
  };
  const make = h.parts.collector;
  const started = Promise.withResolvers<string>();
  h.parts.collector = (t) => {
    if (t.port === 53701) started.resolve("started");
    return make(t);
  };
  h.setView({ candidates: [cand(null, 53700, 1), cand(null, 53701, 2)] });
  const stop = new AbortController();
  const scan = h.engine.scanOnce(stop.signal, { start: true });
  const running = () => (h.engine.status().targets as { port: number }[]).map((t) => t.port);
  // (the timer only ends a failing run: a fixed engine starts 53701 at once)
  let timer: ReturnType<typeof setTimeout> | undefined;
  const first = await Promise.race([
    started.promise,
    new Promise<string>((r) => timer = setTimeout(() => r("not started"), 5_000)),
  ]);
  clearTimeout(timer);
  assert.equal(first, "started");
  assert.deepEqual(running(), [53701], "collecting while the other probe still hangs");
  hung.resolve();
  assert.deepEqual((await scan).map((t) => t.port).sort(), [53700, 53701]);
  assert.deepEqual(running().sort(), [53700, 53701]);
  stop.abort();
});

Deno.test("without pod events the engine looks for new containers between scans", async () => {
  const h = harness({});
  let looks = 0;
  h.parts.changed = () => Promise.resolve(++looks >= 2);
  h.parts.watchingPods = () => false;
  const stop = new AbortController();
  const running = h.engine.run(stop.signal);
  while (h.scans() < 2) await new Promise((r) => setTimeout(r, 5));
  assert.equal(looks, 2, "the second look saw a change and started a scan (interval is 1 h)");
  stop.abort();
  await running;
  const h2 = harness({});
  let looks2 = 0;
  h2.parts.changed = () => Promise.resolve(++looks2 > 0);
  h2.parts.watchingPods = () => true;
  const stop2 = new AbortController();
  const running2 = h2.engine.run(stop2.signal);
  while (h2.scans() < 1) await new Promise((r) => setTimeout(r, 5));
  h2.engine.triggerScan("pod event");
  while (h2.scans() < 2) await new Promise((r) => setTimeout(r, 5));
  assert.equal(looks2, 0, "pod events arrive: no looks");
  stop2.abort();
  await running2;
});

Deno.test("a burst of deletions of unknown pods while a scan runs costs at most one more scan", async () => {
  const h = harness({});
  const stop = new AbortController();
  const release = h.hold();
  const scanning = h.engine.scanOnce(stop.signal, { start: true, reason: "pod added" });
  const pulls = Array.from(
    { length: 20 },
    (_, i) => h.engine.finalPull(`uid-gone-${i}`, "pod deleted", stop.signal),
  );
  release();
  await scanning;
  const reports = await Promise.all(pulls);
  assert.ok(h.scans() <= 2, `${h.scans()} scans for 20 deletions`);
  assert.deepEqual(reports.flat(), []);
  // and a deletion after the burst still gets a scan of its own
  await h.engine.finalPull("uid-late", "pod deleted", stop.signal);
  assert.equal(h.scans(), 3);
  stop.abort();
});

Deno.test("probe retries wait on the monotonic clock: the wall clock set back or forward by hours neither stalls nor bursts them", async () => {
  const HOURS = 3 * 3_600_000;
  const h = harness({ 53705: "silent" });
  h.setView({ candidates: [cand(null, 53705, 9)] });
  const s = new AbortController().signal;
  await h.engine.scanOnce(s);
  h.clock.now += HOURS; // forward: the 5 s back-off still holds
  await h.engine.scanOnce(s);
  assert.equal(h.probed.length, 1, "no burst after a jump forward");
  h.clock.mono += 5_000;
  h.clock.now -= 2 * HOURS; // back: the retry still comes after 5 s
  await h.engine.scanOnce(s);
  assert.equal(h.probed.length, 2, "no stall after a jump back");
  h.clock.mono += 9_000;
  h.clock.now += HOURS;
  await h.engine.scanOnce(s);
  assert.equal(h.probed.length, 2, "the next wait is 10 s");
  h.clock.mono += 1_000;
  await h.engine.scanOnce(s);
  assert.equal(h.probed.length, 3);
});
