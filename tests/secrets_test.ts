/**
 * Secrets stay secret on every error path. Canary secrets (a bearer token, a client key, S3
 * access and secret keys) are planted in the kubeconfig and the registry auth file, then the real
 * daemon and `doctor` are driven through every error path: a kubeconfig that is not YAML on the
 * token's line, an auth file that is not JSON next to the keys, a client key that is not a key, an
 * API server that answers errors quoting our Authorization header back, an S3 endpoint that
 * refuses and fails our PUTs with real S3 error bodies. No canary may appear in any log line, any
 * response of /healthz /readyz /status /metrics, or doctor's report.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CollectorProcess, spawnCollector } from "./harness/collector.ts";
import { startCovserver } from "./harness/covserver.ts";
import { scriptedApi, status } from "./doubles/scripted_api.ts";

const CANARY = {
  token: "canary-bearer-3f9c1a7e5d2b4c6a8e0f",
  accessKey: "AKIACANARY7Q2W4E6R8T",
  secretKey: "canary/secret+Kq9Zx8Wv7Ut6Sr5Qp4On3Ml2",
  clientKey: "Q0FOQVJZQ0xJRU5US0VZNGQ3YTljMmUxYjhmNmEwYjNj",
};
const b64 = (s: string) => btoa(s); // every text here is ASCII
/** The registry entry's `auth` value holding the S3 canaries (coverage-protocol §5). */
const AUTH = b64(`coverage:${
  b64(JSON.stringify({
    service: "s3",
    s3: {
      accessKey: CANARY.accessKey,
      secretKey: CANARY.secretKey,
      bucket: "cov",
      region: "us-east-1",
      s3BasePath: "ci",
    },
  }))
}`);
const authFile = () => JSON.stringify({ auths: { "cluster-code-coverage.io": { auth: AUTH } } });

/** Every spelling of a canary that would give it away (raw, and base64 as in files). */
const spellings = [
  ...Object.entries(CANARY).flatMap(([name, v]) => [[name, v], [`${name} (base64)`, b64(v)]]),
  ["S3 auth entry", AUTH],
];
/** Even a part counts (error messages cut quotes short): any 10 characters in a row. */
const WINDOW = 10;

function assertNoCanary(where: string, text: string) {
  for (const [name, v] of spellings) {
    for (let i = 0; i + WINDOW <= v.length; i++) {
      const at = text.indexOf(v.slice(i, i + WINDOW));
      if (at < 0) continue;
      const line = text.slice(text.lastIndexOf("\n", at) + 1).split("\n")[0];
      assert.fail(`${name} canary leaked in ${where}: ${line.slice(0, 400)}`);
    }
  }
}

const kubeconfig = (server: string, user: string) =>
  `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n` +
  `    server: ${server}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n` +
  `users:\n- name: u\n  user:\n${user}`;

/** Resolves with the first line matching `re`, or fails naming it after `ms`. */
async function line(c: CollectorProcess, re: RegExp, ms = 30_000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      c.waitLine(re),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no log line matching ${re} in ${ms}ms:\n${c.lines.join("\n")}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything the health endpoint answers. */
async function endpoints(c: CollectorProcess): Promise<string> {
  const base = await c.healthUrl();
  let all = "";
  for (const p of ["/healthz", "/readyz", "/status", "/metrics"]) {
    const res = await fetch(base + p);
    all += `${p} ${res.status}\n${await res.text()}\n`;
  }
  return all;
}

async function doctor(args: string[]): Promise<string> {
  const c = await spawnCollector(["doctor", ...args]);
  await c.status;
  return (await c.stdout) + "\n" + c.lines.join("\n");
}

Deno.test("canary secrets appear in no log line, endpoint answer or doctor report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cc-canary-" });
  const base = (name: string) => [
    "--health-addr",
    "127.0.0.1:0",
    "--output-dir",
    join(dir, name, "out"),
    "--state-dir",
    join(dir, name, "state"),
    "--crictl",
    join(dir, "no-crictl-here"),
    "--log-level",
    "debug",
  ];
  // A hostile API server: every error quotes our Authorization header back.
  await using api = await scriptedApi((req, url) => {
    const auth = req.headers.get("authorization") ?? "";
    if (url.pathname.includes("selfsubjectreviews")) {
      return status(401, "Unauthorized", `token not valid: ${auth}`);
    }
    if (url.pathname === "/api/v1/pods") {
      return status(403, "Forbidden", `pods is forbidden for ${auth}`);
    }
    return status(500, "InternalError", `boom ${auth}`);
  });
  // A hostile S3: fails, then refuses signatures the way S3 does (quoting our key id).
  const s3Tries = new Map<string, number>();
  const s3Ac = new AbortController();
  const s3 = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: s3Ac.signal, onListen() {} },
    (req) => {
      const auth = req.headers.get("authorization") ?? "";
      const body = (code: string) =>
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code>` +
        `<Message>The request signature we calculated does not match. ${auth}</Message>` +
        `<AWSAccessKeyId>${CANARY.accessKey}</AWSAccessKeyId><StringToSign>${auth}</StringToSign>` +
        `</Error>`;
      // Each key's first PUT fails its first 5 tries with 500s; later ones are refused.
      const key = new URL(req.url).pathname;
      const seen = (s3Tries.get(key) ?? 0) + 1;
      s3Tries.set(key, seen);
      return seen <= 5
        ? new Response(body("InternalError"), { status: 500 })
        : new Response(body("SignatureDoesNotMatch"), { status: 403 });
    },
  );
  const s3Url = `http://127.0.0.1:${s3.addr.port}`;
  const texts: [string, string][] = [];
  await using cov = await startCovserver();
  try {
    // 1. Broken files: a kubeconfig that is not YAML on the token's line, and an auth file that
    //    is not JSON right at the secret key.
    const badYaml = join(dir, "bad-kubeconfig");
    await Deno.writeTextFile(
      badYaml,
      kubeconfig(api.url, `    token: ${CANARY.token}: x\n`),
    );
    const badAuth = join(dir, "bad-auth.json");
    await Deno.writeTextFile(
      badAuth,
      `{"auths": {}, "accessKey": "${CANARY.accessKey}", "secretKey": ${CANARY.secretKey}}`,
    );
    const portArgs = ["--port-start", String(cov.coveragePort), "--port-span", "1"];
    const broken = ["--kubeconfig", badYaml, "--credentials-file", badAuth, ...portArgs];
    {
      const c = await spawnCollector(["run", ...base("broken"), ...broken]);
      try {
        await line(c, /kubeconfig unusable/);
        await line(c, /bad-auth\.json/);
        texts.push(["broken files: endpoints", await endpoints(c)]);
      } finally {
        await c.stop();
      }
      texts.push(["broken files: log", c.lines.join("\n") + (await c.stdout)]);
    }
    {
      // --sink s3 with a broken auth file cannot start: its one line must not quote the file.
      const c = await spawnCollector(["run", ...base("s3-broken"), ...broken, "--sink", "s3"]);
      await c.status;
      await line(c, /cannot start.*bad-auth\.json/);
      texts.push(["broken auth, --sink s3: log", c.lines.join("\n") + (await c.stdout)]);
    }
    texts.push(["broken files: doctor", await doctor([...base("broken-doctor"), ...broken])]);

    // 2. Good files, hostile peers: API errors quoting our token, S3 errors quoting our key id.
    const good = join(dir, "kubeconfig");
    await Deno.writeTextFile(good, kubeconfig(api.url, `    token: ${CANARY.token}\n`));
    const goodAuth = join(dir, "auth.json");
    await Deno.writeTextFile(goodAuth, authFile());
    const peers = [
      "--kubeconfig",
      good,
      "--kube-allow-http",
      "--credentials-file",
      goodAuth,
      "--s3-endpoint",
      s3Url,
      "--s3-path-style",
      "--sink",
      "s3",
      ...portArgs,
    ];
    {
      const c = await spawnCollector(["run", ...base("peers"), ...peers]);
      try {
        await line(c, /SelfSubjectReview/);
        await line(c, /pod list\/watch failed/);
        await line(c, /S3 PUT .* answered 500 InternalError \(after \d+ tries\)/);
        await line(c, /S3 PUT .* answered 403/);
        texts.push(["hostile peers: endpoints", await endpoints(c)]);
      } finally {
        await c.stop();
      }
      texts.push(["hostile peers: log", c.lines.join("\n") + (await c.stdout)]);
    }
    texts.push(["hostile peers: doctor", await doctor([...base("peers-doctor"), ...peers])]);

    // 3. A client key that is not a key.
    const keyPem =
      `-----BEGIN EC PRIVATE KEY-----\n${CANARY.clientKey}\n-----END EC PRIVATE KEY-----\n`;
    const certPem = await Deno.readTextFile(
      new URL("./testdata/kube/node-client-cert.pem", import.meta.url),
    );
    const keyed = join(dir, "key-kubeconfig");
    await Deno.writeTextFile(
      keyed,
      kubeconfig(
        api.url,
        `    client-certificate-data: ${b64(certPem)}\n    client-key-data: ${b64(keyPem)}\n`,
      ),
    );
    const keyArgs = ["--kubeconfig", keyed, "--kube-allow-http", "--sink", "dir"];
    {
      const c = await spawnCollector(["run", ...base("key"), ...keyArgs]);
      try {
        await line(c, /kubeconfig unusable/);
        texts.push(["bad client key: endpoints", await endpoints(c)]);
      } finally {
        await c.stop();
      }
      texts.push(["bad client key: log", c.lines.join("\n") + (await c.stdout)]);
    }
    texts.push(["bad client key: doctor", await doctor([...base("key-doctor"), ...keyArgs])]);
  } finally {
    s3Ac.abort();
    await s3.finished;
    await Deno.remove(dir, { recursive: true });
  }
  for (const [where, text] of texts) assertNoCanary(where, text);
  // The paths were really driven: each error is named (without its secret).
  const all = texts.map(([, t]) => t).join("\n");
  for (
    const re of [
      /not YAML/,
      /bad-auth\.json: not JSON/,
      /answered 403 SignatureDoesNotMatch/,
      /HTTP 403 Forbidden/,
    ]
  ) assert.match(all, re);
});
