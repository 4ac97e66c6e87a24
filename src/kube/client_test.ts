import assert from "node:assert/strict";
import { silentLogger } from "../log.ts";
import { isRetryable, KubeApiError, KubeNetworkError } from "./api_errors.ts";
import { KubeClient } from "./client.ts";
import { KubeconfigError, parseKubeconfig } from "./kubeconfig.ts";
import { createLogger } from "../log.ts";
import { json, scriptedApi, status } from "../../tests/doubles/scripted_api.ts";

async function client(path: string, requestTimeoutMs = 30_000) {
  const spec = parseKubeconfig(await Deno.readTextFile(path), { path });
  return KubeClient.create(spec, "/", { log: silentLogger, requestTimeoutMs, allowHttp: true });
}

Deno.test("errors carry the API's Status message; 5xx/429 and network errors are retryable", async () => {
  await using api = await scriptedApi((_req, url) =>
    url.pathname === "/forbidden"
      ? status(403, "Forbidden", "pods is forbidden: no")
      : url.pathname === "/busy"
      ? status(429, "TooManyRequests", "slow down")
      : new Response("plain failure", { status: 502 })
  );
  const c = await client(await api.kubeconfig("    token: secret-token\n"));
  const signal = new AbortController().signal;
  try {
    const e403 = await c.json("GET", "/forbidden", { signal }).catch((e) => e);
    assert.ok(e403 instanceof KubeApiError);
    assert.equal(e403.apiMessage, "pods is forbidden: no");
    assert.match(e403.message, /^GET http:\/\/127\.0\.0\.1:\d+\/forbidden: HTTP 403 Forbidden:/);
    assert.equal(isRetryable(e403), false);
    assert.equal(isRetryable(await c.json("GET", "/busy", { signal }).catch((e) => e)), true);
    const e502 = await c.json("GET", "/x", { signal }).catch((e) => e);
    assert.ok(e502 instanceof KubeApiError);
    assert.equal(e502.apiMessage, "plain failure");
    assert.equal(isRetryable(e502), true);
  } finally {
    c.close();
  }
});

Deno.test("the bearer token is sent; a server that does not answer times out by name", async () => {
  let auth = "";
  const hang = Promise.withResolvers<Response>();
  await using api = await scriptedApi((req, url) => {
    auth = req.headers.get("authorization") ?? "";
    return url.pathname === "/hang" ? hang.promise : json({ ok: true });
  });
  const c = await client(await api.kubeconfig("    token: secret-token\n"), 100);
  const signal = new AbortController().signal;
  try {
    assert.deepEqual(await c.json("GET", "/ok", { signal }), { ok: true });
    assert.equal(auth, "Bearer secret-token");
    const e = await c.json("GET", "/hang", { signal }).catch((e) => e);
    assert.ok(e instanceof KubeNetworkError, String(e));
    assert.match(e.message, /\/hang: no answer within 100ms/);
    assert.equal(isRetryable(e), true);
  } finally {
    hang.resolve(json({}));
    c.close();
  }
});

Deno.test("after a credential rotation the old pool is closed once its last stream ends", async () => {
  const auths: string[] = [];
  await using api = await scriptedApi((req, url) => {
    auths.push(req.headers.get("authorization") ?? "");
    return url.pathname === "/stream" ? new Response(new ReadableStream()) : json({ ok: true });
  });
  const tokenFile = `${api.dir}/token`;
  await Deno.writeTextFile(tokenFile, "first\n");
  const c = await client(await api.kubeconfig(`    tokenFile: ${tokenFile}\n`));
  const signal = new AbortController().signal;
  try {
    await c.json("GET", "/ok", { signal });
    assert.equal(c.openPools, 1);
    const stream = await c.request("GET", "/stream", { signal, stream: true });
    await Deno.writeTextFile(tokenFile, "second-token\n");
    await c.json("GET", "/ok", { signal });
    assert.equal(c.rotations, 1);
    assert.deepEqual(auths, ["Bearer first", "Bearer first", "Bearer second-token"]);
    assert.equal(c.openPools, 2, "the watch stream still uses the old pool");
    await stream.body!.cancel();
    assert.equal(c.openPools, 1, "the old pool is closed when its stream ends");
    await Deno.writeTextFile(tokenFile, "third-token-x\n");
    await c.json("GET", "/ok", { signal });
    assert.equal(c.rotations, 2);
    assert.equal(c.openPools, 1, "an idle old pool is closed at once");
  } finally {
    c.close();
  }
});

Deno.test("an http:// API server is refused unless --kube-allow-http; then it warns", async () => {
  await using api = await scriptedApi(() => json({ ok: true }));
  const path = await api.kubeconfig("    token: secret-token\n");
  const spec = parseKubeconfig(await Deno.readTextFile(path), { path });
  const refused = await KubeClient.create(spec, "/", { log: silentLogger }).catch((e) => e);
  assert.ok(refused instanceof KubeconfigError, String(refused));
  assert.match(refused.message, /is plain http: .*refused \(--kube-allow-http allows it\)$/);
  assert.equal(api.requests.length, 0, "nothing was sent");
  const lines: string[] = [];
  const c = await KubeClient.create(spec, "/", {
    log: createLogger({ write: (l) => lines.push(l) }),
    allowHttp: true,
  });
  c.close();
  assert.ok(lines.some((l) => l.includes("level=warn") && l.includes("plain http")));
});
