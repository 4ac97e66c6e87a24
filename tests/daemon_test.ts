/** The daemon as a user starts it: `deno task start` flags, a health endpoint, clean exit. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnCollector } from "./harness/collector.ts";

async function tempDirs() {
  const dir = await Deno.makeTempDir({ prefix: "cc-daemon-" });
  return {
    dir,
    args: [
      "--health-addr",
      "127.0.0.1:0",
      "--output-dir",
      join(dir, "out"),
      "--state-dir",
      join(dir, "state"),
      "--crictl",
      join(dir, "no-crictl-here"),
      "--kubeconfig-wait",
      "0s",
      "--sink",
      "dir",
    ],
  };
}

Deno.test("the daemon logs its mode, serves /healthz on loopback and exits 0 on SIGTERM", async () => {
  const { dir, args } = await tempDirs();
  const c = await spawnCollector(["run", ...args], { cwd: dir });
  try {
    await c.waitLine(/msg=mode /);
    const url = await c.healthUrl();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /coverage_collector_build_info\{/);
    assert.match(metrics, /coverage_collector_process_cpu_seconds_total /);
    const status = await (await fetch(`${url}/status`)).json();
    assert.equal(typeof status.ready, "boolean");
    const st = await c.stop("SIGTERM");
    assert.equal(st.code, 0, c.lines.join("\n"));
    assert.ok(c.lines.some((l) => l.includes("msg=stopped")));
  } finally {
    await c.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a health address already in use is a clear error and a non-zero exit", async () => {
  const { dir, args } = await tempDirs();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  const withBusy = args.map((a) => a === "127.0.0.1:0" ? `127.0.0.1:${port}` : a);
  const c = await spawnCollector(["run", ...withBusy], { cwd: dir });
  try {
    const st = await c.status;
    assert.notEqual(st.code, 0);
    assert.ok(
      c.lines.some((l) => l.includes(`127.0.0.1:${port}`) && l.includes("already in use")),
      c.lines.join("\n"),
    );
  } finally {
    busy.close();
    await c.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the program from source: unknown command and bad flag exit 2 with one line", async () => {
  const unknown = await spawnCollector(["frobnicate"]);
  assert.equal((await unknown.status).code, 2);
  assert.equal(unknown.lines.filter((l) => l !== "").length, 1);
  assert.match(unknown.lines[0], /unknown command "frobnicate"/);
  const bad = await spawnCollector(["run", "--port-span", "many"]);
  assert.equal((await bad.status).code, 2);
  assert.match(bad.lines[0], /flag --port-span: "many" is not a whole number/);
  const help = await spawnCollector(["--help"]);
  assert.equal((await help.status).code, 0);
  assert.match(await help.stdout, /usage: coverage-collector/);
});
