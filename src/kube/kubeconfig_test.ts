import assert from "node:assert/strict";
import { KubeconfigError, parseKubeconfig } from "./kubeconfig.ts";

import { SAMPLES as samples } from "../../tests/testdata/samples.ts";
const sample = Deno.readTextFileSync(new URL("kubelet-kubeconfig.yaml", samples));
const b64 = (s: string) => btoa(s);
const PEM = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;

function config(user: string, cluster = "    server: https://10.0.0.1:6443\n") {
  return `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster:
${cluster}contexts:
- name: c
  context: {cluster: k, user: u}
users:
- name: u
  user:
${user}`;
}

Deno.test("the kubelet sample: same file for cert and key, inline CA", () => {
  const s = parseKubeconfig(sample, { path: "/var/lib/kubelet/kubeconfig" });
  assert.equal(s.server.href, "https://api-int.cluster-x.example.com:6443/");
  assert.equal(s.context, "kubelet");
  assert.deepEqual(s.clientCert, { file: "/var/lib/kubelet/pki/kubelet-client-current.pem" });
  assert.deepEqual(s.clientKey, { file: "/var/lib/kubelet/pki/kubelet-client-current.pem" });
  assert.ok("pem" in s.ca! && s.ca.pem.startsWith("-----BEGIN CERTIFICATE-----"));
  assert.equal(s.insecureSkipTlsVerify, false);
  assert.equal(s.token, undefined);
});

Deno.test("relative file paths are relative to the kubeconfig's directory", () => {
  const s = parseKubeconfig(
    config(
      "    client-certificate: pki/c.pem\n    client-key: ../k.pem\n",
      "    server: https://a:6443\n    certificate-authority: ca.crt\n    tls-server-name: api\n",
    ),
    { path: "/etc/kube/node.conf" },
  );
  assert.deepEqual(s.clientCert, { file: "/etc/kube/pki/c.pem" });
  assert.deepEqual(s.clientKey, { file: "/etc/k.pem" });
  assert.deepEqual(s.ca, { file: "/etc/kube/ca.crt" });
  assert.equal(s.tlsServerName, "api");
});

Deno.test("inline -data fields are decoded to PEM", () => {
  const s = parseKubeconfig(
    config(
      `    client-certificate-data: ${b64(PEM("CERTIFICATE"))}\n` +
        `    client-key-data: ${b64(PEM("EC PRIVATE KEY"))}\n`,
      `    server: https://a\n    certificate-authority-data: ${b64(PEM("CERTIFICATE"))}\n`,
    ),
    { path: "/k" },
  );
  assert.deepEqual(s.clientKey, { pem: PEM("EC PRIVATE KEY") });
  assert.deepEqual(s.clientCert, { pem: PEM("CERTIFICATE") });
  assert.deepEqual(s.ca, { pem: PEM("CERTIFICATE") });
});

Deno.test("token and tokenFile users", () => {
  assert.equal(parseKubeconfig(config("    token: abc\n"), { path: "/k" }).token, "abc");
  const s = parseKubeconfig(config("    tokenFile: t/token\n"), { path: "/x/k" });
  assert.equal(s.tokenFile, "/x/t/token");
  assert.equal(s.clientCert, undefined);
});

Deno.test("insecure-skip-tls-verify is read", () => {
  const s = parseKubeconfig(
    config("    token: x\n", "    server: https://a\n    insecure-skip-tls-verify: true\n"),
    { path: "/k" },
  );
  assert.equal(s.insecureSkipTlsVerify, true);
});

function rejects(text: string, field: RegExp) {
  assert.throws(() => parseKubeconfig(text, { path: "/etc/k.conf" }), (e: unknown) => {
    assert.ok(e instanceof KubeconfigError, String(e));
    assert.match(e.message, /^kubeconfig \/etc\/k\.conf: /);
    assert.match(e.field, field);
    return true;
  });
}

Deno.test("missing or bad fields are named in the error, with the file", () => {
  rejects(config("    client-certificate: c.pem\n"), /users\[u\]\.user\.client-key$/);
  rejects(config("    client-key: c.pem\n"), /client-certificate$/);
  rejects(config("    username: x\n"), /users\[u\]\.user\.client-certificate$/);
  rejects(config("    token: x\n", "    insecure-skip-tls-verify: true\n"), /clusters.*server/);
  rejects(config("    token: x\n", "    server: ftp://a\n"), /clusters\[k\]\.cluster\.server/);
  rejects(config("    exec: {command: aws}\n"), /user\.exec$/);
  rejects(
    config(`    client-certificate-data: ${b64("nope")}\n    client-key: k\n`),
    /client-certificate-data/,
  );
  rejects(config("    token: x\n").replace("current-context: c", ""), /^current-context$/);
  rejects(config("    token: x\n").replace("current-context: c", "current-context: z"), /^current/);
  rejects(config("    token: x\n").replace("user: u}", "user: v}"), /context\.user$/);
  rejects("a: [", /\(file\)/);
  rejects("just text", /\(file\)/);
  rejects("clusters: 3\n", /^clusters$/);
});
