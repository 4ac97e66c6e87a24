import assert from "node:assert/strict";
import { type Sink, SinkError } from "./sink.ts";
import { SpoolingSink } from "./spool.ts";
import { storeOwnerOf, writtenOnce } from "../layout.ts";
import { Metrics } from "../metrics.ts";

/** A store that is down: every write is spooled. */
const down: Sink = {
  description: "s3://down",
  put: () => Promise.reject(new SinkError("S3 PUT answered 503 (after 2 tries)", false)),
};
const bytes = (n: number) => new Uint8Array(n);

async function spool(maxBytes: number, fn: (s: SpoolingSink, m: Metrics) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "spool-evict-" });
  const metrics = new Metrics();
  try {
    await fn(await SpoolingSink.open(down, { dir, maxBytes, writtenOnce, metrics }), metrics);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a full spool evicts counters, oldest first, before the older meta-data", () =>
  spool(100, async (s, m) => {
    await s.put("p/covmeta.ab", bytes(40));
    await s.put("p/info.json", bytes(10));
    await s.put("p/covcounters.ab.1.1", bytes(30));
    await s.put("q/covcounters.cd.2.1", bytes(30)); // 110 bytes: one must go
    assert.deepEqual(s.spooled(), ["p/covmeta.ab", "p/info.json", "q/covcounters.cd.2.1"]);
    assert.equal(m.value("coverage_collector_spool_evictions_total"), 1);
    assert.equal(s.dropped("p/covcounters.ab.1.1"), true, "the writer learns of it");
    assert.equal(s.dropped("p/covcounters.ab.1.1"), false, "once");
  }));

Deno.test("meta-data goes only when nothing else is left, and the writer is told", () =>
  spool(60, async (s) => {
    await s.put("p/covmeta.ab", bytes(40));
    await s.put("p/covcounters.ab.1.1", bytes(50)); // only the meta-data can go: the new one stays
    assert.deepEqual(s.spooled(), ["p/covcounters.ab.1.1"]);
    assert.equal(s.dropped("p/covmeta.ab"), true);
    await s.put("p/covmeta.ab", bytes(5)); // written again: no longer reported as dropped
    assert.equal(s.dropped("p/covmeta.ab"), false);
    assert.equal((s.status() as { droppedKeysRemembered: number }).droppedKeysRemembered, 0);
  }));

const A = "n/ns/a/c/20261122T100005Z/img/app";
const B = "n/ns/b/c/20261122T100005Z/img/app";

Deno.test("a pod spooling a new counters name each pull loses its own, not another pod's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool-evict-" });
  try {
    const s = await SpoolingSink.open(down, {
      dir,
      maxBytes: 100,
      writtenOnce,
      ownerOf: storeOwnerOf,
    });
    await s.put(`${B}/covmeta.ab`, bytes(20));
    await s.put(`${B}/covcounters.ab.1.1`, bytes(20)); // the final pull of pod b
    for (let pid = 70000; pid < 70010; pid++) {
      await s.put(`${A}/covcounters.ab.${pid}.1`, bytes(20));
    }
    assert.deepEqual(s.spooled().filter((k) => k.startsWith(B)), [
      `${B}/covmeta.ab`,
      `${B}/covcounters.ab.1.1`,
    ]);
    assert.equal(s.dropped(`${B}/covcounters.ab.1.1`), false);
    assert.equal(s.spooled().length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an object larger than one pod's share is not spooled; the error names the pod", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool-evict-" });
  try {
    const s = await SpoolingSink.open(down, {
      dir,
      maxBytes: 100,
      podMaxBytes: 30,
      writtenOnce,
      ownerOf: storeOwnerOf,
    });
    await s.put(`${B}/covcounters.ab.1.1`, bytes(30));
    await assert.rejects(
      s.put(`${A}/covcounters.ab.1.1`, bytes(31)),
      /31 bytes exceed one pod's share of the spool \(30 bytes for n\/ns\/a\)/,
    );
    await s.put(`${A}/covcounters.ab.1.2`, bytes(20));
    await s.put(`${A}/covcounters.ab.1.1`, bytes(20)); // 40 bytes of pod a: its oldest goes
    assert.deepEqual(s.spooled(), [`${B}/covcounters.ab.1.1`, `${A}/covcounters.ab.1.1`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
