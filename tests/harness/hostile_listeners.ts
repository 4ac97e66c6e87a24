/**
 * Hostile listeners on loopback, in the test process: a "trickler" that answers every request
 * with coverage identity headers, a huge Content-Length and then a byte per drip, and "silent"
 * sockets that accept and never answer. They count what they do, so tests wait on events.
 */

import { parseIdentity } from "../../src/probe/server_identity.ts";
import type { Candidate, Target } from "../../src/target.ts";
import { identityHeaders } from "./covfiles.ts";

/** A listener the test owns; `close` ends it and every connection it holds. */
export interface HostileListener extends AsyncDisposable {
  readonly port: number;
  /** Connections accepted and not closed yet. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** The most drips sent on one connection (trickler). */
  readonly maxDrips: number;
  close(): Promise<void>;
}

/** Options of `startTrickler`. */
export interface TricklerOptions {
  /** Content-Length announced; default 60 MB. */
  announce?: number;
  /** Pause between drips of one byte; default 100 ms. */
  dripMs?: number;
  /** Called after every drip with the drips sent on that connection. */
  onDrip?: (drips: number) => void;
}

function listener(
  serve: (conn: Deno.Conn, dripped: (n: number) => void, signal: AbortSignal) => Promise<void>,
): HostileListener {
  const ln = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stop = new AbortController();
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let accepted = 0;
  let maxDrips = 0;
  const loop = (async () => {
    for await (const conn of ln) {
      accepted++;
      conns.add(conn);
      const dripped = (n: number) => maxDrips = Math.max(maxDrips, n);
      const h = serve(conn, dripped, stop.signal).catch(() => {}).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed already */ }
        handlers.delete(h);
      });
      handlers.add(h);
    }
  })().catch(() => {});
  const close = async () => {
    stop.abort();
    try {
      ln.close();
    } catch { /* closed already */ }
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed already */ }
    }
    await loop;
    await Promise.all([...handlers]);
  };
  return {
    port: (ln.addr as Deno.NetAddr).port,
    get open() {
      return conns.size;
    },
    get accepted() {
      return accepted;
    },
    get maxDrips() {
      return maxDrips;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads until the end of the request head (or the peer closes); false when it closed. */
async function readHead(conn: Deno.Conn): Promise<boolean> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) return false;
    text += new TextDecoder().decode(buf.subarray(0, n));
    if (text.length > 65536) return false;
  }
  return true;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

/**
 * A coverage server that lies: identity headers (binary `trickler`, this process's PID),
 * `Content-Length: announce`, then one byte of a JSON body every `dripMs` until the client goes.
 * @example await using t = startTrickler(); t.port
 */
export function startTrickler(o: TricklerOptions = {}): HostileListener {
  const announce = o.announce ?? 60_000_000;
  const dripMs = o.dripMs ?? 100;
  return listener(async (conn, dripped, signal) => {
    if (!await readHead(conn)) return;
    const headers = Object.entries({
      ...identityHeaders("trickler", Deno.pid),
      "content-type": "application/json",
      "content-length": String(announce),
    }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const enc = new TextEncoder();
    await conn.write(enc.encode(`HTTP/1.1 200 OK\r\n${headers}\r\n{"counters_data":"`));
    for (let drips = 1; !signal.aborted; drips++) {
      await pause(dripMs, signal);
      if (signal.aborted) break;
      await conn.write(enc.encode("A")); // throws once the client is gone
      dripped(drips);
      o.onDrip?.(drips);
    }
  });
}

/**
 * `n` sockets that accept connections and never send a byte (read what comes, hold it open).
 * @example const s = startSilent(300); s.map((l) => l.port)
 */
export function startSilent(n: number): HostileListener[] {
  return Array.from({ length: n }, () =>
    listener(async (conn, _dripped, signal) => {
      const buf = new Uint8Array(4096);
      while (!signal.aborted && await conn.read(buf) !== null) { /* hold it open */ }
    }));
}

/** The `_host_` target of a hostile listener on 127.0.0.1 (identity from its own headers). */
export function hostileTarget(port: number): Target {
  return {
    key: `_host_:${port}`,
    owner: { kind: "host" },
    host: "127.0.0.1",
    port,
    identity: parseIdentity(new Headers(identityHeaders("trickler", Deno.pid)))!,
    hostPid: Deno.pid,
    discoveredAt: new Date(),
  };
}

/**
 * A loopback host candidate (no container, no owning PID known) as discovery would list it.
 * @example engineOver([hostCandidate(silent.port, 1000), hostCandidate(good.coveragePort, 1)])
 */
export function hostCandidate(port: number, inode: number): Candidate {
  return { owner: { kind: "host" }, host: "127.0.0.1", port, inode, pids: [] };
}
