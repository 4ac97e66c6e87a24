/** Draining a SpoolingSink in a test: its drain loop run until the spool is empty, then stopped. */

import type { SpoolingSink } from "../../src/sink/spool.ts";

/**
 * Runs `sink`'s drain loop until the spool is empty (rejects after `timeoutMs`), then stops the
 * loop and waits for it to end.
 * @example await s3.start(); await drainSpool(sink); // everything spooled is in the store now
 */
export async function drainSpool(sink: SpoolingSink, timeoutMs = 20_000): Promise<void> {
  const ac = new AbortController();
  const running = sink.run(ac.signal);
  await sink.drained(AbortSignal.any([ac.signal, AbortSignal.timeout(timeoutMs)]));
  ac.abort();
  await running;
}
