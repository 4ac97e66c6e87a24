import { deepStrictEqual as assertEquals, match, ok, rejects } from "node:assert/strict";
import { baseUrl, pullCoverage, PullError } from "./pull.ts";
import { CoverageError } from "./coverage.ts";
import { PullGate } from "./gate.ts";
import { identityHeaders } from "../../tests/harness/covfiles.ts";
import { startTrickler } from "../../tests/harness/hostile_listeners.ts";

/** Serves `handler` on a free loopback port for the duration of `fn`. */
async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    handler,
  );
  try {
    await fn(server.addr.port);
  } finally {
    ac.abort();
    await server.finished;
  }
}

const opts = (port: number) => ({
  host: "127.0.0.1",
  port,
  nometa: false,
  timeoutMs: 2000,
  maxBody: 4096,
});

Deno.test("a pull returns the status, identity headers and JSON; nometa asks ?nometa=1", async () => {
  const seen: string[] = [];
  await withServer((req) => {
    seen.push(new URL(req.url).pathname + new URL(req.url).search);
    const body = { counters_filename: "covcounters.a.1.2", counters_data: "AAEC" };
    return Response.json(body, { headers: identityHeaders("app", 1) });
  }, async (port) => {
    const r = await pullCoverage(opts(port));
    assertEquals(r.status, 200);
    assertEquals(r.identity, { binary: "app", pid: 1, extra: { source_commit: "abc123" } });
    assertEquals(r.body.counters_data, new Uint8Array([0, 1, 2]));
    assertEquals(r.body.counters_filename, "covcounters.a.1.2");
    await pullCoverage({ ...opts(port), nometa: true });
  });
  assertEquals(seen, ["/coverage", "/coverage?nometa=1"]);
});

Deno.test("a 500 answer is a status error that still carries the identity", async () => {
  await withServer(
    () => new Response("not built with -cover", { status: 500, headers: identityHeaders("x", 3) }),
    async (port) => {
      const e = await pullCoverage(opts(port)).catch((e) => e);
      assertEquals(e instanceof PullError, true);
      assertEquals([e.kind, e.status, e.identity?.binary], ["status", 500, "x"]);
    },
  );
});

Deno.test("an endless body is cut at the limit, not buffered", async () => {
  let cancelled = false;
  await withServer(() => {
    const chunk = new Uint8Array(1024).fill(0x41);
    let started = false;
    // Streams without a Content-Length and without end: only a reader that stops can finish.
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => {
        if (!started) c.enqueue(new TextEncoder().encode(`{"counters_data": "`));
        started = true;
        c.enqueue(chunk);
      },
      cancel: () => {
        cancelled = true;
      },
    });
    return new Response(body, { headers: identityHeaders("app", 1) });
  }, async (port) => {
    const e = await pullCoverage({ ...opts(port), timeoutMs: 10_000 }).catch((e) => e);
    assertEquals(e instanceof PullError && e.kind, "too-large");
    assertEquals(e.identity?.binary, "app");
  });
  assertEquals(cancelled, true);
});

Deno.test("a declared Content-Length over the limit is refused before reading", async () => {
  await withServer(
    () => new Response("x".repeat(10_000), { headers: identityHeaders("app", 1) }),
    async (port) => {
      await rejects(
        pullCoverage(opts(port)),
        (e) => e instanceof PullError && e.kind === "too-large",
      );
    },
  );
});

Deno.test("a server dripping bytes is cut at the timeout", async () => {
  const stop = new AbortController();
  await withServer(() => {
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 20));
        if (stop.signal.aborted) return c.close();
        c.enqueue(new Uint8Array([0x20]));
      },
    });
    return new Response(body, { headers: identityHeaders("app", 1) });
  }, async (port) => {
    const started = Date.now();
    const e = await pullCoverage({ ...opts(port), timeoutMs: 300 }).catch((e) => e);
    stop.abort();
    assertEquals(e instanceof PullError && e.kind, "timeout");
    assertEquals(Date.now() - started < 2000, true);
  });
});

Deno.test("an answer without identity headers has identity null", async () => {
  await withServer(() => new Response("plain http server"), async (port) => {
    const e = await pullCoverage(opts(port)).catch((e) => e);
    assertEquals([e instanceof CoverageError, e.identity], [true, null]);
  });
});

Deno.test("a refused connection is a network error", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await rejects(pullCoverage(opts(port)), (e) => e instanceof PullError && e.kind === "network");
});

Deno.test("a caller's abort is reported as aborted, not as a timeout", async () => {
  await withServer(async (req) => {
    await new Promise((r) => req.signal.addEventListener("abort", r));
    return new Response("late");
  }, async (port) => {
    const ac = new AbortController();
    const p = pullCoverage({ ...opts(port), signal: ac.signal });
    ac.abort();
    await rejects(p, (e) => e instanceof PullError && e.kind === "aborted");
  });
});

Deno.test("IPv6 hosts are bracketed in URLs", () => {
  assertEquals(baseUrl("fd00::1", 53700), "http://[fd00::1]:53700");
  assertEquals(baseUrl("10.0.0.1", 1), "http://10.0.0.1:1");
});

Deno.test("a body that is not the /coverage JSON is a CoverageError carrying the identity", async () => {
  await withServer(
    () => new Response("<html>", { headers: identityHeaders("web", 4) }),
    async (port) => {
      const e = await pullCoverage(opts(port)).catch((e) => e);
      assertEquals(e instanceof CoverageError, true);
      assertEquals([e.kind, e.status, e.identity?.binary], ["json", 200, "web"]);
    },
  );
});

Deno.test("a pull reserves its body's Content-Length in the node-wide budget before reading", async () => {
  const gate = new PullGate(4, 1 << 20);
  const body = JSON.stringify({ counters_filename: "covcounters.a.1.2", counters_data: "AAEC" });
  await withServer(
    () => new Response(body, { headers: { ...identityHeaders("app", 1), "content-type": "x" } }),
    async (port) => {
      const slot = await gate.slot();
      try {
        const r = await pullCoverage({ ...opts(port), slot, expectBytes: 999 });
        assertEquals([r.bodyBytes, slot.held, gate.bytes], [body.length, body.length, body.length]);
      } finally {
        slot.release();
      }
      assertEquals(gate.bytes, 0);
    },
  );
});

Deno.test("a body under the rate floor is cut early (slow), not held until the pull timeout", async () => {
  const stop = new AbortController();
  // The bound: 100 drips (10 s) sent on the connection; a cut comes after about 3.
  await using liar = startTrickler({ dripMs: 100, onDrip: (n) => n >= 100 && stop.abort() });
  const e = await pullCoverage({
    ...opts(liar.port),
    timeoutMs: 600_000,
    maxBody: 64 << 20,
    signal: stop.signal,
    floor: { graceMs: 200, bytesPerSecond: 1000 },
  }).catch((e) => e);
  assertEquals(e instanceof PullError && e.kind, "slow", String(e));
  match(e.message, /answer under the floor of 1000 bytes\/s after 200ms: cut \(slow\)/);
  ok(liar.maxDrips < 100);
});
