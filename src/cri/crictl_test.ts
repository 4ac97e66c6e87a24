import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { createSystem } from "../system.ts";
import { Metrics } from "../metrics.ts";
import { Crictl, CrictlError } from "./crictl.ts";
import { InspectOutput, InspectpOutput, PsOutput } from "./schemas.ts";

import { SAMPLES } from "../../tests/testdata/samples.ts";
const sample = (name: string) => Deno.readTextFileSync(new URL(name, SAMPLES));
const CONSOLE = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
const CONSOLE_POD = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

Deno.test("schemas parse the crictl samples", () => {
  const ps = PsOutput.parse(JSON.parse(sample("crictl-ps.json")));
  assertEquals(ps.containers.length, 2);
  assertEquals(ps.containers[1].labels["io.kubernetes.pod.namespace"], "openshift-console");
  const inspect = InspectOutput.parse(JSON.parse(sample("crictl-inspect.json")));
  assertEquals(inspect.info.pid, 48213);
  const pod = InspectpOutput.parse(JSON.parse(sample("crictl-inspectp-pod-network.json")));
  assertEquals(pod.status.network?.ip, "10.128.2.17");
  assertEquals(pod.status.linux?.namespaces?.options?.network, "POD");
  const host = InspectpOutput.parse(JSON.parse(sample("crictl-inspectp-host-network.json")));
  assertEquals(host.status.linux?.namespaces?.options?.network, "NODE");
  assertEquals(host.status.network?.ip, "");
});

/** A temp dir with a fake crictl shell script; `calls` lists the argv of every run. */
function fakeCrictl(body: string) {
  const dir = Deno.makeTempDirSync({ prefix: "fakecrictl-" });
  const samples = new URL(SAMPLES).pathname;
  const path = join(dir, "crictl");
  Deno.writeTextFileSync(
    path,
    `#!/bin/sh\necho "$*" >> "${dir}/calls"\nS="${samples}"\n${body}\n`,
  );
  Deno.chmodSync(path, 0o755);
  return {
    path,
    calls: () => {
      try {
        return Deno.readTextFileSync(join(dir, "calls")).trim().split("\n");
      } catch {
        return [];
      }
    },
    [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }),
  };
}

const SAMPLE_CRICTL = `
for a in "$@"; do last="$a"; done
case "$*" in
  *"ps -o json"*) cat "$S/crictl-ps.json" ;;
  *inspectp*) cat "$S/crictl-inspectp-pod-network.json" ;;
  *inspect*) sed "s/48213/$(echo $last | cut -c1-2 | tr -dc 0-9)48213/" "$S/crictl-inspect.json" ;;
  *) echo "unknown command $*" >&2; exit 2 ;;
esac`;

Deno.test("Crictl runs ps/inspect/inspectp with the endpoint, caches inspectp until its sandbox leaves ps", async () => {
  using fake = fakeCrictl(SAMPLE_CRICTL);
  const metrics = new Metrics();
  const c = new Crictl(createSystem(), {
    command: fake.path,
    runtimeEndpoint: "unix:///run/x.sock",
    timeoutMs: 5000,
    metrics,
  });
  const ps = await c.ps();
  assertEquals(ps.map((x) => x.id.slice(0, 4)), ["5d1c", "9f8e"]);
  assertEquals((await c.inspect(CONSOLE)).info.pid, 948213);
  await c.inspectp(CONSOLE_POD);
  await c.inspectp(CONSOLE_POD);
  assertEquals(fake.calls(), [
    "--runtime-endpoint unix:///run/x.sock ps -o json",
    `--runtime-endpoint unix:///run/x.sock inspect ${CONSOLE}`,
    `--runtime-endpoint unix:///run/x.sock inspectp ${CONSOLE_POD}`,
  ]);
  await c.inspectp("1234"); // not in ps: cached until the next ps prunes it
  await c.inspectp("1234");
  await c.ps();
  await c.inspectp("1234");
  await c.inspectp(CONSOLE_POD);
  assertEquals(fake.calls().filter((l) => l.includes("inspectp 1234")).length, 2);
  assertEquals(fake.calls().filter((l) => l.includes(`inspectp ${CONSOLE_POD}`)).length, 1);
  // inspect is not cached: the caller keeps what it built from it
  await c.inspect(CONSOLE);
  assertEquals(fake.calls().filter((l) => l.includes(`inspect ${CONSOLE}`)).length, 2);
  assertEquals(metrics.value("coverage_collector_crictl_runs_total", { result: "ok" }), 7);
});

Deno.test("parsed crictl answers keep only the fields discovery reads (runtimeSpec etc. stripped)", () => {
  const raw = JSON.parse(sample("crictl-inspectp-pod-network.json"));
  raw.info = { runtimeSpec: { big: "x".repeat(10_000) } };
  raw.status.extra = "dropped";
  const pod = InspectpOutput.parse(raw);
  assertEquals("info" in pod, false);
  assertEquals("extra" in pod.status, false);
  assertEquals(pod.status.network?.ip, "10.128.2.17");
  ok(JSON.stringify(pod).length < 2000, JSON.stringify(pod));
  const inspect = InspectOutput.parse(JSON.parse(sample("crictl-inspect.json")));
  assertEquals(Object.keys(inspect.info).sort(), ["pid", "sandboxID"]);
});

async function failure(c: Crictl): Promise<CrictlError> {
  let err: unknown;
  await rejects(c.ps(), (e) => {
    err = e;
    return e instanceof CrictlError;
  });
  return err as CrictlError;
}

Deno.test("Crictl names a missing executable", async () => {
  const c = new Crictl(createSystem(), { command: "/nonexistent/crictl", timeoutMs: 1000 });
  const e = await failure(c);
  assertEquals(e.kind, "not-found");
  ok(e.message.includes("/nonexistent/crictl ps -o json"), e.message);
});

Deno.test("Crictl reports exit status and stderr", async () => {
  using fake = fakeCrictl(`echo 'connect: connection refused' >&2; exit 1`);
  const e = await failure(new Crictl(createSystem(), { command: fake.path, timeoutMs: 5000 }));
  assertEquals(e.kind, "exit");
  ok(e.message.includes("exit status 1: connect: connection refused"), e.message);
});

Deno.test("Crictl reports garbage output (not JSON, and JSON of the wrong shape)", async () => {
  {
    using fake = fakeCrictl(`echo 'level=fatal msg="oops"'`);
    const e = await failure(new Crictl(createSystem(), { command: fake.path, timeoutMs: 5000 }));
    assertEquals(e.kind, "garbage");
    ok(e.message.includes("not JSON: level=fatal"), e.message);
  }
  {
    using fake = fakeCrictl(`echo '{"containers":[{"id":7}]}'`);
    const e = await failure(new Crictl(createSystem(), { command: fake.path, timeoutMs: 5000 }));
    assertEquals(e.kind, "garbage");
    ok(e.message.includes("containers.0.id"), e.message);
  }
});

Deno.test("Crictl kills a hanging run at the timeout", async () => {
  using fake = fakeCrictl(`exec sleep 30`);
  const metrics = new Metrics();
  const started = Date.now();
  const c = new Crictl(createSystem(), { command: fake.path, timeoutMs: 300, metrics });
  const e = await failure(c);
  assertEquals(e.kind, "timeout");
  ok(Date.now() - started < 10_000);
  assertEquals(metrics.value("coverage_collector_crictl_runs_total", { result: "timeout" }), 1);
});

Deno.test("the crictl v1.37 answer for several IDs (a JSON array in ID order) parses", () => {
  const list = JSON.parse(sample("crictl-inspect-two-ids.json"));
  assertEquals(Array.isArray(list), true);
  const parsed = list.map((x: unknown) => InspectOutput.parse(x));
  assertEquals(parsed.map((x: { info: { pid: number } }) => x.info.pid), [48213, 48377]);
});

/** Answers `inspect ID...` as crictl v1.37 does; an ID "gone-*" fails the whole run. */
const BATCH_CRICTL = `
shift 0; [ "$1" = inspect ] || { echo "unknown $*" >&2; exit 2; }; shift
for id in "$@"; do case "$id" in gone*) echo "NotFound: $id" >&2; exit 1 ;; esac; done
one() { printf '{"status":{"id":"%s","labels":{}},"info":{"pid":%s}}' "$1" "\${1#c}"; }
if [ $# -eq 1 ]; then one "$1"; exit 0; fi
printf '['; sep=''; for id in "$@"; do printf '%s' "$sep"; one "$id"; sep=','; done; printf ']'`;

Deno.test("inspectMany asks for every ID in one run; a gone ID costs a few halving runs, not one run per ID", async () => {
  using fake = fakeCrictl(BATCH_CRICTL);
  const c = new Crictl(createSystem(), { command: fake.path, timeoutMs: 5000 });
  const ids = Array.from({ length: 40 }, (_, i) => `c${i + 1}`);
  const all = await c.inspectMany(ids);
  assertEquals([...all.keys()], ids);
  assertEquals(ids.map((id) => (all.get(id) as { info: { pid: number } }).info.pid)[39], 40);
  assertEquals(fake.calls().length, 1);
  const one = await c.inspectMany(["c7"]);
  assertEquals((one.get("c7") as { info: { pid: number } }).info.pid, 7);

  const before = fake.calls().length;
  const mixed = [...ids.slice(0, 20), "gone-1", ...ids.slice(20)];
  const got = await c.inspectMany(mixed);
  ok(got.get("gone-1") instanceof CrictlError);
  assertEquals(ids.every((id) => !(got.get(id) instanceof CrictlError)), true);
  const runs = fake.calls().length - before;
  ok(runs <= 2 * Math.ceil(Math.log2(mixed.length)) + 1, `${runs} runs`);
});

Deno.test("crictl runs with a minimal environment: the collector's secrets do not reach it", async () => {
  using fake = fakeCrictl(`env > "$(dirname "$0")/env"; cat "$S/crictl-ps.json"`);
  const saved = Deno.env.toObject();
  Deno.env.set("AWS_SECRET_ACCESS_KEY", "s3cr3t-key-from-the-collector");
  Deno.env.set("KUBECONFIG_TOKEN_TEST", "tok-abc");
  Deno.env.set("CONTAINER_RUNTIME_ENDPOINT", "unix:///run/test/crio.sock");
  try {
    await new Crictl(createSystem(), { command: fake.path, timeoutMs: 5000 }).ps();
  } finally {
    for (const k of ["AWS_SECRET_ACCESS_KEY", "KUBECONFIG_TOKEN_TEST"]) Deno.env.delete(k);
    if (saved.CONTAINER_RUNTIME_ENDPOINT === undefined) {
      Deno.env.delete("CONTAINER_RUNTIME_ENDPOINT");
    } else Deno.env.set("CONTAINER_RUNTIME_ENDPOINT", saved.CONTAINER_RUNTIME_ENDPOINT);
  }
  const env = Deno.readTextFileSync(join(fake.path, "..", "env"));
  ok(!env.includes("s3cr3t-key-from-the-collector"), env);
  ok(!env.includes("AWS_SECRET_ACCESS_KEY"), env);
  ok(!env.includes("tok-abc"), env);
  ok(env.includes("CONTAINER_RUNTIME_ENDPOINT=unix:///run/test/crio.sock"), env);
  ok(/^PATH=/m.test(env), env);
});
