/**
 * Micro-benchmark: CPU per GET of the two HTTP clients a pull could use, `fetch` and `node:http`
 * with a keep-alive agent, against K real `-cover` fixture servers on loopback, paced like a
 * node's steady state and run alternately (A B A B) in one process so load shifts hit both.
 * Reports CPU ms per GET of this process, all threads (/proc/self/stat utime+stime).
 *
 * Usage: scripts/deno run -A scripts/bench_http_client.ts [--servers 10] [--gets 3000] [--rounds 2]
 */

import http from "node:http";
import { parseArgs } from "node:util";
import { startCovserver } from "../tests/harness/covserver.ts";

function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, 100 Hz ticks
}

const { values: args } = parseArgs({
  args: Deno.args,
  options: { servers: { type: "string" }, gets: { type: "string" }, rounds: { type: "string" } },
});
const k = Number(args.servers ?? 10);
const gets = Number(args.gets ?? 3000);
const rounds = Number(args.rounds ?? 2);
const servers = await Promise.all(Array.from({ length: k }, () => startCovserver()));
const agent = new http.Agent({ keepAlive: true });
const headers = { accept: "application/json", "accept-encoding": "identity" };

const viaFetch = async (port: number) => {
  const r = await fetch(`http://127.0.0.1:${port}/coverage?nometa=1`, { headers });
  let n = 0;
  for await (const c of r.body!) n += c.byteLength;
  return n;
};
const viaNode = (port: number) =>
  new Promise<number>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: "/coverage?nometa=1", agent, headers }, (res) => {
      let n = 0;
      res.on("data", (c: Uint8Array) => n += c.byteLength);
      res.on("end", () => resolve(n));
      res.on("error", reject);
    }).on("error", reject);
  });

try {
  const clients = [["fetch", viaFetch], ["node:http keep-alive", viaNode]] as const;
  for (let r = 0; r < rounds; r++) {
    for (const [name, get] of clients) {
      for (let i = 0; i < 5 * k; i++) await get(servers[i % k].coveragePort); // warm up
      const t0 = cpuMs();
      let bytes = 0;
      for (let i = 0; i < gets; i++) {
        bytes += await get(servers[i % k].coveragePort);
        await new Promise((res) => setTimeout(res, 2)); // paced: the idle wake-up included
      }
      console.log(
        `round ${r + 1} ${name}: ${((cpuMs() - t0) / gets).toFixed(3)} ms CPU/GET ` +
          `(${Math.round(bytes / gets)} B bodies, ${k} servers)`,
      );
    }
  }
} finally {
  agent.destroy();
  await Promise.all(servers.map((s) => s.stop()));
}
