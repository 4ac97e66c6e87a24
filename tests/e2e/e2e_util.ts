/**
 * Helpers of the end-to-end tests: what a run needs (root, Go, netns), starting coverage servers
 * on a SimNode, driving their app routes, and reading what the collector stored (a directory or
 * S3) with `go tool covdata` as the judge.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { covserverBinary, hasGo } from "../harness/gobuild.ts";
import { canSimulateNode, type SimNode, type SimPod, type SimRunning } from "../harness/node.ts";

/** Why the end-to-end tests cannot run here, or null when they can. */
export async function e2eSkipReason(): Promise<string | null> {
  if (Deno.uid() !== 0) return "needs root (network namespaces, cgroups)";
  if (!(await hasGo())) return "needs Go (coverage fixture, go tool covdata)";
  if (!(await canSimulateNode())) return "cannot simulate a node (ip, unshare, setsid, cgroups)";
  return null;
}

/**
 * Registers a Deno test that is ignored, with `skip` (the reason) in its name, unless it is null.
 * @example e2eTest("once stores every server", await e2eSkipReason(), async () => {});
 */
export function e2eTest(name: string, skip: string | null, fn: () => Promise<void>): void {
  Deno.test({ name: name + (skip ? ` (skipped: ${skip})` : ""), ignore: skip !== null, fn });
}

/** A coverage server started on the node, with the ports it printed. */
export interface E2eServer {
  proc: SimRunning;
  /** Address to reach it from the host: the pod IP, or 127.0.0.1 in the host netns. */
  address: string;
  coveragePort: number;
  appPort: number;
  /** The reported binary name (FIXTURE_BINARY_NAME). */
  binary: string;
}

/** Where a server runs: a pod container, or a host process. */
export type Place =
  | { pod: SimPod; container: string; imageRef?: string }
  | { host: SimNode };

/**
 * Starts the fixture as `binary` (FIXTURE_BINARY_NAME) in a container or as a host process and
 * waits for its port lines. A host process's name gets `-<node runId>` appended (the returned
 * `binary` has it): other runs of the same test on this machine start host servers of the same
 * name, and two found in the same second would share one `_host_/<time>/<binary>` prefix.
 * @example
 * const s = await startServer({ pod, container: "app" }, { binary: "web", env: { COVERAGE_PORT: "56100" } });
 */
export async function startServer(
  place: Place,
  { binary: base, env }: { binary: string; env: Record<string, string> },
): Promise<E2eServer> {
  const command = await covserverBinary();
  const binary = "host" in place ? `${base}-${place.host.runId}` : base;
  const fullEnv = { APP_PORT: "0", FIXTURE_BINARY_NAME: binary, ...env };
  let proc: SimRunning;
  let address = "127.0.0.1";
  if ("host" in place) {
    proc = await place.host.addHostProcess({ command, env: fullEnv });
  } else {
    proc = await place.pod.addContainer({
      name: place.container,
      command,
      env: fullEnv,
      imageRef: place.imageRef,
    });
    if (place.pod.ip) address = place.pod.ip;
  }
  const cov = await proc.waitLine(/^coverage-port=(\d+)$/, 20_000);
  const app = await proc.waitLine(/^app-port=(\d+)$/, 20_000);
  return { proc, address, coveragePort: Number(cov[1]), appPort: Number(app[1]), binary };
}

/**
 * The PID the server reports (`X-Art-Coverage-Pid` of a HEAD), as info.json must record it.
 * @example await reportedPid(server) // 1 in a container
 */
export async function reportedPid(s: E2eServer): Promise<number> {
  const res = await fetch(`http://${s.address}:${s.coveragePort}/health`, { method: "HEAD" });
  await res.body?.cancel();
  const pid = Number(res.headers.get("x-art-coverage-pid"));
  assert.ok(pid > 0, `${s.binary}: no X-Art-Coverage-Pid on HEAD /health`);
  return pid;
}

/**
 * Runs an app route of a server `times` times (its code path shows as covered).
 * @example await exercise(server, "alpha", 3);
 */
export async function exercise(s: E2eServer, route: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await fetch(`http://${s.address}:${s.appPort}/run/${route}?n=${i + 2}`);
    const body = await res.text();
    assert.equal(res.status, 200, `GET /run/${route} on ${s.binary}: ${res.status} ${body}`);
  }
}

/** `s` with `/`, `:` and `@` as `-` and leading `-` dropped (the layout rule of the reference). */
export function segment(s: string): string {
  return s.replace(/[/:@]/g, "-").replace(/^-+/, "") || "unknown";
}

/** A discovery-time segment. */
export const TIME = "\\d{8}T\\d{6}Z";

/** Escapes text for a RegExp. */
export function re(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every stored file under `root` (relative paths, sorted; writes in flight left out). */
export async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(join(d, e.name), r);
      // The dir sink writes `.<name>.<random>.tmp` and renames it: a write in flight, not a file.
      else if (!(e.name.startsWith(".") && e.name.endsWith(".tmp"))) out.push(r);
    }
  };
  try {
    await walk(root, "");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Files grouped by their directory: prefix → base names. */
export function byPrefix(keys: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const k of keys) {
    const i = k.lastIndexOf("/");
    const dir = k.slice(0, i);
    const list = m.get(dir) ?? [];
    list.push(k.slice(i + 1));
    m.set(dir, list);
  }
  return m;
}

/**
 * Checks one prefix's files: info.json, exactly one `covmeta.<hash>`, counters
 * `covcounters.<hash>.<pid>.{1,2}` of that hash only, and maybe its `covtimeline.<hash>.<n>`. Returns the hash and the counters' pid.
 */
export function checkPrefixFiles(prefix: string, names: string[]): { hash: string; pid: number } {
  const what = `${prefix}: ${names.join(", ")}`;
  assert.ok(names.includes("info.json"), `no info.json in ${what}`);
  const metas = names.filter((n) => n.startsWith("covmeta."));
  assert.equal(metas.length, 1, `not exactly one covmeta in ${what}`);
  const hash = metas[0].slice("covmeta.".length);
  assert.match(hash, /^[0-9a-f]{32}$/, `meta name in ${what}`);
  const counters = names.filter((n) => n.startsWith("covcounters."));
  assert.ok(counters.length >= 1 && counters.length <= 2, `counters in ${what}`);
  const pids = new Set<number>();
  for (const c of counters) {
    const m = /^covcounters\.([0-9a-f]{32})\.(\d+)\.([12])$/.exec(c);
    assert.ok(m, `counters name ${c} in ${prefix}`);
    assert.equal(m[1], hash, `counters ${c} do not pair with covmeta.${hash} in ${prefix}`);
    pids.add(Number(m[2]));
  }
  assert.equal(pids.size, 1, `counters of more than one pid in ${what}`);
  // The coverage timeline (covtimeline.<hash>.<n>) of that meta hash may sit beside them.
  const timeline = (n: string) => new RegExp(`^covtimeline\\.${hash}\\.\\d+$`).test(n);
  const extra = names.filter((n) =>
    n !== "info.json" && !n.startsWith("covmeta.") && !n.startsWith("covcounters.") &&
    !timeline(n)
  );
  assert.deepEqual(extra, [], `unexpected files in ${prefix}`);
  return { hash, pid: [...pids][0] };
}

/** Runs `go tool <args>`; its stdout, or an error with its stderr. */
export async function goTool(args: string[]): Promise<string> {
  const out = await new Deno.Command("go", {
    args: ["tool", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`go tool ${args.join(" ")} failed (${out.code}): ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** `go tool covdata percent -i dir` output (throws when covdata cannot read the directory). */
export function covdataPercent(dir: string): Promise<string> {
  return goTool(["covdata", "percent", "-i", dir]);
}

/**
 * `go tool covdata func -i dir` as `package.Func` → percent (e.g. `alpha.Run` → 100).
 * @example (await covdataFunc(dir)).get("gamma.Run") // 0
 */
export async function covdataFunc(dir: string): Promise<Map<string, number>> {
  const text = await goTool(["covdata", "func", "-i", dir]);
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const f = /^(\S+)\/[^/\s]+\.go:\d+:\s+(\S+)\s+([\d.]+)%$/.exec(line.trim());
    if (f) m.set(`${f[1].split("/").pop()}.${f[2]}`, Number(f[3]));
  }
  if (m.size === 0) throw new Error(`go tool covdata func -i ${dir}: no functions in: ${text}`);
  return m;
}

/**
 * Asserts which fixture routes show as covered in `dir`: `ran` above 0%, the rest at 0%.
 * @example await assertRoutes(dir, ["alpha"], "pod web");
 */
export async function assertRoutes(dir: string, ran: string[], what: string): Promise<void> {
  const funcs = await covdataFunc(dir);
  for (const route of ["alpha", "beta", "gamma"]) {
    const pct = funcs.get(`${route}.Run`);
    assert.notEqual(pct, undefined, `${what}: covdata func lists no ${route}.Run`);
    if (ran.includes(route)) assert.ok(pct! > 0, `${what}: ${route}.Run ran but shows ${pct}%`);
    else assert.equal(pct, 0, `${what}: ${route}.Run never ran but shows ${pct}%`);
  }
}

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; the last error
 * is in the failure message. For state outside this process that has no event to await.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = "never checked";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      last = "not yet";
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The collector flags every end-to-end run shares. */
export function baseFlags(o: {
  node: SimNode;
  stateDir: string;
  portStart: number;
  hostname?: string;
}): string[] {
  return [
    "--crictl",
    o.node.crictlPath,
    "--host-root",
    "/",
    "--state-dir",
    o.stateDir,
    "--health-addr",
    "127.0.0.1:0",
    "--kubeconfig-wait",
    "0s",
    "--hostname",
    o.hostname ?? "testnode",
    "--port-start",
    String(o.portStart),
    "--port-span",
    "50",
  ];
}
