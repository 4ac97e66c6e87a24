/**
 * A byte forwarder between a loopback TCP port and a unix socket: how a CRI-O node (a network
 * namespace of its own) and this host reach each other's loopback without any link or address
 * between them. Run as `deno run -A fwd.ts <tcp|unix> <listen> <tcp|unix> <connect>` (inside the
 * node, under nsenter), or in-process with `forward()`. Every connection accepted is piped both
 * ways to a new connection to the target and both close together.
 */

/** One end: a loopback TCP port or a unix socket path. */
export type End = { tcp: number } | { unix: string };

function listen(e: End): Deno.Listener {
  return "tcp" in e
    ? Deno.listen({ hostname: "127.0.0.1", port: e.tcp })
    : Deno.listen({ transport: "unix", path: e.unix });
}

function connect(e: End): Promise<Deno.Conn> {
  return "tcp" in e
    ? Deno.connect({ hostname: "127.0.0.1", port: e.tcp })
    : Deno.connect({ transport: "unix", path: e.unix });
}

async function pipe(a: Deno.Conn, b: Deno.Conn): Promise<void> {
  await Promise.allSettled([
    a.readable.pipeTo(b.writable).catch(() => {}),
    b.readable.pipeTo(a.writable).catch(() => {}),
  ]);
  for (const c of [a, b]) {
    try {
      c.close();
    } catch { /* closed by its stream */ }
  }
}

/**
 * Listens on `from` and forwards each connection to `to`; the listener's port (TCP) and a close.
 * @example const f = forward({ unix: "/tmp/x/up.sock" }, { tcp: 16443 }); f.close();
 */
export function forward(from: End, to: End): { port: number; close(): void } {
  const l = listen(from);
  (async () => {
    for await (const conn of l) {
      connect(to).then((t) => pipe(conn, t), () => conn.close());
    }
  })().catch(() => {});
  return {
    port: "tcp" in from ? (l.addr as Deno.NetAddr).port : 0,
    close: () => {
      try {
        l.close();
      } catch { /* closed */ }
    },
  };
}

function end(kind: string | undefined, v: string | undefined): End {
  if (kind === "tcp" && /^\d+$/.test(v ?? "")) return { tcp: Number(v) };
  if (kind === "unix" && v) return { unix: v };
  throw new Error(`fwd.ts: bad end ${kind} ${v}`);
}

if (import.meta.main) {
  const [lk, lv, ck, cv] = Deno.args;
  const f = forward(end(lk, lv), end(ck, cv));
  console.log(`listening ${f.port}`);
}
