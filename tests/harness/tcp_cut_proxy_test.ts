/** The fault injector itself, against a loopback echo server: relay, cut, refuse, let through. */

import assert from "node:assert/strict";
import { TcpCutProxy } from "./tcp_cut_proxy.ts";

async function readSome(c: Deno.Conn): Promise<string | null> {
  const buf = new Uint8Array(64);
  const n = await c.read(buf).catch(() => null);
  return n === null ? null : new TextDecoder().decode(buf.subarray(0, n));
}

Deno.test("tcp_cut_proxy relays bytes, cuts open connections, refuses new ones until let through", async () => {
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of echo) {
      (async () => {
        try {
          await conn.readable.pipeTo(conn.writable);
        } catch { /* cut */ }
      })();
    }
  })().catch(() => {});
  const proxy = TcpCutProxy.start({
    hostname: "127.0.0.1",
    port: (echo.addr as Deno.NetAddr).port,
  });
  const conns: Deno.Conn[] = [];
  const dial = async () => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    conns.push(c);
    return c;
  };
  try {
    const a = await dial();
    await a.write(new TextEncoder().encode("ping"));
    assert.equal(await readSome(a), "ping");
    assert.equal(proxy.accepted, 1);
    assert.equal(proxy.open, 1);

    proxy.refuse(true);
    assert.equal(proxy.cut(), 1);
    assert.equal(await readSome(a), null, "the cut connection ends");
    const b = await dial();
    await proxy.refusedAtLeast(1, AbortSignal.timeout(10_000));
    assert.equal(await readSome(b), null, "a new connection is closed at once");
    assert.equal(proxy.accepted, 1);

    proxy.refuse(false);
    const c = await dial();
    await c.write(new TextEncoder().encode("back"));
    assert.equal(await readSome(c), "back");
    assert.equal(proxy.accepted, 2);
    await assert.rejects(
      proxy.refusedAtLeast(5, AbortSignal.abort(new Error("gave up"))),
      /gave up/,
    );
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await proxy.close();
    echo.close();
    await serving;
  }
});

Deno.test("tcp_cut_proxy refuses an upstream that is not loopback", () => {
  assert.throws(() => TcpCutProxy.start({ hostname: "10.0.0.1", port: 1 }), /not loopback/);
});
