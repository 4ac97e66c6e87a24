/**
 * How a CRI-O node (a network namespace of its own) and this host reach each other's loopback:
 * forward.ts inside the node (under nsenter) and in this process, joined by a unix socket in the run
 * directory. No link or address joins the namespaces.
 */

import { join } from "node:path";
import { forward } from "./forward.ts";

/** The forwards of one node; close() ends them all. */
export class NodeForwards {
  #stop = new AbortController();
  #forwarders: Deno.ChildProcess[] = [];
  #nodePortOf = new Map<number, number>();

  /** `initPid`: host PID of the node's PID 1; `dir`: its run directory. */
  constructor(readonly initPid: () => number, readonly dir: () => string) {}

  /** Starts forward.ts inside the node's network namespace; resolves once it listens. */
  async #nodeForwarder(args: string[]): Promise<number> {
    const fwd = new URL("./forward.ts", import.meta.url).pathname;
    const p = new Deno.Command("nsenter", {
      args: ["-t", String(this.initPid()), "-n", "--", Deno.execPath(), "run", "-A", fwd, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#forwarders.push(p);
    const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/listening (\d+)\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`crio node: forwarder ${args.join(" ")} ended: ${text}`);
      text += value;
    }
    reader.releaseLock();
    p.stdout.cancel().catch(() => {});
    return Number(/listening (\d+)/.exec(text)![1]);
  }

  /**
   * Makes this host's loopback port `port` answer on the node's loopback too (the node reaches
   * e.g. the test's kube-apiserver at the same https://127.0.0.1:<port>), through a unix socket
   * in the run directory: no link or address joins the namespaces.
   * @example await node.exposeHostPort(16443);
   */
  async exposeHostPort(port: number): Promise<void> {
    const sock = join(this.dir(), `up-${port}.sock`);
    forward({ unix: sock }, { tcp: port }, this.#stop.signal).done.catch(() => {});
    await this.#nodeForwarder(["tcp", String(port), "unix", sock]);
  }

  /**
   * A URL of this host's loopback that reaches `url` (http://127.0.0.1:<port>/... of the node's
   * loopback, e.g. a collector's health server inside the node).
   * @example const health = await node.reachFromHost("http://127.0.0.1:40123");
   */
  async reachFromHost(url: string): Promise<string> {
    const u = new URL(url);
    const port = Number(u.port);
    let hostPort = this.#nodePortOf.get(port);
    if (hostPort === undefined) {
      const sock = join(this.dir(), `down-${port}.sock`);
      await this.#nodeForwarder(["unix", sock, "tcp", String(port)]);
      const f = forward({ tcp: 0 }, { unix: sock }, this.#stop.signal);
      f.done.catch(() => {});
      hostPort = f.port;
      this.#nodePortOf.set(port, hostPort);
    }
    u.port = String(hostPort);
    return u.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  }

  /** Closes the listeners here and kills the forwarders in the node. */
  async close(): Promise<void> {
    this.#stop.abort();
    for (const p of this.#forwarders) {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
      await p.status;
    }
  }
}
