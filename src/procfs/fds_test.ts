import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { createLogger } from "../log.ts";
import { createSystem, type System } from "../system.ts";
import { FD_READ_CONCURRENCY, socketInodesOf } from "./fds.ts";

/**
 * A real bash child holding nearly as many fds as its hard limit allows (up to ~20k): /dev/null
 * dup'ed over and over, a loopback socket at fd 3 and another at its highest fd.
 */
async function manyFdsChild() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const script = `
    set -e
    hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=20000; [ "$hard" -gt 20000 ] && hard=20000
    ulimit -n "$hard"; last=$((hard - 20))
    exec 3<>/dev/tcp/127.0.0.1/$PORT
    for ((i = 10; i < last; i++)); do eval "exec $i</dev/null"; done
    eval "exec $last<>/dev/tcp/127.0.0.1/$PORT"
    echo "ready $last"
    read -r _
  `;
  const child = new Deno.Command("bash", {
    args: ["-c", script],
    env: { PORT: String(listener.addr.port) },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the child ended before it was ready: ${said}`);
    said += value;
  }
  const last = Number(/ready (\d+)/.exec(said)![1]);
  const base = createSystem();
  const inode = async (fd: number) =>
    Number(/socket:\[(\d+)\]/.exec(await base.readLink(`/proc/${child.pid}/fd/${fd}`))![1]);
  return {
    pid: child.pid,
    last,
    first: await inode(3),
    lastInode: await inode(last),
    async [Symbol.asyncDispose]() {
      await child.stdin.close();
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      listener.close();
    },
  };
}

/** The real system, counting readlink calls and the most in flight at once. */
function countingSystem() {
  const base = createSystem();
  const seen = { calls: 0, inFlight: 0, maxInFlight: 0, dirNames: 0 };
  const system: System = {
    ...base,
    async readDir(p, limit) {
      const names = await base.readDir(p, limit);
      seen.dirNames = Math.max(seen.dirNames, names.length);
      return names;
    },
    async readLink(p) {
      seen.calls++;
      seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
      try {
        return await base.readLink(p);
      } finally {
        seen.inFlight--;
      }
    },
  };
  return { system, seen };
}

Deno.test("a process with ~20k fds: its sockets are found with a bounded number of readlinks in flight", async () => {
  await using child = await manyFdsChild();
  ok(child.last > 1000, `the child holds only ${child.last} fds`);
  const { system, seen } = countingSystem();
  const inodes = await socketInodesOf(system, child.pid);
  ok(inodes.has(child.first), "the socket at fd 3");
  ok(inodes.has(child.lastInode), `the socket at fd ${child.last}`);
  ok(seen.calls >= child.last - 10, `read ${seen.calls} links`);
  ok(seen.maxInFlight <= FD_READ_CONCURRENCY, `${seen.maxInFlight} readlinks in flight`);
});

Deno.test("past the per-process cap the rest of the fds are not read, and a warning says so", async () => {
  await using child = await manyFdsChild();
  const { system, seen } = countingSystem();
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const inodes = await socketInodesOf(system, child.pid, { maxFds: 1000, concurrency: 4, log });
  ok(inodes.has(child.first));
  ok(!inodes.has(child.lastInode), "the socket past the cap is not looked at");
  ok(seen.calls <= 1000, `read ${seen.calls} links`);
  ok(seen.dirNames <= 1001, `listed ${seen.dirNames} names`);
  ok(seen.maxInFlight <= 4, `${seen.maxInFlight} in flight`);
  const warned = lines.filter((l) => l.includes("more fds than are read"));
  assertEquals(warned.length, 1, lines.join("\n"));
  ok(warned[0].includes(`pid=${child.pid}`) && warned[0].includes("read=1000"), warned[0]);
});
