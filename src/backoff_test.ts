import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";

Deno.test("backoff doubles from 1 s, is capped at 30 s, and restarts after reset", () => {
  const b = new Backoff({ jitter: 0 });
  assert.deepEqual(
    Array.from({ length: 7 }, () => b.next()),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
  b.reset();
  assert.equal(b.next(), 1000);
});

Deno.test("backoff jitter adds up to the fraction, never past the cap", () => {
  const b = new Backoff({ jitter: 0.5, random: () => 1 });
  assert.equal(b.next(), 1500);
  for (let i = 0; i < 10; i++) assert.ok(b.next() <= 30000);
});

Deno.test("backoff wait returns false at once when aborted", async () => {
  const ac = new AbortController();
  ac.abort();
  assert.equal(await new Backoff({ initialMs: 60_000 }).wait(ac.signal), false);
});
