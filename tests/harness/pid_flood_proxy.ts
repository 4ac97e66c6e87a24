/**
 * A hostile coverage server on loopback: a proxy in front of a real Go fixture that passes its
 * identity headers and data through, but names the counters with a new PID on every pull
 * (`covcounters.<hash>.<pid>.<nanos>`), as a pod trying to flood the store would.
 */

/** The proxy: its port, and how many pulls it answered. */
export interface PidFloodProxy extends AsyncDisposable {
  port: number;
  /** PIDs put in the counters names so far, in order. */
  pids: number[];
}

/**
 * Serves `upstream` (a coverage server's port on 127.0.0.1) on a new loopback port.
 * @example await using proxy = await startPidFloodProxy(srv.coveragePort);
 */
export function startPidFloodProxy(upstream: number, firstPid = 70000): Promise<PidFloodProxy> {
  const ac = new AbortController();
  const pids: number[] = [];
  let next = firstPid;
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: (a) => resolve(a.port) },
    async (req) => {
      const url = new URL(req.url);
      const res = await fetch(`http://127.0.0.1:${upstream}${url.pathname}${url.search}`, {
        method: req.method,
      });
      const headers = new Headers();
      for (const [k, v] of res.headers) {
        if (k.toLowerCase().startsWith("x-art-coverage-")) headers.set(k, v);
      }
      if (req.method !== "GET" || url.pathname !== "/coverage" || res.status !== 200) {
        const body = await res.arrayBuffer();
        return new Response(req.method === "HEAD" ? null : body, { status: res.status, headers });
      }
      const doc = await res.json() as Record<string, unknown>;
      const pid = next++;
      pids.push(pid);
      doc.counters_filename = String(doc.counters_filename).replace(
        /^(covcounters\.[^.]+)\.\d+\./,
        `$1.${pid}.`,
      );
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify(doc), { headers });
    },
  );
  return promise.then((port) => ({
    port,
    pids,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  }));
}
