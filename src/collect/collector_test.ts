import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Collector } from "./collector.ts";
import type { CollectorDeps } from "./collector_types.ts";
import { type IdleRule, parseSchedule } from "../units.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import type { System } from "../system.ts";
import {
  fakeBuild,
  makeCounters,
  makeMeta,
  makeTarget,
  MemorySink,
  startFakeCoverageServer,
} from "../../tests/harness/covfiles.ts";

const HASH = fakeBuild("app").hash;
const PREFIX = "worker-1/demo/app-7d9f/app/20261122T100005Z/quay.io-ocp-app-sha256-abcd/app";

/** A System whose /proc/<pid>/status exists while `alive` is true (and `readsLeft` lasts). */
function fakeSystem(
  pid: number,
  nspid = 1,
): System & { alive: boolean; readsLeft: number; started: string; state: string; reads: string[] } {
  const sys = {
    alive: true,
    readsLeft: Infinity,
    started: "5000",
    state: "S",
    reads: [] as string[],
    hostRoot: "/",
    hostPath: (p: string) => p,
    readText(path: string): Promise<string> {
      sys.reads.push(path);
      if (path === `/proc/${pid}/status` && sys.alive && sys.readsLeft-- > 0) {
        return Promise.resolve(`Name:\tapp\nState:\tS (sleeping)\nNSpid:\t${pid}\t${nspid}\n`);
      }
      if (path === `/proc/${pid}/stat` && sys.alive) {
        const rest = `${sys.state} 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0`;
        return Promise.resolve(`${pid} (app) ${rest} ${sys.started} 1000 10\n`);
      }
      return Promise.reject(new Deno.errors.NotFound(`${path}: no such file`));
    },
    readBytes: () => Promise.reject(new Error("unused")),
    readLink: () => Promise.reject(new Error("unused")),
    readDir: () => Promise.reject(new Error("unused")),
    run: () => Promise.reject(new Error("unused")),
    now: () => Date.now(),
    monotonic: () => performance.now(),
  };
  return sys;
}

function setup(schedule = "100ms", pullIdle: IdleRule | null = null) {
  const server = startFakeCoverageServer({ binary: "app", pid: 1, hash: HASH, value: 1 });
  const sink = new MemorySink();
  const system = fakeSystem(4242);
  const metrics = new Metrics();
  const deps: CollectorDeps = {
    sink,
    system,
    log: silentLogger,
    metrics,
    config: {
      pullSchedule: parseSchedule(schedule),
      pullTimeout: 2000,
      maxBody: 1 << 20,
      pullIdle,
    },
    hostname: "worker-1",
    nodeName: () => "node-a",
  };
  const collector = new Collector(makeTarget({ port: server.port }), deps);
  return { server, sink, system, metrics, collector, signal: new AbortController().signal };
}

Deno.test("first pull is full, later ones nometa; meta and info once; slots alternate; unchanged skipped", async () => {
  const { server, sink, metrics, collector, signal } = setup();
  try {
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    assertEquals((await collector.pullNow("test", signal)).result, "unchanged");
    server.state.value = 2;
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    server.state.value = 3;
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    assertEquals(server.requests, [
      "/coverage",
      "/coverage?nometa=1",
      "/coverage?nometa=1",
      "/coverage?nometa=1",
    ]);
    assertEquals(sink.puts, [
      `${PREFIX}/covmeta.${HASH}`,
      `${PREFIX}/info.json`,
      `${PREFIX}/covcounters.${HASH}.1.1`,
      `${PREFIX}/covcounters.${HASH}.1.2`,
      `${PREFIX}/covcounters.${HASH}.1.1`,
    ]);
    assertEquals(sink.objects.get(`${PREFIX}/covmeta.${HASH}`), makeMeta(HASH));
    assertEquals(sink.objects.get(`${PREFIX}/covcounters.${HASH}.1.1`), makeCounters(HASH, 3));
    assertEquals(sink.objects.get(`${PREFIX}/covcounters.${HASH}.1.2`), makeCounters(HASH, 2));
    const info = JSON.parse(new TextDecoder().decode(sink.objects.get(`${PREFIX}/info.json`)));
    assertEquals([info.binary, info.pid, info.nodeName], ["app", 1, "node-a"]);
    assertEquals(metrics.value("coverage_collector_skipped_unchanged_total"), 1);
    assertEquals(metrics.value("coverage_collector_pulls_total", { result: "ok" }), 4);
    assertEquals(metrics.value("coverage_collector_stores_total", { result: "ok" }), 5);
    const s = collector.status();
    assertEquals([s.namespace, s.pod, s.binary, s.pulls, s.stores], [
      "demo",
      "app-7d9f",
      "app",
      4,
      5,
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("bad data is rejected and counted, and polling goes on", async () => {
  const { server, sink, metrics, collector, signal } = setup();
  try {
    server.state.countersHash = "ffeeddccbbaa99887766554433221100";
    const bad = await collector.pullNow("test", signal);
    assertEquals(bad.result, "rejected");
    assertEquals(metrics.value("coverage_collector_pulls_total", { result: "hash" }), 1);
    assertEquals(sink.puts, []);
    server.state.countersHash = undefined;
    server.state.rawBody = "{not json";
    assertEquals((await collector.pullNow("test", signal)).result, "rejected");
    assertEquals(metrics.value("coverage_collector_pulls_total", { result: "json" }), 1);
    server.state.rawBody = undefined;
    server.state.status = 500;
    assertEquals((await collector.pullNow("test", signal)).result, "failed");
    assertEquals(metrics.value("coverage_collector_pulls_total", { result: "status" }), 1);
    assertEquals(collector.status().lastError?.includes("HTTP 500"), true);
    server.state.status = undefined;
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    assertEquals(server.requests.at(-1), "/coverage");
    assertEquals(collector.status().lastError, null);
  } finally {
    await server.close();
  }
});

Deno.test("a failed store is retried by the next pull (full again while meta is not stored)", async () => {
  const { server, sink, metrics, collector, signal } = setup();
  try {
    sink.failNext = 1;
    assertEquals((await collector.pullNow("test", signal)).result, "store-failed");
    assertEquals(metrics.value("coverage_collector_stores_total", { result: "error" }), 1);
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    assertEquals(server.requests, ["/coverage", "/coverage"]);
    // Counters refused: the same bytes are not "unchanged" on the next pull, they are stored.
    server.state.value = 2;
    sink.failNext = 1;
    assertEquals((await collector.pullNow("test", signal)).result, "store-failed");
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    assertEquals(sink.puts.at(-1), `${PREFIX}/covcounters.${HASH}.1.2`);
  } finally {
    await server.close();
  }
});

Deno.test("run ends with identity-changed and stores nothing of the foreign response", async () => {
  const { server, sink, collector } = setup();
  try {
    await collector.pullNow("test", new AbortController().signal);
    const before = sink.puts.length;
    server.state.binary = "other";
    server.state.value = 9;
    const end = await collector.run(AbortSignal.timeout(5000));
    assertEquals(end, "identity-changed");
    assertEquals(sink.puts.length, before);
    const after = await collector.pullNow("late", new AbortController().signal);
    assertEquals([after.result, after.end], ["ended", "identity-changed"]);
  } finally {
    await server.close();
  }
});

Deno.test("run ends with pid-gone when the server's host process disappears", async () => {
  const { server, system, collector } = setup();
  try {
    const ac = new AbortController();
    const running = collector.run(ac.signal);
    await server.waitRequests(2);
    system.alive = false;
    assertEquals(await running, "pid-gone");
    assertEquals(collector.status().ended, "pid-gone");
  } finally {
    await server.close();
  }
});

Deno.test("run stops when its signal aborts", async () => {
  const { server, collector } = setup("10s");
  try {
    const ac = new AbortController();
    const running = collector.run(ac.signal);
    await collector.pullNow("wait", ac.signal);
    ac.abort();
    assertEquals(await running, "stopped");
  } finally {
    await server.close();
  }
});

Deno.test("pullNow waits for a pull under way: one pull at a time per server", async () => {
  const { server, collector, signal } = setup();
  try {
    server.hold();
    const a = collector.pullNow("a", signal);
    const b = collector.pullNow("b", signal);
    await server.waitRequests(1);
    server.release();
    assertEquals([(await a).result, (await b).result], ["stored", "unchanged"]);
    assertEquals(server.maxConcurrent, 1);
  } finally {
    await server.close();
  }
});

Deno.test("a failed pull checks the process again and ends with pid-gone when it is gone", async () => {
  const { server, system, collector, signal } = setup();
  await server.close();
  system.readsLeft = 1;
  const out = await collector.pullNow("test", signal);
  assertEquals([out.result, out.end], ["ended", "pid-gone"]);
});

Deno.test("a process whose PID was reused (other NSpid) counts as gone", async () => {
  const { server, collector, signal } = setup();
  try {
    const other = new Collector(
      makeTarget({ port: server.port, identity: { binary: "app", pid: 7, extra: {} } }),
      {
        sink: new MemorySink(),
        system: fakeSystem(4242, 1),
        log: silentLogger,
        metrics: new Metrics(),
        config: { pullSchedule: parseSchedule("1s"), pullTimeout: 2000, maxBody: 1 << 20 },
        hostname: "h",
      },
    );
    assertEquals((await other.pullNow("test", signal)).end, "pid-gone");
    assertEquals((await collector.pullNow("test", signal)).result, "stored");
    assertEquals(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

/** A collector of host PID 4242 whose start time ("5000") is known, over `system`. */
function startTimedCollector(port: number, system: ReturnType<typeof fakeSystem>): Collector {
  return new Collector(makeTarget({ port, hostStartTime: "5000" }), {
    sink: new MemorySink(),
    system,
    log: silentLogger,
    metrics: new Metrics(),
    config: { pullSchedule: parseSchedule("1s"), pullTimeout: 2000, maxBody: 1 << 20 },
    hostname: "h",
  });
}

Deno.test("the same PID with another start time is another process: the collector ends", async () => {
  const server = startFakeCoverageServer({ binary: "app", pid: 1, hash: HASH, value: 1 });
  try {
    const system = fakeSystem(4242, 1);
    const c = startTimedCollector(server.port, system);
    const signal = new AbortController().signal;
    assertEquals((await c.pullNow("test", signal)).result, "stored");
    system.started = "9000";
    assertEquals((await c.pullNow("test", signal)).end, "pid-gone");
  } finally {
    await server.close();
  }
});

Deno.test("with the start time known a pull reads only /proc/<pid>/stat; a zombie there is gone", async () => {
  const server = startFakeCoverageServer({ binary: "app", pid: 1, hash: HASH, value: 1 });
  try {
    const system = fakeSystem(4242, 1);
    const c = startTimedCollector(server.port, system);
    const signal = new AbortController().signal;
    assertEquals((await c.pullNow("test", signal)).result, "stored");
    assertEquals(system.reads, ["/proc/4242/stat"]);
    system.state = "Z";
    assertEquals((await c.pullNow("test", signal)).end, "pid-gone");
  } finally {
    await server.close();
  }
});

Deno.test("a pull does not wait for the store of the pull before it (a final pull while S3 is slow)", async () => {
  const { server, sink, collector, signal } = setup();
  let open = () => {};
  const gate = new Promise<void>((r) => open = r);
  const put = sink.put.bind(sink);
  const storing = Promise.withResolvers<void>();
  sink.put = async (key: string, data: Uint8Array) => {
    storing.resolve();
    await gate; // the store is slow
    return put(key, data);
  };
  try {
    const a = collector.pullNow("scheduled", signal);
    await storing.promise; // pulled; its store hangs
    server.state.value = 2; // the server covers more, then is told to go away
    const b = collector.pullNow("pod deleting", signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pulledWhileStoring = await Promise.race([
      server.waitRequests(2).then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    open();
    assertEquals(pulledWhileStoring, true, "the second pull waited for the first store");
    assertEquals([(await a).result, (await b).result], ["stored", "stored"]);
    assertEquals(server.maxConcurrent, 1, "still one pull at a time");
  } finally {
    open();
    await server.close();
  }
});

Deno.test("the wall clock set forward by hours does not stall the pull schedule (ages count on the monotonic clock)", async () => {
  const { server, system, collector } = setup("100ms@1m,1h");
  // the target was found a second ago (makeTarget's discovery time) ...
  const found = makeTarget({}).discoveredAt.getTime() + 1_000 - performance.now();
  let jump = 0;
  system.now = () => found + performance.now() + jump;
  const ac = new AbortController();
  const running = collector.run(ac.signal);
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    await server.waitRequests(1);
    jump = 3 * 3_600_000; // the server is seconds old, not 3 h: pulls stay 100 ms apart
    const stalled = new Promise<string>((r) => guard = setTimeout(() => r("stalled"), 30_000));
    const got = await Promise.race([server.waitRequests(3).then(() => "pulled"), stalled]);
    assertEquals(got, "pulled");
  } finally {
    clearTimeout(guard);
    ac.abort();
    await running;
    await server.close();
  }
});

Deno.test("--pull-idle: a server that covered nothing new is pulled at the idle interval, and at the schedule again once a pull covers something", async () => {
  const { server, system, collector } = setup("100ms", { everyMs: 5_000, afterMs: 1_000 });
  let shift = 0; // the monotonic clock set forward: time without new coverage passes at once
  system.monotonic = () => performance.now() + shift;
  const ac = new AbortController();
  const running = collector.run(ac.signal);
  let guard: ReturnType<typeof setTimeout> | undefined;
  const within = (n: number, ms: number) =>
    Promise.race([
      server.waitRequests(n).then(() => "pulled"),
      new Promise<string>((r) => guard = setTimeout(() => r("stalled"), ms)),
    ]).finally(() => clearTimeout(guard));
  try {
    assertEquals(await within(3, 30_000), "pulled"); // first store, then two unchanged pulls
    server.hold();
    await server.waitRequests(4);
    shift += 10_000; // 10 s without new coverage: past the rule's 1 s
    server.release(); // pull 4 is unchanged: the next waits the idle interval
    server.hold();
    const t4 = performance.now();
    await server.waitRequests(5);
    const slow = performance.now() - t4;
    assert(slow >= 4_500, `the pull after a quiet spell came after ${slow}ms, not the idle 5 s`);
    server.state.value = 2; // pull 5 brings new counters: stored, the schedule is fast again
    server.release();
    const t5 = performance.now();
    assertEquals(await within(8, 30_000), "pulled");
    const fast = performance.now() - t5;
    assert(fast < 4_500, `three pulls after new coverage took ${fast}ms: still at the idle 5 s`);
  } finally {
    ac.abort();
    server.release();
    await running;
    await server.close();
  }
});
