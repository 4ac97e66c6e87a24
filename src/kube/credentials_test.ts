import assert from "node:assert/strict";
import { join } from "node:path";
import { CredentialError, loadCredentials, resolveUnderRoot } from "./credentials.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import { subjectCommonName } from "./pem.ts";

const testdata = new URL("../../tests/testdata/kube/", import.meta.url);
const cert = Deno.readTextFileSync(new URL("node-client-cert.pem", testdata));
const key = Deno.readTextFileSync(new URL("node-client-key.pem", testdata));

/** A host tree like a node's: the kubelet pem behind an absolute symlink, under `root`. */
async function nodeRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "kubecreds-" });
  const pki = join(root, "var/lib/kubelet/pki");
  await Deno.mkdir(pki, { recursive: true });
  await Deno.writeTextFile(join(pki, "kubelet-client-2026-01-01.pem"), cert + key);
  await Deno.symlink(
    "/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem",
    join(pki, "kubelet-client-current.pem"),
  );
  await Deno.writeTextFile(join(root, "var/lib/kubelet/ca.crt"), cert);
  return root;
}

const KUBECONFIG = `current-context: c
clusters: [{name: k, cluster: {server: "https://a:6443", certificate-authority: ca.crt}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
`;

Deno.test("an absolute symlink is followed inside the host root, not the container's /", async () => {
  const root = await nodeRoot();
  try {
    assert.equal(
      await resolveUnderRoot(root, "/var/lib/kubelet/pki/kubelet-client-current.pem"),
      "/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("one pem file holding certificate and SEC1 key gives both, split by block", async () => {
  const root = await nodeRoot();
  try {
    const spec = parseKubeconfig(KUBECONFIG, { path: "/var/lib/kubelet/kubeconfig" });
    const c = await loadCredentials(spec, root);
    assert.equal(c.certPem?.trim(), cert.trim());
    assert.match(c.keyPem!, /^-----BEGIN EC PRIVATE KEY-----/);
    assert.ok(!c.certPem!.includes("PRIVATE KEY"));
    assert.equal(subjectCommonName(c.certDer!), "system:node:worker-1");
    assert.match(c.caPem!, /BEGIN CERTIFICATE/);
    assert.match(c.fingerprint, /kubelet-client-2026-01-01\.pem@\d+:\d+/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("missing files and files without the needed block are named in errors", async () => {
  const root = await nodeRoot();
  try {
    const spec = parseKubeconfig(KUBECONFIG, { path: "/var/lib/kubelet/kubeconfig" });
    await Deno.writeTextFile(join(root, "var/lib/kubelet/pki/kubelet-client-2026-01-01.pem"), cert);
    await assert.rejects(loadCredentials(spec, root), (e: unknown) => {
      assert.ok(e instanceof CredentialError);
      assert.equal(e.field, "client-key");
      assert.match(e.message, /kubelet-client-current\.pem: holds no PRIVATE KEY block/);
      return true;
    });
    await Deno.remove(join(root, "var/lib/kubelet/pki/kubelet-client-2026-01-01.pem"));
    await assert.rejects(loadCredentials(spec, root), /certificate.* not found/);
    const tokenSpec = parseKubeconfig(
      KUBECONFIG.replace(/client-certificate.*\n.*client-key.*\n/s, "tokenFile: tok\n"),
      { path: "/var/lib/kubelet/kubeconfig" },
    );
    await assert.rejects(
      loadCredentials(tokenSpec, root),
      /tokenFile .*\/var\/lib\/kubelet\/tok: not found/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
