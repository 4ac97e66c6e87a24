/** scripts/deploy/daemonset.yaml and the Containerfile say what the collector needs on a node. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { envName, type SettingKey, SETTINGS } from "../../src/config.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

const Doc = z.object({
  kind: z.string(),
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
}).passthrough();

const Probe = z.object({
  httpGet: z.object({ host: z.string(), path: z.string(), port: z.number() }),
});
const DaemonSet = z.object({
  spec: z.object({
    template: z.object({
      spec: z.object({
        serviceAccountName: z.string(),
        hostPID: z.literal(true),
        hostNetwork: z.literal(true),
        tolerations: z.array(z.object({ operator: z.string() }).strict()),
        containers: z.array(
          z.object({
            args: z.array(z.string()),
            env: z.array(z.object({ name: z.string() }).passthrough()),
            securityContext: z.object({ privileged: z.literal(true) }).passthrough(),
            livenessProbe: Probe,
            readinessProbe: Probe,
            resources: z.object({
              requests: z.record(z.string(), z.string()),
              limits: z.record(z.string(), z.string()),
            }),
            volumeMounts: z.array(
              z.object({ name: z.string(), mountPath: z.string() }).passthrough(),
            ),
          }).passthrough(),
        ).length(1),
        volumes: z.array(z.object({
          name: z.string(),
          hostPath: z.object({ path: z.string() }).passthrough(),
        })),
      }).passthrough(),
    }).passthrough(),
  }).passthrough(),
});

async function manifests() {
  const text = await Deno.readTextFile(join(repoRoot, "scripts/deploy/daemonset.yaml"));
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], "YAML parses");
    return Doc.parse(d.toJS());
  });
}

/** The value after `--flag` in an argument list. */
const argOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

Deno.test("the DaemonSet runs privileged in the host PID and network namespaces on every node", async () => {
  const docs = await manifests();
  assert.deepEqual(docs.map((d) => d.kind), [
    "Namespace",
    "ServiceAccount",
    "RoleBinding",
    "DaemonSet",
  ]);
  const ds = DaemonSet.parse(docs.find((d) => d.kind === "DaemonSet"));
  const pod = ds.spec.template.spec;
  assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
  const [c] = pod.containers;
  assert.equal(argOf(c.args, "--host-root"), "/host");
  const hostMount = c.volumeMounts.find((m) => m.mountPath === "/host")!;
  assert.equal(pod.volumes.find((v) => v.name === hostMount.name)?.hostPath.path, "/");
  assert.match(argOf(c.args, "--crictl"), /^\/host\//);
  assert.match(argOf(c.args, "--runtime-endpoint"), /^unix:\/\/\/host\//);
  assert.ok(c.resources.requests.memory && c.resources.limits.memory);
  // Every flag used is a real setting.
  const flags = new Set(Object.values(SETTINGS).map((s) => s.flag));
  for (const a of c.args.filter((a) => a.startsWith("--"))) assert.ok(flags.has(a.slice(2)), a);
});

Deno.test("probes reach the loopback-only health server through the host network", async () => {
  const ds = DaemonSet.parse((await manifests()).find((d) => d.kind === "DaemonSet"));
  const [c] = ds.spec.template.spec.containers;
  const [host, port] = argOf(c.args, "--health-addr").split(":");
  assert.equal(host, "127.0.0.1");
  for (const [probe, path] of [[c.livenessProbe, "/healthz"], [c.readinessProbe, "/readyz"]]) {
    const p = probe as z.infer<typeof Probe>;
    assert.deepEqual(p.httpGet, { host: "127.0.0.1", path, port: Number(port) });
  }
});

Deno.test("the service account is the one bound to the privileged SCC, with no API token", async () => {
  const docs = await manifests();
  const ns = docs.find((d) => d.kind === "Namespace")!;
  assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
  const sa = docs.find((d) => d.kind === "ServiceAccount")!;
  assert.equal(sa.metadata.namespace, ns.metadata.name);
  const rb = z.object({
    roleRef: z.object({ kind: z.literal("ClusterRole"), name: z.string() }),
    subjects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string() })),
  }).parse(docs.find((d) => d.kind === "RoleBinding"));
  assert.equal(rb.roleRef.name, "system:openshift:scc:privileged");
  assert.deepEqual(rb.subjects, [{
    kind: "ServiceAccount",
    name: sa.metadata.name,
    namespace: ns.metadata.name,
  }]);
  const ds = DaemonSet.parse(docs.find((d) => d.kind === "DaemonSet"));
  assert.equal(ds.spec.template.spec.serviceAccountName, sa.metadata.name);
  assert.equal(ds.spec.template.spec.automountServiceAccountToken, false);
});

Deno.test("the Containerfile pins Deno to .deno-version and runs against /host", async () => {
  const text = await Deno.readTextFile(join(repoRoot, "Containerfile"));
  const pinned = (await Deno.readTextFile(join(repoRoot, ".deno-version"))).trim();
  assert.equal(/^ARG DENO_VERSION=(\S+)$/m.exec(text)?.[1], pinned);
  assert.match(text, /^FROM docker\.io\/denoland\/deno:bin-\$\{DENO_VERSION\} AS deno$/m);
  assert.match(text, /^FROM registry\.access\.redhat\.com\/ubi9\/ubi-minimal$/m);
  assert.match(text, /^ENTRYPOINT \["\/usr\/local\/bin\/coverage-collector"\]$/m);
  assert.match(text, /^CMD \["run", "--host-root", "\/host"\]$/m);
  // Everything scripts/compile.ts stages is copied into the build stage.
  const copied = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(" "));
  const scripts = ["compile.ts"];
  for (let i = 0; i < scripts.length; i++) {
    const source = await Deno.readTextFile(join(repoRoot, "scripts", scripts[i]));
    for (const m of source.matchAll(/from "\.\/([a-z_]+\.ts)"/g)) {
      if (!scripts.includes(m[1])) scripts.push(m[1]);
    }
  }
  const need = ["deno.json", "deno.lock", "main.ts", "src/", ...scripts.map((s) => `scripts/${s}`)];
  for (const file of need) assert.ok(copied.includes(file), `COPY ${file}`);
  assert.ok(need.includes("scripts/permissions.ts"), "compile reads the start task's flags");
});

Deno.test("every COVERAGE_COLLECTOR_* variable in the image and manifests is a real setting", async () => {
  const known = new Set((Object.keys(SETTINGS) as SettingKey[]).map(envName));
  for (const file of ["Containerfile", "scripts/deploy/daemonset.yaml"]) {
    const text = await Deno.readTextFile(join(repoRoot, file));
    const used = [...text.matchAll(/COVERAGE_COLLECTOR_[A-Z0-9_]+/g)].map((m) => m[0]);
    assert.ok(used.length > 0, file);
    for (const name of used) assert.ok(known.has(name), `${file}: ${name}`);
  }
});
