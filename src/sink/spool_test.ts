import assert from "node:assert/strict";
import { type Sink, SinkError } from "./sink.ts";
import { SpoolingSink, type SpoolOptions } from "./spool.ts";
import { Metrics } from "../metrics.ts";
import { Health } from "../health.ts";
import { createLogger } from "../log.ts";

/** A store that is up, down or refusing, and says when it was called. */
class FakeStore implements Sink {
  readonly description = "s3://fake/base";
  mode: "up" | "down" | "forbidden" = "up";
  stored = new Map<string, string>();
  calls = 0;
  #waiters: Array<() => void> = [];

  put(key: string, data: Uint8Array): Promise<void> {
    this.calls++;
    const wake = this.#waiters.splice(0);
    try {
      if (this.mode === "down") throw new SinkError("S3 PUT answered 503 (after 5 tries)", false);
      if (this.mode === "forbidden") throw new SinkError("S3 PUT answered 403 AccessDenied", true);
      this.stored.set(key, new TextDecoder().decode(data));
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    } finally {
      for (const w of wake) w();
    }
  }

  /** Resolves after the next call. */
  nextCall(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

interface World {
  store: FakeStore;
  metrics: Metrics;
  health: Health;
  lines: string[];
  dir: string;
  open(over?: Partial<SpoolOptions>): Promise<SpoolingSink>;
}

async function world(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool-test-" });
  const w: World = {
    store: new FakeStore(),
    metrics: new Metrics(),
    health: new Health(),
    lines: [],
    dir,
    open: (over = {}) =>
      SpoolingSink.open(w.store, {
        dir: `${dir}/spool`,
        maxBytes: 1000,
        log: createLogger({ write: (l) => w.lines.push(l) }),
        metrics: w.metrics,
        health: w.health,
        backoff: { baseMs: 1, maxMs: 5 },
        permanentRetryMs: 60_000,
        ...over,
      }),
  };
  try {
    await fn(w);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the drain until the spool is empty. */
async function drain(sink: SpoolingSink): Promise<void> {
  const ac = new AbortController();
  const running = sink.run(ac.signal);
  await sink.drained();
  ac.abort();
  await running;
}

Deno.test("a store that is up takes the write directly; nothing is spooled", () =>
  world(async (w) => {
    const sink = await w.open();
    await sink.put("a/b", enc("x"));
    assert.equal(w.store.stored.get("a/b"), "x");
    assert.deepEqual(sink.spooled(), []);
    assert.equal(w.metrics.value("coverage_collector_sink_puts_total", { result: "stored" }), 1);
    assert.equal(w.health.get("sink")?.ready, true);
  }));

Deno.test("store down: the write is spooled, health degraded, then drained when it is back", () =>
  world(async (w) => {
    const sink = await w.open();
    w.store.mode = "down";
    await sink.put("a/b", enc("one"));
    await sink.put("a/c", enc("two"));
    assert.deepEqual(sink.spooled(), ["a/b", "a/c"]);
    assert.equal(w.metrics.value("coverage_collector_spool_bytes"), 6);
    assert.equal(w.health.get("sink")?.degraded, true);
    assert.match(w.health.get("sink")?.reason ?? "", /2 objects \(6 bytes\) spooled/);
    assert.equal(w.store.calls, 1, "the second put went to the spool without trying the store");
    w.store.mode = "up";
    await drain(sink);
    assert.deepEqual([...w.store.stored], [["a/b", "one"], ["a/c", "two"]]);
    assert.equal(w.metrics.value("coverage_collector_spool_bytes"), 0);
    assert.deepEqual(w.health.get("sink"), { ...w.health.get("sink"), ready: true });
    assert.equal(w.health.get("sink")?.degraded, undefined);
    assert.deepEqual([...Deno.readDirSync(`${w.dir}/spool`)], []);
  }));

Deno.test("a newer write of a spooled key replaces the older bytes", () =>
  world(async (w) => {
    const sink = await w.open();
    w.store.mode = "down";
    await sink.put("k/covcounters.1", enc("old"));
    await sink.put("k/other", enc("o"));
    await sink.put("k/covcounters.1", enc("newer"));
    assert.deepEqual(sink.spooled(), ["k/other", "k/covcounters.1"]);
    assert.equal(w.metrics.value("coverage_collector_spool_bytes"), 6);
    w.store.mode = "up";
    await drain(sink);
    assert.equal(w.store.stored.get("k/covcounters.1"), "newer");
  }));

Deno.test("the spool survives a restart and is drained by the next run", () =>
  world(async (w) => {
    w.store.mode = "down";
    const first = await w.open();
    await first.put("n/ns/pod/c/t/img/bin/covmeta.ab", enc("meta"));
    await first.put("n/ns/pod/c/t/img/bin/covcounters.ab.1.1", enc("c1"));
    w.store.mode = "up";
    const second = await w.open();
    assert.deepEqual(second.spooled(), [
      "n/ns/pod/c/t/img/bin/covmeta.ab",
      "n/ns/pod/c/t/img/bin/covcounters.ab.1.1",
    ]);
    assert.ok(w.lines.some((l) => l.includes("spool found from an earlier run")));
    await drain(second);
    assert.equal(w.store.stored.get("n/ns/pod/c/t/img/bin/covmeta.ab"), "meta");
    assert.equal(w.store.stored.get("n/ns/pod/c/t/img/bin/covcounters.ab.1.1"), "c1");
  }));

Deno.test("half-written spool entries are cleaned up on open", () =>
  world(async (w) => {
    await Deno.mkdir(`${w.dir}/spool`, { recursive: true });
    await Deno.writeTextFile(`${w.dir}/spool/abc.data`, "orphan");
    await Deno.writeTextFile(`${w.dir}/spool/.x.tmp`, "partial");
    const sink = await w.open();
    assert.deepEqual(sink.spooled(), []);
    assert.deepEqual([...Deno.readDirSync(`${w.dir}/spool`)], []);
  }));

Deno.test("past maxBytes the oldest objects are evicted, with a log line naming the key", () =>
  world(async (w) => {
    const sink = await w.open({ maxBytes: 10 });
    w.store.mode = "down";
    await sink.put("a/1", enc("aaaa"));
    await sink.put("a/2", enc("bbbb"));
    await sink.put("a/3", enc("cccc"));
    assert.deepEqual(sink.spooled(), ["a/2", "a/3"]);
    assert.equal(w.metrics.value("coverage_collector_spool_bytes"), 8);
    assert.equal(w.metrics.value("coverage_collector_spool_evictions_total"), 1);
    assert.ok(w.lines.some((l) => l.includes("oldest object dropped") && l.includes("object=a/1")));
    const err = await sink.put("a/4", enc("x".repeat(11))).then(
      () => assert.fail("a put larger than the spool resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SinkError && !err.permanent);
    assert.match(err.message, /a\/4 not stored .*11 bytes exceed the spool limit of 10/);
  }));

Deno.test("a permanent refusal makes the sink not ready and is not retried in a storm", () =>
  world(async (w) => {
    const sink = await w.open({ permanentRetryMs: 60_000 });
    w.store.mode = "forbidden";
    await sink.put("a/1", enc("x"));
    for (let i = 0; i < 20; i++) await sink.put(`a/${i + 2}`, enc("y"));
    assert.equal(w.store.calls, 1);
    const ac = new AbortController();
    const called = w.store.nextCall();
    const running = sink.run(ac.signal);
    await called; // the drain tries once, then waits permanentRetryMs
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.store.calls, 2);
    const c = w.health.get("sink");
    assert.equal(c?.ready, false);
    assert.match(c?.reason ?? "", /403 AccessDenied; 21 objects/);
    assert.equal(w.health.ready(), false);
    ac.abort();
    await running;
    assert.equal(w.lines.filter((l) => l.includes("store refuses writes")).length, 1);
  }));

Deno.test("unsafe keys are refused, never spooled", () =>
  world(async (w) => {
    const sink = await w.open();
    w.store.mode = "down";
    await assert.rejects(sink.put("../x", enc("x")), /unsafe object key/);
    assert.deepEqual(sink.spooled(), []);
  }));

Deno.test("spool-max 0 turns spooling off: the store's error is thrown", () =>
  world(async (w) => {
    const sink = await w.open({ maxBytes: 0 });
    w.store.mode = "down";
    await assert.rejects(sink.put("a/b", enc("x")), /503/);
  }));

Deno.test("flush sends every spooled object now, and reports what is left", () =>
  world(async (w) => {
    w.store.mode = "down";
    const sink = await w.open();
    await sink.put("n/a/covmeta.1", enc("meta"));
    await sink.put("n/a/covcounters.1.7.1", enc("c1"));
    assert.equal(sink.spooled().length, 2);
    assert.equal(await sink.flush(new AbortController().signal), 2, "store still down");
    w.store.mode = "up";
    assert.equal(await sink.flush(new AbortController().signal), 0);
    assert.equal(w.store.stored.get("n/a/covcounters.1.7.1"), "c1");
    assert.equal(w.store.stored.get("n/a/covmeta.1"), "meta");
    assert.equal(w.health.get("sink")?.degraded ?? false, false);
  }));
