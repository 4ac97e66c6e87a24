/** Load for scripts/bench.ts: a CPU burner and field-size coverage servers next to the node. */

import { bigCoverBinary, type BigServer, startBigServer } from "../tests/harness/bigcover.ts";

/**
 * Starts a process that keeps one core busy until `stop()`.
 * @example const burn = startBurner(); ... await burn.stop();
 */
export function startBurner(): { stop(): Promise<void> } {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "for (;;) {}"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    stop: async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

/** Field-size servers on the host and their sizes. */
export interface BigServers {
  servers: BigServer[];
  /** Meta-data and counter sizes of one of them, as its /coverage answers. */
  metaBytes: number;
  countersBytes: number;
  stop(): Promise<void>;
}

/**
 * Builds (once) and starts `n` big servers on the host, coverage ports from `portStart`.
 * @example const big = await startBigServers(20, 54350); ... await big.stop();
 */
export async function startBigServers(n: number, portStart: number): Promise<BigServers> {
  const bin = await bigCoverBinary();
  const servers: BigServer[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await startBigServer(bin, portStart));
    const res = await fetch(`http://127.0.0.1:${servers[0].coveragePort}/coverage`);
    const body = await res.json() as { meta_data: string; counters_data: string };
    return {
      servers,
      metaBytes: Uint8Array.fromBase64(body.meta_data).byteLength,
      countersBytes: Uint8Array.fromBase64(body.counters_data).byteLength,
      stop: async () => {
        await Promise.all(servers.map((s) => s.stop()));
      },
    };
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()));
    throw e;
  }
}
