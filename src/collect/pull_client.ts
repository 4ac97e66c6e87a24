/**
 * The HTTP client of pulls. A connection kept alive between pulls costs the collector about 25 KiB
 * of memory outside the JS heap per server (`scripts/bench_conn_memory.ts`: 33 KiB per server
 * kept alive against 10 KiB with none, at 250 and at 1,000), so an idle connection is closed after
 * `PULL_IDLE_MS`: a young server pulled every second keeps its connection, one pulled every 5 or
 * 10 s connects again for each pull (a loopback or pod-network connect, well under a millisecond).
 */

/** How long an idle pull connection is kept for the next pull. */
export const PULL_IDLE_MS = 2_000;

/** Created when the module loads (not per pull, and not inside a test: it lives as long as the
 * process). */
export const PULL_CLIENT: Deno.HttpClient = Deno.createHttpClient({
  poolIdleTimeout: PULL_IDLE_MS,
});
