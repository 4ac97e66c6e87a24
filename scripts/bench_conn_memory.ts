/**
 * What one kept-alive pull connection costs the pulling process:
 * `scripts/deno run -A scripts/bench_conn_memory.ts [--servers 250,1000] [--body 4096]`.
 * A child process serves N loopback ports (a body of --body bytes each); this process, run with
 * the V8 flags of deno.json's start task, GETs each once with `fetch` as a pull does — the
 * default client, which keeps the connection for the next pull — and once with a client that
 * keeps none, then collects garbage and reads its RssAnon and V8 heap. The difference over N is
 * the off-heap cost of an idle pooled connection per server (measured: 33-37 KiB per server
 * kept alive against 10-12 KiB with none, at 250 and at 1,000). Closing idle pull connections
 * (a client with `poolIdleTimeout: 2000`) was tried on this figure and made the daemon worse in
 * `scripts/bench --servers 250`: peak RSS 127 MiB against 111, anonymous RSS 75 against 61 MiB at
 * the end (the V8 heap alike): the reconnect per pull costs more malloc memory off the heap than
 * the kept connections; see README "Memory at 250 and 1,000 servers".
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";

const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), "..");

const SERVER = `
const n = Number(Deno.args[0]), body = "x".repeat(Number(Deno.args[1]));
const ports = [];
for (let i = 0; i < n; i++) {
  const s = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response(body));
  ports.push(s.addr.port);
}
console.log(JSON.stringify(ports));
await new Promise(() => {});
`;

const PULLER = `
const ports = JSON.parse(Deno.args[0]);
const keep = Deno.args[1] === "keep";
const client = keep ? undefined : Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
const st = () => {
  globalThis.gc();
  const s = Deno.readTextFileSync("/proc/self/status");
  return { anon: Number(/^RssAnon:\\s+(\\d+)/m.exec(s)[1]) * 1024, heap: Deno.memoryUsage().heapUsed };
};
// warm the code paths with one request first, so the figures count connections, not code
await (await fetch("http://127.0.0.1:" + ports[0] + "/", { client })).arrayBuffer();
const before = st();
for (let round = 0; round < 2; round++) {
  for (const p of ports) await (await fetch("http://127.0.0.1:" + p + "/", { client })).arrayBuffer();
}
const after = st();
const fds = [...Deno.readDirSync("/proc/self/fd")].length;
console.log(JSON.stringify({ anon: after.anon - before.anon, heap: after.heap - before.heap, fds }));
`;

async function v8Flags(): Promise<string> {
  const deno = JSON.parse(await Deno.readTextFile(join(repoRoot, "deno.json")));
  const flag = String(deno.tasks?.start ?? "").split(/\s+/).find((t) =>
    t.startsWith("--v8-flags=")
  );
  return flag ? `${flag},--expose-gc` : "--v8-flags=--expose-gc";
}

async function measure(n: number, body: number, keep: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "cc-connmem-" });
  const server = join(dir, "server.ts"), puller = join(dir, "puller.ts");
  await Deno.writeTextFile(server, SERVER);
  await Deno.writeTextFile(puller, PULLER);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", server, String(n), String(body)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("server ended before listing its ports");
      text += value;
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", await v8Flags(), puller, text.trim(), keep ? "keep" : "none"],
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("puller failed");
    return JSON.parse(new TextDecoder().decode(out.stdout)) as {
      anon: number;
      heap: number;
      fds: number;
    };
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { servers: { type: "string" }, body: { type: "string" } },
  });
  const counts = (values.servers ?? "250,1000").split(",").map(Number);
  const body = Number(values.body ?? 4096);
  const rows = [];
  for (const n of counts) {
    for (const keep of [true, false]) {
      const r = await measure(n, body, keep);
      rows.push({ servers: n, keepAlive: keep, ...r });
      console.log(
        `${n} servers, ${keep ? "kept-alive (default fetch)" : "no idle connection"}: ` +
          `RssAnon +${(r.anon / 1024 / 1024).toFixed(1)} MiB (${
            (r.anon / n / 1024).toFixed(1)
          } KiB/server), heap +${(r.heap / 1024 / 1024).toFixed(1)} MiB, ${r.fds} fds`,
      );
    }
  }
  console.log(`BENCH_CONN_JSON ${JSON.stringify(rows)}`);
  return 0;
}

if (import.meta.main) Deno.exitCode = await main();
