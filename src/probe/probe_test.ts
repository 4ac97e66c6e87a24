import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { createSystem } from "../system.ts";
import { FakeProc } from "../../tests/doubles/fakeproc.ts";
import { listeningSockets } from "../procfs/net.ts";
import { attribute, probe } from "./probe.ts";
import { hostPort } from "../target.ts";

/** Serves `handler` on `hostname` port 0 until disposed. */
function serve(handler: (req: Request) => Response, hostname = "127.0.0.1") {
  const ac = new AbortController();
  const server = Deno.serve({ hostname, port: 0, signal: ac.signal, onListen: () => {} }, handler);
  return {
    port: server.addr.port,
    [Symbol.asyncDispose]: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

const COVERAGE = {
  "X-Art-Coverage-Server": "1",
  "X-Art-Coverage-Pid": "1",
  "X-Art-Coverage-Binary": "kube-apiserver",
  "X-Art-Coverage-Source-Commit": "abc123",
};

Deno.test("probe reads the identity of a coverage server with HEAD /health", async () => {
  const seen: string[] = [];
  await using s = serve((req) => {
    seen.push(`${req.method} ${new URL(req.url).pathname}`);
    return new Response("coverage server healthy", { headers: COVERAGE });
  });
  const r = await probe({ host: "127.0.0.1", port: s.port }, { timeoutMs: 2000 });
  assertEquals(r, {
    kind: "coverage",
    identity: { binary: "kube-apiserver", pid: 1, extra: { source_commit: "abc123" } },
  });
  assertEquals(seen, ["HEAD /health"]);
});

Deno.test("probe dials IPv6 with brackets", async (t) => {
  let s;
  try {
    s = serve(() => new Response(null, { headers: COVERAGE }), "::1");
  } catch {
    await t.step({ name: "no IPv6 loopback here", ignore: true, fn: () => {} });
    return;
  }
  await using _ = s;
  const r = await probe({ host: "::1", port: s.port }, { timeoutMs: 2000 });
  assertEquals(r.kind, "coverage");
  assertEquals(hostPort("fd00::1", 80), "[fd00::1]:80");
  assertEquals(hostPort("10.0.0.1", 80), "10.0.0.1:80");
});

Deno.test("probe says not-coverage for a plain HTTP server, with its status", async () => {
  await using s = serve(() => new Response("hello", { status: 404 }));
  assertEquals(await probe({ host: "127.0.0.1", port: s.port }, { timeoutMs: 2000 }), {
    kind: "not-coverage",
    status: 404,
  });
});

Deno.test("probe reports bad identity headers as an error naming the URL", async () => {
  await using s = serve(() =>
    new Response(null, { headers: { ...COVERAGE, "X-Art-Coverage-Pid": "one" } })
  );
  const r = await probe({ host: "127.0.0.1", port: s.port }, { timeoutMs: 2000 });
  assertEquals(r.kind, "error");
  ok(
    r.kind === "error" && r.error.includes(`127.0.0.1:${s.port}/health`) && r.error.includes("one"),
  );
});

Deno.test("probe times out on a server that never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) conns.push(c);
  })();
  try {
    const started = Date.now();
    const r = await probe({ host: "127.0.0.1", port: listener.addr.port }, { timeoutMs: 200 });
    assertEquals(r.kind, "error");
    ok(r.kind === "error" && r.error.includes("no answer within 200ms"), JSON.stringify(r));
    ok(Date.now() - started < 5000);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of conns) c.close();
  }
});

Deno.test("probe reports a refused connection and never dials an empty host", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  assertEquals((await probe({ host: "127.0.0.1", port }, { timeoutMs: 2000 })).kind, "error");
  const r = await probe({ host: "", port: 53700 }, { timeoutMs: 2000 });
  ok(r.kind === "error" && r.error.includes("empty host"));
});

Deno.test("attribute finds our own process by its last NSpid on the real /proc", async () => {
  const sys = createSystem();
  using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  const [sock] = await listeningSockets(sys, Deno.pid, { start: port, end: port + 1 });
  const c = { pids: [Deno.pid], inode: sock.inode };
  assertEquals(await attribute(sys, c, { pid: Deno.pid }), Deno.pid);
  assertEquals(await attribute(sys, c, { pid: Deno.pid + 1 }), null);
  assertEquals(await attribute(sys, { ...c, inode: 1 }, { pid: Deno.pid }), null, "not held");
});

Deno.test("attribute maps the PID inside a container to the host PID, and refuses others", async () => {
  const fake = new FakeProc();
  try {
    fake.add({ pid: 100, ppid: 1, nspid: [100, 1], sockets: [500] });
    fake.add({ pid: 101, ppid: 100, nspid: [101, 7], sockets: [501] });
    const sys = createSystem(fake.root);
    assertEquals(await attribute(sys, { pids: [100, 101, 999], inode: 501 }, { pid: 7 }), 101);
    assertEquals(await attribute(sys, { pids: [100, 101], inode: 500 }, { pid: 1 }), 100);
    assertEquals(await attribute(sys, { pids: [101], inode: 501 }, { pid: 1 }), null);
    assertEquals(await attribute(sys, { pids: [], inode: 500 }, { pid: 1 }), null);
  } finally {
    fake.cleanup();
  }
});

Deno.test("attribute refuses a PID that names two processes of the owner (nested PID ns)", async () => {
  const fake = new FakeProc();
  try {
    fake.add({ pid: 100, ppid: 1, nspid: [100, 1] }); // the container's init
    // PID 1 of a namespace of its own
    fake.add({ pid: 101, ppid: 100, nspid: [101, 2, 1], sockets: [501] });
    const sys = createSystem(fake.root);
    assertEquals(await attribute(sys, { pids: [100, 101], inode: 501 }, { pid: 1 }), null);
    const notInnermost = await attribute(sys, { pids: [100, 101], inode: 501 }, { pid: 2 });
    assertEquals(notInnermost, null, "not innermost");
    assertEquals(await attribute(sys, { pids: [101], inode: 501 }, { pid: 1 }), 101);
  } finally {
    fake.cleanup();
  }
});

Deno.test("attribute refuses a PID match that does not hold the socket (a sibling's PID 1)", async () => {
  const fake = new FakeProc();
  try {
    fake.add({ pid: 100, ppid: 1, nspid: [100, 1], sockets: [500] }); // the owner's server
    const sys = createSystem(fake.root);
    // the sibling's server also says PID 1; its socket 600 is not the owner's PID 1's
    assertEquals(await attribute(sys, { pids: [100], inode: 600 }, { pid: 1 }), null);
    assertEquals(await attribute(sys, { pids: [100], inode: 500 }, { pid: 1 }), 100);
  } finally {
    fake.cleanup();
  }
});
