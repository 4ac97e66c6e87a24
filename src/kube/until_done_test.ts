import assert from "node:assert/strict";
import { untilDone } from "./until_done.ts";

/** A body that never sends anything, and whether it was cancelled. */
function silentBody() {
  const seen: { cancelled?: unknown } = {};
  const body = new ReadableStream<Uint8Array>({
    cancel(reason) {
      seen.cancelled = reason;
    },
  });
  return { body, seen };
}

Deno.test("untilDone: a silent body ends on abort with the signal's reason; done is called once", async () => {
  const { body, seen } = silentBody();
  let done = 0;
  const ac = new AbortController();
  const reader = untilDone(body, () => done++, ac.signal).getReader();
  const read = reader.read();
  const why = new Error("received SIGTERM");
  ac.abort(why);
  await assert.rejects(read, (e) => e === why);
  assert.equal(done, 1);
  assert.equal(seen.cancelled, why, "the body behind it is cancelled");
  await reader.cancel().catch(() => {});
  assert.equal(done, 1);
});

Deno.test("untilDone: a signal aborted before the first read fails the stream at once", async () => {
  const { body } = silentBody();
  const ac = new AbortController();
  ac.abort(new Error("early"));
  let done = 0;
  const reader = untilDone(body, () => done++, ac.signal).getReader();
  await assert.rejects(reader.read(), /early/);
  assert.equal(done, 1);
});

Deno.test("untilDone: a body that ends calls done once; a later abort changes nothing", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([1]));
      c.close();
    },
  });
  let done = 0;
  const ac = new AbortController();
  const text = await new Response(untilDone(body, () => done++, ac.signal)).arrayBuffer();
  assert.equal(text.byteLength, 1);
  ac.abort();
  assert.equal(done, 1);
});
