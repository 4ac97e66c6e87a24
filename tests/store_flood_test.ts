/**
 * A pod cannot flood the store: a hostile server (a loopback proxy in front of the real Go
 * fixture) that names its counters with a new PID on every pull gets two counters names, not
 * one per pull; and during an S3 outage it cannot push another pod's final counters out of the
 * spool. `go tool covdata` judges what reached the store.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { countersKey, infoJson, storeOwnerOf, writtenOnce } from "../src/layout.ts";
import { Metrics } from "../src/metrics.ts";
import { DirSink } from "../src/sink/dir.ts";
import { SpoolingSink } from "../src/sink/spool.ts";
import type { Target } from "../src/target.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { collectorOf, covserverTarget, storedSizes } from "./harness/covserver_collector.ts";
import { startPidFloodProxy } from "./harness/pid_flood_proxy.ts";
import { canRunS3, s3SinkOf, startS3 } from "./harness/s3.ts";
import { drainSpool } from "./harness/spool_drain.ts";
import { covdataPercentOf } from "./harness/stored.ts";

const noGo = !(await hasGo());
const HOST = "flood-node";
const signal = new AbortController().signal;

async function use(srv: Covserver): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${srv.appPort}/run/alpha`);
  await res.body?.cancel();
}

/** `srv`'s target filed under pod `pod` (a container of namespace `ns`), dialled at `port`. */
async function podTarget(srv: Covserver, pod: string, port: number): Promise<Target> {
  const t = await covserverTarget(srv);
  return {
    ...t,
    key: `${pod}:${port}`,
    port,
    owner: {
      kind: "container",
      container: {
        id: `c-${pod}`,
        sandboxId: `s-${pod}`,
        name: "app",
        podName: pod,
        namespace: "ns",
        podUid: `uid-${pod}`,
        pid: srv.pid,
        imageRef: "quay.io/x/app@sha256:1",
        network: "NODE",
        podIp: "",
        coveragePort: port,
      },
    },
  };
}

/** The files under `dir`, sorted. */
function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test({
  name: "hostile server naming its counters with a new PID on every pull: two counters " +
    "names in the store, under the verified PID; covdata reads it",
  ignore: noGo,
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "pid-flood-" });
    try {
      await using srv = await startCovserver({ name: "flooder" });
      await using proxy = await startPidFloodProxy(srv.coveragePort);
      const target = await podTarget(srv, "flooder", proxy.port);
      const sink = new DirSink(root);
      const { collector, metrics } = collectorOf(target, sink, { hostname: HOST });
      for (let i = 0; i < 6; i++) {
        await use(srv);
        assert.equal((await collector.pullNow(`final-${i}`, signal)).result, "stored");
      }
      assert.equal(new Set(proxy.pids).size, 6, "every pull named another PID");
      assert.equal(metrics.value("coverage_collector_counters_pid_mismatch_total"), 6);
      const dir = join(root, collector.prefix);
      const counters = names(dir).filter((n) => n.startsWith("covcounters."));
      assert.equal(counters.length, 2, counters.join(","));
      assert.equal(names(dir).length, 5, "meta-data, info.json, two counters slots, timeline");
      const pid = target.identity.pid;
      assert.ok(counters.every((n) => n.endsWith(`.${pid}.1`) || n.endsWith(`.${pid}.2`)));
      const timelines = names(dir).filter((n) => n.startsWith("covtimeline."));
      assert.ok(timelines.length === 1 && timelines[0].endsWith(`.${pid}`), timelines.join(","));
      const r = await covdataPercentOf(dir);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /coverage: [\d.]+% of statements/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "S3 outage: a pod flooding the spool loses its own counters first; the other pod's " +
    "final counters survive eviction and covdata reads both prefixes",
  ignore: noGo || !(await canRunS3()),
  sanitizeResources: false,
  async fn() {
    const s3 = await startS3();
    const root = await Deno.makeTempDir({ prefix: "flood-outage-" });
    try {
      await using srv = await startCovserver({ name: "flood-app" });
      await using proxy = await startPidFloodProxy(srv.coveragePort);
      await use(srv);
      const normalTarget = await podTarget(srv, "normal", srv.coveragePort);
      const floodTarget = await podTarget(srv, "flooder", proxy.port);
      const { meta, counters, hash } = await storedSizes(srv, normalTarget, HOST);
      const info = (t: Target) => infoJson(t, { hostname: HOST }).length + 64;
      // Room for both pods' meta-data and info.json, the normal pod's counters and one and a half
      // of the flooder's: its two slots do not fit, let alone one object per PID.
      const maxBytes = 2 * meta + info(normalTarget) + info(floodTarget) +
        Math.ceil(counters * 2.5);
      const metrics = new Metrics();
      const sink = await SpoolingSink.open(
        s3SinkOf(s3, { retry: { attempts: 1 }, requestTimeoutMs: 5000 }),
        {
          dir: join(root, "spool"),
          maxBytes,
          writtenOnce,
          ownerOf: storeOwnerOf,
          metrics,
          backoff: { baseMs: 10, maxMs: 50 },
        },
      );
      const normal = collectorOf(normalTarget, sink, { metrics, hostname: HOST }).collector;
      const flooder = collectorOf(floodTarget, sink, { metrics, hostname: HOST }).collector;
      await s3.stop();
      assert.equal((await normal.pullNow("pod-deleted", signal)).result, "stored");
      for (let i = 0; i < 6; i++) {
        await use(srv);
        assert.equal((await flooder.pullNow(`final-${i}`, signal)).result, "stored");
      }
      assert.ok(metrics.value("coverage_collector_spool_evictions_total") >= 1, "evicted");
      const spooled = sink.spooled();
      const normalCounters = countersKey(normal.prefix, hash, normalTarget.identity.pid, 1);
      assert.ok(spooled.includes(normalCounters), spooled.join("\n"));
      const floodCounters = spooled.filter((k) => k.startsWith(flooder.prefix + "/covcounters."));
      assert.equal(floodCounters.length, 1, spooled.join("\n"));
      await s3.start();
      await drainSpool(sink);
      for (const c of [normal, flooder]) {
        const dir = join(root, "covdata", c.prefix);
        await Deno.mkdir(dir, { recursive: true });
        for (const k of await s3.objects(c.prefix + "/")) {
          await Deno.writeFile(join(dir, k.slice(c.prefix.length + 1)), (await s3.get(k))!);
        }
        const r = await covdataPercentOf(dir);
        assert.equal(r.code, 0, `${names(dir).join(",")}\n${r.out}`);
        assert.match(r.out, /coverage: [\d.]+% of statements/, c.prefix);
      }
    } finally {
      await s3.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
