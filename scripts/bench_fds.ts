/**
 * Cost of reading one process's socket fds: `deno run -A scripts/bench_fds.ts [--fds 19900]
 * [--old]`. A bash child holds about `--fds` fds (/dev/null dup'ed, two loopback sockets; capped by
 * the hard RLIMIT_NOFILE); this process reads them with socketInodesOf and reports wall time and
 * RSS before/after/peak. `--old` reads them all at once (no concurrency bound, no cap: how it
 * was before), for the before/after figure. Run each mode in its own process (peak RSS is the
 * process's).
 */

import { parseArgs } from "node:util";
import { createSystem } from "../src/system.ts";
import { socketInodesOf } from "../src/procfs/fds.ts";

function statusMiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return Math.round(Number(m?.[1] ?? 0) / 102.4) / 10;
}

const args = parseArgs({
  args: Deno.args,
  options: { fds: { type: "string", default: "19900" }, old: { type: "boolean", default: false } },
});
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const child = new Deno.Command("bash", {
  args: [
    "-c",
    `hard=$(ulimit -Hn); want=$((FDS + 20)); [ "$hard" != unlimited ] && [ "$want" -gt "$hard" ] && want=$hard
     ulimit -n "$want"; last=$((want - 20))
     exec 3<>/dev/tcp/127.0.0.1/$PORT
     for ((i = 10; i < last; i++)); do eval "exec $i</dev/null"; done
     eval "exec $last<>/dev/tcp/127.0.0.1/$PORT"
     echo "ready $last"; read -r _`,
  ],
  env: { PORT: String(listener.addr.port), FDS: args.values.fds },
  stdin: "piped",
  stdout: "piped",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let said = "";
while (!said.includes("\n")) {
  const r = await reader.read();
  if (r.done) throw new Error(`the child ended: ${said}`);
  said += r.value;
}
const system = createSystem();
const rssBefore = statusMiB("VmRSS");
const began = performance.now();
const inodes = await socketInodesOf(
  system,
  child.pid,
  args.values.old ? { concurrency: Infinity, maxFds: Infinity } : {},
);
const ms = Math.round(performance.now() - began);
const report = {
  mode: args.values.old ? "old (all at once)" : "bounded",
  fds: Number(/ready (\d+)/.exec(said)?.[1] ?? 0),
  sockets: inodes.size,
  ms,
  rssBeforeMiB: rssBefore,
  rssAfterMiB: statusMiB("VmRSS"),
  peakMiB: statusMiB("VmHWM"),
};
console.log(`BENCH_JSON ${JSON.stringify(report)}`);
await child.stdin.close();
await child.status;
reader.releaseLock();
await child.stdout.cancel().catch(() => {});
listener.close();
