/**
 * One key the real store refuses for itself (versitygw: a key past S3's 1024 bytes, a name its
 * file system cannot hold) never blocks the others: it is dropped and reported, the rest land.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { canRunS3, type S3Server, s3SinkOf, startS3 } from "./harness/s3.ts";
import { drainSpool } from "./harness/spool_drain.ts";
import { KeyRejectedError } from "../src/sink/sink.ts";
import { SpoolingSink } from "../src/sink/spool.ts";
import { createLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { Health } from "../src/health.ts";

const ignore = !await canRunS3(); // needs Go to install versitygw
const enc = (s: string) => new TextEncoder().encode(s);
/** Past S3's 1024-byte key limit: versitygw answers 400 KeyTooLongError. */
const TOO_LONG = "n/ns/pod/c/" + "k".repeat(1100) + "/covmeta.ab";
/** A segment past the file system's 255 bytes: versitygw answers 409. */
const NAME_TOO_LONG = "n/ns/pod/c/" + "x".repeat(300) + "/covcounters.ab.1.1";

interface World {
  s3: S3Server;
  sink: SpoolingSink;
  metrics: Metrics;
  health: Health;
  lines: string[];
}

async function world(fn: (w: World) => Promise<void>): Promise<void> {
  const s3 = await startS3();
  const state = await Deno.makeTempDir({ prefix: "rejected-key-" });
  const metrics = new Metrics();
  const health = new Health();
  const lines: string[] = [];
  try {
    const inner = s3SinkOf(s3, { retry: { attempts: 2, baseMs: 5, maxMs: 20 } });
    const sink = await SpoolingSink.open(inner, {
      dir: join(state, "spool"),
      maxBytes: 1 << 20,
      log: createLogger({ write: (l) => lines.push(l) }),
      metrics,
      health,
      backoff: { baseMs: 10, maxMs: 50 },
      // The default: a store-wide refusal waits 5 minutes. A refused key must never wait.
      permanentRetryMs: 300_000,
    });
    await fn({ s3, sink, metrics, health, lines });
  } finally {
    await s3.close();
    await Deno.remove(state, { recursive: true });
  }
}

const others = Array.from({ length: 30 }, (_, i) => `n/ns/pod-${i}/c/covcounters.ab.1.1`);

Deno.test(
  {
    name: "store up: a refused key throws KeyRejectedError, is reported, and blocks nothing",
    ignore,
  },
  () =>
    world(async ({ s3, sink, metrics, health, lines }) => {
      for (const key of [TOO_LONG, NAME_TOO_LONG]) {
        await assert.rejects(
          sink.put(key, enc("poison")),
          (e) => e instanceof KeyRejectedError && e.key === key && /answered 4\d\d/.test(e.message),
        );
      }
      for (const k of others) await sink.put(k, enc("c"));
      assert.deepEqual(sink.spooled(), [], "the others went straight to the store");
      assert.deepEqual(await s3.objects(), [...others].sort());
      assert.equal(health.get("sink")?.ready, true);
      assert.equal(health.get("sink")?.degraded, undefined);
      assert.deepEqual(sink.rejected(), [TOO_LONG, NAME_TOO_LONG]);
      assert.equal(metrics.value("coverage_collector_sink_rejected_total"), 2);
      const st = sink.status();
      assert.equal(st.rejectedObjects, 2);
      assert.match(JSON.stringify(st.rejected), /KeyTooLongError/);
      assert.equal(
        lines.filter((l) => l.includes("store refuses this object")).length,
        2,
        lines.join("\n"),
      );
    }),
);

Deno.test(
  { name: "outage with a refused key at the head of the spool: all 30 others land", ignore },
  () =>
    world(async ({ s3, sink, metrics }) => {
      await s3.stop();
      await sink.put(TOO_LONG, enc("poison")); // the oldest spooled entry
      for (const k of others) await sink.put(k, enc("c"));
      assert.equal(sink.spooled().length, 31);
      await s3.start();
      await drainSpool(sink);
      assert.deepEqual(await s3.objects(), [...others].sort(), "every other write was stored");
      assert.deepEqual(sink.spooled(), []);
      assert.deepEqual(sink.rejected(), [TOO_LONG]);
      assert.equal(metrics.value("coverage_collector_sink_rejected_total"), 1);
      assert.equal(metrics.value("coverage_collector_spool_evictions_total"), 0);
      assert.equal(sink.dropped(TOO_LONG), true, "the writer learns the object was dropped");
      assert.equal(sink.dropped(TOO_LONG), false, "once");
    }),
);
