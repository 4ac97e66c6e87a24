/**
 * Micro-benchmark: CPU per pull. Starts K real `-cover` fixture servers on loopback and pulls each
 * with pullCoverage (as the collector does), reporting CPU ms per pull of this process, all
 * threads included (/proc/self/stat utime+stime), and of the servers.
 *
 * Usage: scripts/deno run -A scripts/bench_pull_cpu.ts [--servers 10] [--pulls 2000] [--nometa]
 *   [--rate 25] (paced like the steady state; 0 = back to back) [--alive] (also the /proc reads)
 */

import { parseArgs } from "node:util";
import { pullCoverage } from "../src/collect/pull.ts";
import { startCovserver } from "../tests/harness/covserver.ts";

function cpuTicks(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 Hz)
}

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    servers: { type: "string" },
    pulls: { type: "string" },
    nometa: { type: "boolean", default: false },
    rate: { type: "string" },
    alive: { type: "boolean", default: false },
  },
});
const k = Number(args.servers ?? 10);
const pulls = Number(args.pulls ?? 2000);
/** Pulls a second, paced like the collector's steady state (0: back to back). */
const rate = Number(args.rate ?? 0);
const servers = await Promise.all(Array.from({ length: k }, () => startCovserver()));
try {
  const alive = async (i: number) => {
    if (!args.alive) return;
    await Deno.readTextFile(`/proc/${servers[i % k].pid}/status`);
    await Deno.readTextFile(`/proc/${servers[i % k].pid}/stat`);
  };
  const pull = async (i: number) => {
    await alive(i);
    return await pullCoverage({
      host: "127.0.0.1",
      port: servers[i % k].coveragePort,
      nometa: args.nometa === true,
      timeoutMs: 30_000,
      maxBody: 64 << 20,
    });
  };
  for (let i = 0; i < k * 5; i++) await pull(i); // warm up
  const t0 = cpuTicks("self");
  const s0 = servers.reduce((a, s) => a + cpuTicks(s.pid), 0);
  const w0 = performance.now();
  let bytes = 0;
  if (rate > 0) {
    const gap = 1000 / rate;
    const running: Promise<void>[] = [];
    for (let i = 0; i < pulls; i++) {
      const due = w0 + i * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      running.push(pull(i).then((r) => void (bytes += r.bodyBytes)));
    }
    await Promise.all(running);
  } else {
    for (let i = 0; i < pulls; i++) bytes += (await pull(i)).bodyBytes;
  }
  const wall = performance.now() - w0;
  const self = (cpuTicks("self") - t0) * 10;
  const srv = servers.reduce((a, s) => a + cpuTicks(s.pid), 0) - s0;
  console.log(
    `servers=${k} pulls=${pulls} rate=${rate} nometa=${args.nometa} alive=${args.alive} body=${
      Math.round(bytes / pulls)
    }B ` +
      `wall=${(wall / pulls).toFixed(3)}ms/pull cpu=${(self / pulls).toFixed(3)}ms/pull ` +
      `servers-cpu=${(srv * 10 / pulls).toFixed(3)}ms/pull`,
  );
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
