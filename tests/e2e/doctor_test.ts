/**
 * `coverage-collector doctor` on a simulated node (one pod, fake crictl, fake kube API, versitygw):
 * every check OK with --write-test (the test object gone afterwards), then each FAIL path with
 * its exact line: no crictl, broken kubeconfigs, API server down, no S3 credentials (s3 fails,
 * auto warns), S3 refusing the keys, S3 stopped.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CREDENTIAL_FILES } from "../../src/sink/registry_auth.ts";
import { buildScenario, type Scenario } from "../harness/scenario.ts";
import { writeRegistryAuth } from "../harness/s3.ts";
import { assertOnlyFail, assertProcAccess, doctor, freePort, line, without } from "./doctor_run.ts";
import { e2eSkipReason } from "./e2e_util.ts";

const skip = await e2eSkipReason();
const PORT = 57640;

const KUBE_SKIPPED = (why: string) => ({ status: "WARN", detail: `not checked: ${why}` });

Deno.test({
  name: "doctor on a simulated node: all OK with --write-test, then each FAIL path named" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== null,
  async fn(t) {
    const sc: Scenario = await buildScenario({ pods: 1, kube: true, s3: true, portStart: PORT });
    try {
      const s3 = sc.s3!;
      const healthPort = freePort();
      const base = [...sc.collectorArgs, "--health-addr", `127.0.0.1:${healthPort}`];

      await t.step("all OK, and the test object is gone", async () => {
        const run = await doctor(["--write-test", ...base]);
        assert.equal(run.code, 0, run.text);
        assert.deepEqual(run.lines.map((l) => l.name), [
          "root",
          "host root",
          "/proc access",
          "crictl",
          "health address",
          "kubeconfig",
          "API server",
          "node identity",
          "pod list",
          "S3 credentials",
          "S3 reach",
          "S3 write",
        ]);
        assertProcAccess(run);
        const others = run.lines.filter((l) => l.name !== "/proc access");
        assert.deepEqual(others.filter((l) => l.status !== "OK"), [], run.text);
        const warns = run.lines.filter((l) => l.status === "WARN").length;
        assert.equal(run.summary, `doctor: ${12 - warns} OK, ${warns} WARN, 0 FAIL`);
        assert.match(line(run, "crictl").detail, /, 1 running containers$/);
        assert.equal(line(run, "health address").detail, `127.0.0.1:${healthPort} is free`);
        assert.equal(
          line(run, "kubeconfig").detail,
          `${sc.kube!.kubeconfigPath} (from setting): ${sc.kube!.url} with client certificate`,
        );
        assert.equal(line(run, "pod list").detail, `1 pods on ${sc.node.name}`);
        assert.match(line(run, "S3 credentials").detail, /^s3:\/\/coverage \(from .*auth\.json\)$/);
        assert.match(
          line(run, "S3 write").detail,
          new RegExp(`^PUT and DELETE ${s3.endpoint}/coverage/_doctor/${sc.hostname}-\\d+\\.txt$`),
        );
        assert.deepEqual(await s3.objects(""), []);
      });

      await t.step("no crictl", async () => {
        const run = await doctor([...base, "--crictl", "/nonexistent"]);
        assertOnlyFail(
          run,
          "crictl",
          "/nonexistent not found",
          "install cri-tools or set --crictl /path/to/crictl (in a pod: --crictl /host/usr/bin/crictl)",
        );
      });

      const kubeconfigFails = async (file: string, detail: string | RegExp) => {
        const run = await doctor([...base, "--kubeconfig", file]);
        assertOnlyFail(run, "kubeconfig", detail, "fix or replace the kubeconfig file");
        for (const name of ["API server", "node identity", "pod list"]) {
          const l = line(run, name);
          assert.deepEqual(
            { status: l.status, detail: l.detail },
            KUBE_SKIPPED("no usable kubeconfig"),
          );
        }
      };

      await t.step("kubeconfig that is not YAML", async () => {
        const bad = join(sc.dir, "broken.yaml");
        await Deno.writeTextFile(bad, "apiVersion: v1\nclusters: [\n  - {");
        await kubeconfigFails(bad, new RegExp(`^kubeconfig ${bad}: \\(file\\): not YAML: `));
      });

      await t.step("kubeconfig missing fields", async () => {
        const bare = join(sc.dir, "bare.yaml");
        await Deno.writeTextFile(bare, "apiVersion: v1\nkind: Config\nclusters: []\n");
        await kubeconfigFails(bare, `kubeconfig ${bare}: current-context: missing`);
        // The client certificate it names is not there: the file and path are named.
        const noPem = join(sc.dir, "no-pem.yaml");
        const kc = await Deno.readTextFile(sc.kube!.kubeconfigPath);
        assert.ok(kc.includes(sc.kube!.clientPemPath), kc);
        await Deno.writeTextFile(noPem, kc.replaceAll(sc.kube!.clientPemPath, "/nonexistent.pem"));
        await kubeconfigFails(noPem, /\/nonexistent\.pem/);
      });

      await t.step("API server down", async () => {
        const port = freePort();
        const down = join(sc.dir, "down.yaml");
        const kc = await Deno.readTextFile(sc.kube!.kubeconfigPath);
        assert.ok(kc.includes(sc.kube!.url), kc);
        await Deno.writeTextFile(down, kc.replace(sc.kube!.url, `https://127.0.0.1:${port}`));
        const run = await doctor([...base, "--kubeconfig", down]);
        assertOnlyFail(
          run,
          "API server",
          new RegExp(`^GET https://127\\.0\\.0\\.1:${port}/version: .*Connection refused`),
          `check that the server in ${down} is reachable from here and its certificates are current`,
        );
        for (const name of ["node identity", "pod list"]) {
          const l = line(run, name);
          assert.deepEqual(
            { status: l.status, detail: l.detail },
            KUBE_SKIPPED("API server not answering"),
          );
        }
      });

      const present = [];
      for (const f of CREDENTIAL_FILES) {
        if (await Deno.stat(f).then(() => true, () => false)) present.push(f);
      }
      await t.step({
        name: "no S3 credentials: --sink s3 fails, --sink auto warns" +
          (present.length ? ` (skipped: this host has ${present.join(", ")})` : ""),
        ignore: present.length > 0,
        async fn() {
          const noCreds = without(base, "--credentials-file");
          const tried = new RegExp(
            `^no S3 credentials found; tried: ${CREDENTIAL_FILES[0]} \\(absent\\), .*\\(absent\\)`,
          );
          const s3Run = await doctor([...noCreds, "--sink", "s3"]);
          assertOnlyFail(
            s3Run,
            "S3 credentials",
            new RegExp(`${tried.source} \\(--sink s3 needs them\\)$`),
            "add the cluster-code-coverage entry to /var/lib/kubelet/config.json or pass " +
              "--credentials-file",
          );
          assert.equal(s3Run.lines.at(-1)?.name, "S3 credentials");
          const auto = await doctor([...noCreds, "--sink", "auto"]);
          assert.equal(auto.code, 0, auto.text);
          const w = line(auto, "S3 credentials");
          assert.equal(w.status, "WARN");
          assert.match(w.detail, new RegExp(`${tried.source}: coverage goes to the output dir$`));
          const dir = line(auto, "output dir");
          assert.equal(dir.status, "OK", auto.text);
          assert.match(dir.detail, /\(--sink auto without S3 credentials\)$/);
        },
      });

      await t.step("S3 refuses a wrong secret", async () => {
        const wrong = join(sc.dir, "wrong-auth.json");
        await writeRegistryAuth(wrong, { ...s3, secretKey: "not-the-secret" });
        const run = await doctor(["--write-test", ...base, "--credentials-file", wrong]);
        assertOnlyFail(
          run,
          "S3 reach",
          new RegExp(
            `^S3 GET ${s3.endpoint}/coverage/\\S* answered 403 SignatureDoesNotMatch: ` +
              "a configuration fault",
          ),
          "check the bucket, region, --s3-endpoint and the keys in the auth entry",
        );
        assert.equal(run.lines.at(-1)?.name, "S3 reach", "no write is tried after a refusal");
      });

      await t.step(
        "API server and S3 that never answer: both FAIL within one timeout",
        async () => {
          // Accepts connections and never answers (not even the TLS handshake).
          const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
          const port = (silent.addr as Deno.NetAddr).port;
          const conns: Deno.Conn[] = [];
          const accepting = (async () => {
            for await (const c of silent) conns.push(c);
          })().catch(() => {});
          try {
            const kc = join(sc.dir, "silent.yaml");
            const text = await Deno.readTextFile(sc.kube!.kubeconfigPath);
            await Deno.writeTextFile(kc, text.replace(sc.kube!.url, `https://127.0.0.1:${port}`));
            const started = Date.now();
            const run = await doctor([
              "--write-test",
              ...base,
              "--kubeconfig",
              kc,
              "--s3-endpoint",
              `http://127.0.0.1:${port}`,
            ]);
            const took = Date.now() - started;
            assert.equal(run.code, 1, run.text);
            const failed = run.lines.filter((l) => l.status === "FAIL");
            assert.deepEqual(failed.map((l) => l.name), ["API server", "S3 reach"], run.text);
            assert.equal(
              failed[0].detail,
              `GET https://127.0.0.1:${port}/version: no answer within 10000ms`,
            );
            assert.match(
              failed[1].detail,
              /^S3 GET \S+ no answer within 10000ms \(after 1 tries\)$/,
            );
            // Both 10 s timeouts run at once: well under the 20 s they would take in turn.
            assert.ok(took < 19_000, `doctor took ${took}ms with two silent peers`);
          } finally {
            silent.close();
            for (const c of conns) c.close();
            await accepting;
          }
        },
      );

      await t.step("S3 stopped", async () => {
        await s3.stop();
        try {
          const run = await doctor(["--write-test", ...base]);
          assertOnlyFail(
            run,
            "S3 reach",
            new RegExp(`^S3 GET ${s3.endpoint}/coverage/\\S* failed: .*Connection refused`),
            "check that --s3-endpoint (or the bucket's region endpoint) is reachable from this " +
              "node: address, proxy, firewall",
          );
        } finally {
          await s3.start();
        }
      });
    } finally {
      await sc.close();
    }
  },
});
