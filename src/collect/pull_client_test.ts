import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { pullCoverage } from "./pull.ts";
import { PULL_IDLE_MS } from "./pull_client.ts";
import { identityHeaders } from "../../tests/harness/covfiles.ts";

/** A raw HTTP/1.1 server on loopback that answers every request on a connection and records
 * when each connection was closed by the client (no server-side timeout of its own). */
function rawServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const body = JSON.stringify({ counters_filename: "covcounters.a.1.2", counters_data: "AAEC" });
  const head = Object.entries(identityHeaders("app", 1)).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const answer = new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${head}` +
      `content-length: ${body.length}\r\n\r\n${body}`,
  );
  const conns: { requests: number; closedAt?: number }[] = [];
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const rec: { requests: number; closedAt?: number } = { requests: 0 };
      conns.push(rec);
      serving.push((async () => {
        const buf = new Uint8Array(8192);
        let text = "";
        try {
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) break;
            text += new TextDecoder().decode(buf.subarray(0, n));
            while (text.includes("\r\n\r\n")) {
              text = text.slice(text.indexOf("\r\n\r\n") + 4);
              rec.requests++;
              await conn.write(answer);
            }
          }
        } catch { /* reset by the peer: closed too */ }
        rec.closedAt = Date.now();
        conn.close();
      })());
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    conns,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(serving);
    },
  };
}

Deno.test("pulls reuse a connection while it is busy and close it once idle past PULL_IDLE_MS", async () => {
  const server = rawServer();
  try {
    const opts = {
      host: "127.0.0.1",
      port: server.port,
      nometa: true,
      timeoutMs: 2000,
      maxBody: 4096,
    };
    await pullCoverage(opts);
    await pullCoverage(opts);
    const pulledAt = Date.now();
    assertEquals(server.conns.map((c) => c.requests), [2], "both pulls on one connection");
    // Poll (not a sleep as a barrier): the client closes the idle connection by itself; the
    // default fetch client keeps it for 90 s, far past this deadline.
    const deadline = pulledAt + PULL_IDLE_MS + 8_000;
    while (server.conns[0].closedAt === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const closedAt = server.conns[0].closedAt;
    ok(
      closedAt !== undefined,
      `the idle pull connection was still open ${deadline - pulledAt} ms on`,
    );
    ok(closedAt - pulledAt >= PULL_IDLE_MS - 200, `closed after ${closedAt - pulledAt} ms`);
  } finally {
    await server.close();
  }
});
