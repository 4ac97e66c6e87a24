/**
 * docs/report-job.yaml, the Indexed Job that runs `report --shard` against S3 and the Job that
 * merges the partials: its shape (parsed with the `yaml` package), its args run as the kubelet
 * would expand them against the real S3 server (the merge equals the unsharded report), and the
 * real kube-apiserver's server-side dry-run of every object (when the control-plane peers are
 * built: tests/realnode builds them).
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { SETTINGS } from "../../src/config.ts";
import { REPORT_FLAGS } from "../../src/report/flags.ts";
import { S3Sink } from "../../src/sink/s3.ts";
import { hasGo } from "../harness/gobuild.ts";
import { peerPath } from "../harness/peers.ts";
import { ControlPlane } from "../harness/realnode/controlplane.ts";
import { runReport } from "../harness/run_report.ts";
import { canRunS3, startS3, writeRegistryAuth } from "../harness/s3.ts";
import { storeFixtureRun } from "../harness/stored.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

const Env = z.array(z.object({ name: z.string(), value: z.string() }).passthrough());
const Container = z.object({
  name: z.string(),
  args: z.array(z.string()),
  env: Env,
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() }).passthrough()),
}).passthrough();
const PodSpec = z.object({
  restartPolicy: z.literal("Never"),
  serviceAccountName: z.string(),
  automountServiceAccountToken: z.literal(false),
  containers: z.array(Container).min(1),
  volumes: z.array(z.object({ name: z.string(), secret: z.object({ secretName: z.string() }) })),
}).passthrough();
const Job = z.object({
  apiVersion: z.literal("batch/v1"),
  kind: z.literal("Job"),
  metadata: z.object({ name: z.string(), namespace: z.string() }).passthrough(),
  spec: z.object({
    completionMode: z.enum(["Indexed", "NonIndexed"]).optional(),
    completions: z.number().int().positive(),
    parallelism: z.number().int().positive().optional(),
    suspend: z.boolean().optional(),
    template: z.object({ spec: PodSpec }).passthrough(),
  }).passthrough(),
});
type Job = z.infer<typeof Job>;
type Container = z.infer<typeof Container>;

async function manifests(): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(repoRoot, "docs/report-job.yaml"));
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], "YAML parses");
    return d.toJS() as Record<string, unknown>;
  });
}

async function jobs(): Promise<{ shards: Job; merge: Job }> {
  const docs = await manifests();
  assert.deepEqual(docs.map((d) => d.kind), ["ServiceAccount", "Job", "Job"]);
  return { shards: Job.parse(docs[1]), merge: Job.parse(docs[2]) };
}

const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));

/** `$(VAR)` expanded as the kubelet does (an unknown reference stays as written). */
function expand(args: string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => env[v] ?? m));
}

const argOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

Deno.test("the shards Job is Indexed, one shard per completion, partials outside the source", async () => {
  const { shards, merge } = await jobs();
  assert.equal(shards.spec.completionMode, "Indexed");
  assert.ok(shards.spec.suspend !== true);
  const [c] = shards.spec.template.spec.containers;
  const env = envOf(c);
  assert.equal(Number(env.SHARDS), shards.spec.completions);
  assert.ok((shards.spec.parallelism ?? 1) <= shards.spec.completions);
  assert.equal(c.args[0], "report");
  assert.equal(argOf(c.args, "--shard"), "$(JOB_COMPLETION_INDEX)/$(SHARDS)");
  assert.equal(argOf(c.args, "--format"), "covdata");
  assert.equal(argOf(c.args, "--out"), "$(PARTIALS)/shard-$(JOB_COMPLETION_INDEX)");
  assert.ok(!`${env.PARTIALS}/`.startsWith(`${env.SOURCE}/`), "partials under the source");
  // The merge waits (suspended) and reads the same partials.
  assert.equal(merge.spec.suspend, true);
  for (const m of merge.spec.template.spec.containers) {
    assert.equal(m.args[1], "$(PARTIALS)");
    assert.equal(envOf(m).PARTIALS, env.PARTIALS);
  }
  // Every flag is a real one, and the credentials file is the mounted secret's.
  const flags = new Set([
    ...Object.keys(REPORT_FLAGS),
    ...Object.values(SETTINGS).map((s) => s.flag),
  ]);
  for (const job of [shards, merge]) {
    const pod = job.spec.template.spec;
    for (const k of pod.containers) {
      for (const a of k.args.filter((a) => a.startsWith("--"))) assert.ok(flags.has(a.slice(2)), a);
      const creds = argOf(k.args, "--credentials-file");
      const mount = k.volumeMounts.find((m) => creds.startsWith(`${m.mountPath}/`));
      assert.ok(mount && pod.volumes.some((v) => v.name === mount.name), creds);
    }
  }
});

Deno.test({
  name: "the manifests' args, expanded as the kubelet would, shard and merge a store on S3",
  ignore: !(await hasGo()) || !await canRunS3(),
  async fn() {
    const { shards, merge } = await jobs();
    const tmp = await Deno.makeTempDir({ prefix: "report-job-" });
    const base = join(tmp, "data");
    for (let i = 0; i < 6; i++) {
      await storeFixtureRun(base, {
        routes: [["/run/alpha", "/run/beta?n=3", "/run/gamma"][i % 3]],
        segments: [
          `node-${i % 2}`,
          "ns",
          `pod-${i}`,
          "app",
          "20261122T100005Z",
          "img",
          "covserver",
        ],
      });
    }
    const s3 = await startS3();
    try {
      const sink = new S3Sink({ ...s3, basePath: "ci/run-1", pathStyle: true });
      for await (const f of walk(base)) await sink.put(relative(base, f), await Deno.readFile(f));
      const auth = join(tmp, "auth.json");
      await writeRegistryAuth(auth, { ...s3, bucket: "other" });
      const local = (args: string[]) => [
        ...args.map((a) => a.replace("/etc/coverage-report/auth.json", auth))
          .map((a) => a.replace("s3://YOUR_BUCKET/", `s3://${s3.bucket}/`)),
        "--s3-endpoint",
        s3.endpoint,
        "--s3-path-style",
      ];
      const [c] = shards.spec.template.spec.containers;
      for (let k = 0; k < shards.spec.completions; k++) {
        const args = expand(c.args, { ...envOf(c), JOB_COMPLETION_INDEX: String(k) });
        const r = await runReport(local(args).slice(1));
        assert.equal(r.code, 0, r.err);
      }
      const text = merge.spec.template.spec.containers.find((m) => m.name === "text")!;
      const got = await runReport(local(expand(text.args, envOf(text))).slice(1));
      assert.equal(got.code, 0, got.err);
      const want = await runReport([base]);
      const figures = (t: string) => t.replace(/ in \S+;/, " in SOURCE;");
      assert.equal(figures(got.out), figures(want.out));
      assert.match(got.out, /6 of 6 prefixes/);
    } finally {
      await s3.close();
    }
  },
});

const cpPeers = [peerPath("etcd"), peerPath("kube-apiserver")];
function isFile(p: string): boolean {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the real kube-apiserver takes every object of the manifest (server-side dry-run)",
  ignore: Deno.uid() !== 0 || !cpPeers.every(isFile),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "report-job-cp-" });
    await using cp = await ControlPlane.start({
      dir,
      peers: { etcd: cpPeers[0], kubeApiserver: cpPeers[1] },
      nodes: [],
    });
    const docs = await manifests();
    const ns = (docs[0].metadata as { namespace: string }).namespace;
    await cp.admin("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    const paths: Record<string, string> = {
      ServiceAccount: `/api/v1/namespaces/${ns}/serviceaccounts`,
      Job: `/apis/batch/v1/namespaces/${ns}/jobs`,
    };
    for (const d of docs) {
      const r = await cp.request(
        cp.adminClient,
        "POST",
        `${paths[d.kind as string]}?dryRun=All&fieldValidation=Strict`,
        d,
      );
      assert.equal(r.status, 201, `${d.kind}: ${r.text.slice(0, 600)}`);
    }
    await Deno.remove(dir, { recursive: true });
  },
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else yield p;
  }
}
