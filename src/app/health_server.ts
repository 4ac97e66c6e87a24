/** The local HTTP surface: /healthz, /readyz, /metrics, /status. */

import { Hono } from "hono";
import type { Health } from "../health.ts";
import type { Metrics } from "../metrics.ts";
import { secrets } from "../secrets.ts";
import { safeJson, safeText } from "../terminal_text.ts";

export interface ServerDeps {
  health: Health;
  metrics: Metrics;
  /** The JSON of /status; called on every request. */
  status: () => Record<string, unknown>;
  /** False once the process can no longer do its work (e.g. shutting down after a fatal error). */
  alive?: () => boolean;
}

/** The routes, as a hono app (tests call `app.request(...)` without a socket). */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  // Conditions and statuses quote errors, and errors may quote a peer: no secret goes out.
  app.use(async (c, next) => {
    await next();
    if (secrets.size === 0) return;
    c.res = new Response(secrets.redact(await c.res.text()), c.res);
  });
  app.get("/healthz", (c) => {
    const alive = deps.alive?.() ?? true;
    return c.text(alive ? "ok\n" : "not healthy\n", alive ? 200 : 503);
  });
  app.get("/readyz", (c) => {
    const ready = deps.health.ready();
    const reasons = deps.health.reasons().map(safeText); // reasons may quote a peer
    const body = ready
      ? `ready${reasons.length ? "\n" + reasons.join("\n") : ""}\n`
      : `not ready\n${reasons.join("\n")}\n`;
    return c.text(body, ready ? 200 : 503);
  });
  app.get("/metrics", (c) =>
    c.body(deps.metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));
  // safeJson: JSON.stringify leaves C1 controls and U+2028/2029 raw; a peer's name may hold them.
  app.get("/status", (c) =>
    c.body(
      safeJson({
        ready: deps.health.ready(),
        degraded: deps.health.degraded(),
        conditions: deps.health.snapshot(),
        ...deps.status(),
      }),
      200,
      { "content-type": "application/json" },
    ));
  app.notFound((c) => c.text("not found: try /healthz /readyz /metrics /status\n", 404));
  return app;
}

/** The address could not be listened on. */
export class ListenError extends Error {
  constructor(addr: string, cause: unknown) {
    const why = cause instanceof Deno.errors.AddrInUse
      ? "the address is already in use (another collector running? choose another with --health-addr)"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super(`cannot listen on ${addr} for the health endpoint: ${why}`);
    this.name = "ListenError";
  }
}

export interface RunningServer {
  /** The bound address, e.g. 127.0.0.1:9797 (the real port when 0 was asked). */
  address: string;
  finished: Promise<void>;
}

/** Serves the app until `signal` aborts. Throws ListenError when the address cannot be bound. */
export function serve(
  app: Hono,
  listen: { hostname: string; port: number },
  signal: AbortSignal,
): RunningServer {
  const shown = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: listen.hostname,
      port: listen.port,
      signal,
      onListen: () => {},
    }, app.fetch);
  } catch (e) {
    throw new ListenError(`${shown}:${listen.port}`, e);
  }
  return { address: `${shown}:${server.addr.port}`, finished: server.finished };
}
