/** The pod watch never spins: quick failures and 410s back off, a stream that lived resets it. */

import assert from "node:assert/strict";
import { Health } from "../health.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Backoff } from "../backoff.ts";
import { KubeClient } from "./client.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import { PodWatcher } from "./pods.ts";
import { json, scriptedApi, status } from "../../tests/doubles/scripted_api.ts";

const line = (o: unknown) => JSON.stringify(o) + "\n";

/** A watch body of `lines` that ends at once. */
function ended(lines: string[]): Response {
  const enc = new TextEncoder();
  return new Response(
    new ReadableStream({
      start(c) {
        for (const l of lines) c.enqueue(enc.encode(l));
        c.close();
      },
    }),
  );
}

/** A watch body that stays open (the run is being stopped). */
const open = () => new Response(new ReadableStream());

/**
 * Runs a watcher against watches answered by `script(n)` (n from 1) until it returns undefined;
 * every backoff delay is recorded and moves a fake clock instead of sleeping.
 */
async function drive(script: (n: number, clock: { ms: number }) => Response | undefined) {
  const clock = { ms: 0 };
  const delays: number[] = [];
  const ac = new AbortController();
  let watches = 0;
  let lists = 0;
  await using api = await scriptedApi((_req, url) => {
    if (url.searchParams.get("watch") !== "true") {
      lists++;
      return json({ metadata: { resourceVersion: String(lists * 100) }, items: [] });
    }
    const res = script(++watches, clock);
    if (res) return res;
    ac.abort();
    return open();
  });
  const path = await api.kubeconfig("    token: t\n");
  const client = await KubeClient.create(
    parseKubeconfig(await Deno.readTextFile(path), { path }),
    "/",
    { log: silentLogger, allowHttp: true },
  );
  const backoff = new Backoff({
    jitter: 0,
    sleep: (ms) => {
      delays.push(ms);
      clock.ms += ms;
      return Promise.resolve(true);
    },
  });
  const w = new PodWatcher(
    client,
    "n1",
    { log: silentLogger, metrics: new Metrics(), health: new Health() },
    { synced: () => {}, event: () => {} },
    { backoff, now: () => clock.ms, healthyMs: 30_000 },
  );
  try {
    await w.run(ac.signal);
  } finally {
    client.close();
  }
  return { delays, lists, watches, status: w.status() };
}

Deno.test("watches that end at once back off ever longer; one that lived resets the backoff", async () => {
  const r = await drive((n, clock) => {
    if (n > 7) return undefined;
    if (n === 5) clock.ms += 60_000; // this stream lives a minute, then ends normally
    return ended([]);
  });
  // 1-4 quick: 1, 2, 4, 8 s; 5 lived: reconnect at once and start over; 6, 7 quick: 1, 2 s.
  assert.deepEqual(r.delays, [1000, 2000, 4000, 8000, 1000, 2000]);
  assert.equal(r.lists, 1, "a normal end keeps the resourceVersion");
  assert.equal(r.status.reconnects, 7);
});

Deno.test("a watch that connects and fails at once backs off too (the connect is no success)", async () => {
  const r = await drive((n) =>
    n > 6
      ? undefined
      : ended([line({ type: "ERROR", object: { kind: "Status", code: 500, message: "etcd" } })])
  );
  assert.deepEqual(r.delays, [1000, 2000, 4000, 8000, 16000, 30000]);
});

Deno.test("410 on every fresh watch relists with a growing delay, not in a loop", async () => {
  const r = await drive((n) => {
    if (n > 6) return undefined;
    // Half answer 410 at once, half send it as the stream's first event.
    return n % 2
      ? status(410, "Expired", "too old resource version")
      : ended([line({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } })]);
  });
  assert.deepEqual(r.delays, [1000, 2000, 4000, 8000, 16000, 30000]);
  assert.equal(r.lists, 7, "each 410 is followed by one list");
});

Deno.test("410 after a stream that lived relists at once", async () => {
  const r = await drive((n, clock) => {
    if (n > 3) return undefined;
    clock.ms += 120_000;
    return ended([line({ type: "ERROR", object: { kind: "Status", code: 410 } })]);
  });
  assert.deepEqual(r.delays, []);
  assert.equal(r.lists, 4);
});
