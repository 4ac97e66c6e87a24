/**
 * A byte-for-byte TCP/Unix-socket forwarder. The kube-apiserver of the kubelet tier listens on the
 * host's loopback; the kubelet and the collector live in the node's own network namespace, whose
 * loopback is not the host's. Two forwarders join them without a host interface: one inside the
 * node netns (`127.0.0.1:<port>` → `<dir>/api.sock`, run as its own process by `nsenter -n`), one
 * in the test process (`<dir>/api.sock` → host `127.0.0.1:<port>`). A filesystem Unix socket is
 * reachable from every network namespace; TLS passes through untouched, so the one URL
 * `https://127.0.0.1:<port>` works on both sides.
 *
 * The CRI-O node's loopback is joined to the host's the same way (node_forwards.ts), both ways.
 *
 * As a script: `deno run --allow-net --allow-read --allow-write forward.ts <tcp|unix> <listen>
 * <tcp|unix> <connect>` (inside a node, under nsenter); it prints `listening <port>` once it listens
 * and runs until SIGTERM or SIGKILL.
 */

/** Where a forwarder listens or connects. */
export type Endpoint = { tcp: number } | { unix: string };

function listenOn(e: Endpoint): Deno.Listener {
  return "tcp" in e
    ? Deno.listen({ hostname: "127.0.0.1", port: e.tcp })
    : Deno.listen({ transport: "unix", path: e.unix });
}

function connectTo(e: Endpoint): Promise<Deno.Conn> {
  return "tcp" in e
    ? Deno.connect({ hostname: "127.0.0.1", port: e.tcp })
    : Deno.connect({ transport: "unix", path: e.unix });
}

/** A running forwarder. */
export interface Forwarder {
  /** The port it listens on (a TCP `from`; 0 for a unix socket). */
  port: number;
  /** Ends when the signal aborted and the listener closed. */
  done: Promise<void>;
  /** Cuts every open connection (as a load balancer restart would); new ones are accepted. */
  drop(): void;
}

/**
 * Forwards every connection accepted on `from` to a new connection to `to` until `signal` aborts.
 * @example const stop = new AbortController(); forward({ unix: sock }, { tcp: 6443 }, stop.signal);
 */
export function forward(from: Endpoint, to: Endpoint, signal: AbortSignal): Forwarder {
  const listener = listenOn(from);
  const open = new Set<Deno.Conn>();
  const drop = () => {
    for (const c of open) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    open.clear();
  };
  const onAbort = () => {
    listener.close();
    drop();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const done = (async () => {
    try {
      for await (const a of listener) {
        if (signal.aborted) {
          a.close();
          break;
        }
        open.add(a);
        connectTo(to).then((b) => {
          open.add(b);
          const end = () => {
            for (const c of [a, b]) {
              open.delete(c);
              try {
                c.close();
              } catch { /* closed */ }
            }
          };
          Promise.allSettled([a.readable.pipeTo(b.writable), b.readable.pipeTo(a.writable)])
            .finally(end);
        }, () => {
          open.delete(a);
          a.close();
        });
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  })();
  return { port: "tcp" in from ? (listener.addr as Deno.NetAddr).port : 0, done, drop };
}

function endpoint(kind: string | undefined, v: string | undefined): Endpoint {
  if (kind === "tcp" && /^\d+$/.test(v ?? "")) return { tcp: Number(v) };
  if (kind === "unix" && v) return { unix: v };
  throw new Error(`forward.ts: bad end ${kind} ${v}`);
}

if (import.meta.main) {
  const [lk, lv, ck, cv] = Deno.args;
  const stop = new AbortController();
  Deno.addSignalListener("SIGTERM", () => stop.abort());
  const f = forward(endpoint(lk, lv), endpoint(ck, cv), stop.signal);
  console.log(`listening ${f.port}`);
  await f.done;
}
