/**
 * The spool's sequence guard against a real S3 store (versitygw on loopback): the drain's PUT of
 * an older copy is held open (fault injection in the S3 client's fetch, after S3 answered) until a
 * newer copy of the same key is spooled; the newer bytes must reach S3.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { canRunS3, s3SinkOf, startS3 } from "./harness/s3.ts";
import { SpoolingSink } from "../src/sink/spool.ts";

const ignore = !await canRunS3(); // needs Go to install versitygw
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);

/** A fetch that can hold the answer to the next PUT until released (S3 has the bytes by then). */
function holdingFetch() {
  let hold: { held: PromiseWithResolvers<void>; release: PromiseWithResolvers<void> } | null = null;
  const puts: string[] = [];
  const f: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    if (req.method !== "PUT") return res;
    puts.push(`${new URL(req.url).pathname} ${res.status}`);
    const h = hold;
    if (h) {
      hold = null;
      h.held.resolve();
      await h.release.promise;
    }
    return res;
  };
  return {
    fetch: f,
    puts,
    /** Arms the hold: resolves `held` once the next PUT was answered by S3. */
    holdNext() {
      const h = { held: Promise.withResolvers<void>(), release: Promise.withResolvers<void>() };
      hold = h;
      return { held: h.held.promise, release: () => h.release.resolve() };
    },
  };
}

Deno.test({
  name: "spool: a newer copy spooled while the drain's PUT of the older one is in flight " +
    "reaches S3",
  ignore,
  async fn() {
    const s3 = await startS3();
    const state = await Deno.makeTempDir({ prefix: "spool-race-s3-" });
    try {
      const f = holdingFetch();
      const s3sink = s3SinkOf(s3, {
        basePath: "ci/race",
        retry: { attempts: 2, baseMs: 5, maxMs: 20 },
        fetch: f.fetch,
      });
      const sink = await SpoolingSink.open(s3sink, {
        dir: join(state, "spool"),
        maxBytes: 1 << 20,
        backoff: { baseMs: 5, maxMs: 50 },
      });
      const key = "node1/ns/pod/c/20260101T000000Z/img/bin/covcounters.ab.1.1";

      // S3 away: the first pull's counters go to the spool.
      await s3.stop();
      await sink.put(key, enc("counters of the first pull"));
      assert.deepEqual(sink.spooled(), [key]);
      await s3.start();

      // The drain sends them; S3 stores them, but the answer is held back.
      const gate = f.holdNext();
      const ac = new AbortController();
      const running = sink.run(ac.signal);
      try {
        await gate.held;
        assert.equal(dec(await s3.get(`ci/race/${key}`)), "counters of the first pull");
        // The next pull's counters for the same key arrive while that PUT is in flight.
        await sink.put(key, enc("counters of the second pull"));
        assert.deepEqual(sink.spooled(), [key]);
        gate.release();
        await sink.drained();
      } finally {
        ac.abort();
        await running;
      }
      assert.equal(dec(await s3.get(`ci/race/${key}`)), "counters of the second pull");
      assert.deepEqual(f.puts, [
        `/${s3.bucket}/ci/race/${key} 200`,
        `/${s3.bucket}/ci/race/${key} 200`,
      ]);
    } finally {
      await s3.close();
      await Deno.remove(state, { recursive: true });
    }
  },
});
