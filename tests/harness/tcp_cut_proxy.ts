/**
 * A loopback TCP proxy that injects connection faults: it relays bytes untouched (TLS passes
 * through), `cut()` closes every open connection at once, and while `refuse(true)` holds every new
 * connection is accepted and closed at once. Counts are kept, and a test awaits them as events.
 */

interface Pair {
  client: Deno.Conn;
  upstream: Deno.Conn;
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

/**
 * @example
 * await using p = TcpCutProxy.start({ hostname: "127.0.0.1", port: 6443 });
 * // point the client at 127.0.0.1:p.port; later:
 * p.refuse(true); p.cut(); await p.refusedAtLeast(1, signal); p.refuse(false);
 */
export class TcpCutProxy implements AsyncDisposable {
  #listener: Deno.TcpListener;
  #pairs = new Set<Pair>();
  #refusing = false;
  #accepted = 0;
  #refused = 0;
  #waiters = new Set<() => void>();
  #relays = new Set<Promise<void>>();
  #loop: Promise<void>;

  private constructor(listener: Deno.TcpListener, private upstream: Deno.ConnectOptions) {
    this.#listener = listener;
    this.#loop = this.#acceptLoop();
  }

  /** Listens on a free loopback port and relays to `upstream` (a loopback address). */
  static start(upstream: { hostname: string; port: number }): TcpCutProxy {
    if (upstream.hostname !== "127.0.0.1" && upstream.hostname !== "localhost") {
      throw new Error(`tcp_cut_proxy: upstream ${upstream.hostname} is not loopback`);
    }
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return new TcpCutProxy(l, { hostname: upstream.hostname, port: upstream.port });
  }

  /** The proxy's port on 127.0.0.1. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Connections relayed so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Connections closed at once because `refuse(true)` held. */
  get refused(): number {
    return this.#refused;
  }

  /** Connections open now. */
  get open(): number {
    return this.#pairs.size;
  }

  /** While `on`, new connections are closed as soon as they are accepted. */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /** Closes every open connection (both sides); returns how many there were. */
  cut(): number {
    const n = this.#pairs.size;
    for (const p of this.#pairs) this.#drop(p);
    return n;
  }

  /** Resolves once `refused` reaches `n` (rejects when `signal` aborts). */
  refusedAtLeast(n: number, signal: AbortSignal): Promise<void> {
    return this.#until(() => this.#refused >= n, signal);
  }

  /** Resolves once `accepted` reaches `n` (rejects when `signal` aborts). */
  acceptedAtLeast(n: number, signal: AbortSignal): Promise<void> {
    return this.#until(() => this.#accepted >= n, signal);
  }

  #until(ok: () => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        cleanup();
        resolve();
      };
      const abort = () => {
        cleanup();
        reject(signal.reason);
      };
      const cleanup = () => {
        this.#waiters.delete(check);
        signal.removeEventListener("abort", abort);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", abort);
      this.#waiters.add(check);
      check();
    });
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  #drop(p: Pair): void {
    if (!this.#pairs.delete(p)) return;
    closeQuietly(p.client);
    closeQuietly(p.upstream);
  }

  async #acceptLoop(): Promise<void> {
    // Ends when the listener is closed.
    try {
      for await (const conn of this.#listener) {
        if (this.#refusing) {
          closeQuietly(conn);
          this.#refused++;
          this.#notify();
          continue;
        }
        const r = this.#relay(conn).finally(() => this.#relays.delete(r));
        this.#relays.add(r);
      }
    } catch { /* listener closed */ }
  }

  async #relay(client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect(this.upstream);
    } catch {
      closeQuietly(client);
      return;
    }
    const p = { client, upstream };
    this.#pairs.add(p);
    this.#accepted++;
    this.#notify();
    // Either direction ending (or failing) ends the connection.
    const opts = { preventClose: true, preventAbort: true, preventCancel: true };
    await Promise.race([
      client.readable.pipeTo(upstream.writable, opts).catch(() => {}),
      upstream.readable.pipeTo(client.writable, opts).catch(() => {}),
    ]);
    this.#drop(p);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    this.cut();
    await this.#loop;
    await Promise.all([...this.#relays]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
