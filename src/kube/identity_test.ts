import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger, silentLogger } from "../log.ts";
import { Backoff } from "../backoff.ts";
import { KubeClient } from "./client.ts";
import { learnNodeName, nodeNameFromUsername } from "./identity.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import { json, scriptedApi, status } from "../../tests/doubles/scripted_api.ts";

const testdata = new URL("../../tests/testdata/kube/", import.meta.url).pathname;
const CERT_USER = `    client-certificate: ${join(testdata, "node-client-cert.pem")}\n` +
  `    client-key: ${join(testdata, "node-client-key.pem")}\n`;
const review = (username: string) => json({ status: { userInfo: { username } } }, 201);

async function clientFor(path: string) {
  const spec = parseKubeconfig(await Deno.readTextFile(path), { path });
  return KubeClient.create(spec, "/", { log: silentLogger, allowHttp: true });
}

const opts = (extra = {}) => ({
  signal: new AbortController().signal,
  nodeName: "",
  hostname: () => "host-1",
  backoff: new Backoff({ initialMs: 1, maxMs: 5 }),
  ...extra,
});

Deno.test("nodeNameFromUsername takes only system:node:<name>", () => {
  assert.equal(nodeNameFromUsername("system:node:w-1"), "w-1");
  assert.equal(nodeNameFromUsername("system:serviceaccount:a:b"), undefined);
});

Deno.test("SSR v1 posts the review and names the node; the setting wins without asking", async () => {
  await using api = await scriptedApi(() => review("system:node:w-1"));
  const client = await clientFor(await api.kubeconfig("    token: t0\n"));
  try {
    assert.deepEqual(await learnNodeName(client, silentLogger, opts()), {
      name: "w-1",
      source: "selfsubjectreview-v1",
    });
    assert.equal(api.requests[0].method, "POST");
    assert.equal(api.requests[0].path, "/apis/authentication.k8s.io/v1/selfsubjectreviews");
    assert.deepEqual(JSON.parse(api.requests[0].body), {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });
    const set = await learnNodeName(client, silentLogger, opts({ nodeName: "mine" }));
    assert.deepEqual(set, { name: "mine", source: "setting" });
    assert.equal(api.requests.length, 1);
  } finally {
    client.close();
  }
});

Deno.test("no SelfSubjectReview (404 on both) → the certificate's CN", async () => {
  await using api = await scriptedApi(() => status(404, "NotFound", "the server could not find"));
  const client = await clientFor(await api.kubeconfig(CERT_USER));
  try {
    assert.deepEqual(await learnNodeName(client, silentLogger, opts()), {
      name: "worker-1",
      source: "certificate-cn",
    });
    assert.deepEqual(api.requests.map((r) => r.path.split("/")[3]), ["v1", "v1beta1"]);
  } finally {
    client.close();
  }
});

Deno.test("a non-node identity and no certificate → the host name, with a warning", async () => {
  await using api = await scriptedApi(() => review("system:serviceaccount:ops:collector"));
  const client = await clientFor(await api.kubeconfig("    token: t0\n"));
  const lines: string[] = [];
  try {
    const id = await learnNodeName(client, createLogger({ write: (l) => lines.push(l) }), opts());
    assert.deepEqual(id, { name: "host-1", source: "hostname" });
    assert.ok(lines.some((l) => l.includes("level=warn") && l.includes("host name")));
  } finally {
    client.close();
  }
});

Deno.test("5xx and dead servers are retried with backoff; abort ends the wait", async () => {
  let n = 0;
  await using api = await scriptedApi(() =>
    ++n <= 2 ? status(503, "ServiceUnavailable", "starting") : review("system:node:w-2")
  );
  const client = await clientFor(await api.kubeconfig("    token: t0\n"));
  const retries: unknown[] = [];
  try {
    const id = await learnNodeName(
      client,
      silentLogger,
      opts({ onRetry: (e: unknown) => retries.push(e) }),
    );
    assert.equal(id?.name, "w-2");
    assert.equal(retries.length, 2);
    assert.match(String(retries[0]), /HTTP 503 ServiceUnavailable: starting/);
  } finally {
    client.close();
  }
  // Nothing listens on the server's old port after dispose: abort stops the retries.
  const ac = new AbortController();
  const path = await api.kubeconfig("    token: t0\n");
  const spec = parseKubeconfig(await Deno.readTextFile(path), { path });
  const dead = await KubeClient.create(
    { ...spec, server: new URL("http://127.0.0.1:9") },
    "/",
    { log: silentLogger, requestTimeoutMs: 500, allowHttp: true },
  );
  try {
    const pending = learnNodeName(
      dead,
      silentLogger,
      opts({
        signal: ac.signal,
        backoff: new Backoff({ initialMs: 60_000 }),
        onRetry: () => ac.abort(),
      }),
    );
    assert.equal(await pending, undefined);
  } finally {
    dead.close();
  }
});
