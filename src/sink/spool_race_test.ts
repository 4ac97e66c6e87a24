/**
 * The spool's sequence guard: a newer copy of a key spooled while the older copy's PUT is in
 * flight must survive that PUT's success (the drain removes only what it sent).
 */

import assert from "node:assert/strict";
import type { Sink } from "./sink.ts";
import { SpoolingSink } from "./spool.ts";
import { SinkError } from "./sink.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const KEY = "n/ns/p/c/t/img/bin/covcounters.ab.1.1";

/** A store that is down until told, and can hold one PUT open until released. */
class GatedStore implements Sink {
  readonly description = "s3://gated/base";
  down = true;
  stored = new Map<string, string>();
  puts: string[] = [];
  #hold: { entered: PromiseWithResolvers<void>; release: PromiseWithResolvers<void> } | null = null;

  /** Holds the next PUT (after it stored its bytes) until `release()`; resolves when it is held. */
  holdNext(): { held: Promise<void>; release: () => void } {
    const h = { entered: Promise.withResolvers<void>(), release: Promise.withResolvers<void>() };
    this.#hold = h;
    return { held: h.entered.promise, release: () => h.release.resolve() };
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    if (this.down) throw new SinkError("S3 PUT answered 503 (after 2 tries)", false);
    const text = new TextDecoder().decode(data);
    this.puts.push(text);
    this.stored.set(key, text);
    const h = this.#hold;
    if (h) {
      this.#hold = null;
      h.entered.resolve();
      await h.release.promise;
    }
  }
}

async function withSpool(fn: (store: GatedStore, sink: SpoolingSink) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "spool-race-" });
  try {
    const store = new GatedStore();
    const sink = await SpoolingSink.open(store, {
      dir,
      maxBytes: 1000,
      backoff: { baseMs: 1, maxMs: 5 },
    });
    await fn(store, sink);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("drain: a newer copy spooled during the older copy's PUT is kept and sent next", () =>
  withSpool(async (store, sink) => {
    await sink.put(KEY, enc("old counters"));
    assert.deepEqual(sink.spooled(), [KEY]);
    store.down = false;
    const gate = store.holdNext();
    const ac = new AbortController();
    const running = sink.run(ac.signal);
    try {
      await gate.held; // the drain's PUT of "old counters" is in flight
      await sink.put(KEY, enc("newer counters"));
      gate.release();
      await sink.drained();
    } finally {
      ac.abort();
      await running;
    }
    assert.deepEqual(store.puts, ["old counters", "newer counters"]);
    assert.equal(store.stored.get(KEY), "newer counters");
  }));

Deno.test("flush: a newer copy spooled during the older copy's PUT stays spooled", () =>
  withSpool(async (store, sink) => {
    await sink.put(KEY, enc("old counters"));
    store.down = false;
    const gate = store.holdNext();
    const flushing = sink.flush(new AbortController().signal);
    await gate.held;
    await sink.put(KEY, enc("newer counters"));
    gate.release();
    assert.equal(await flushing, 1, "the newer copy is still to be sent");
    assert.deepEqual(sink.spooled(), [KEY]);
    assert.equal(await sink.flush(new AbortController().signal), 0);
    assert.equal(store.stored.get(KEY), "newer counters");
  }));
