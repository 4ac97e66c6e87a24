/**
 * A per-run PKI for the real control plane (openssl, EC P-256): CA, API server certificate,
 * admin (system:masters), the apiserver's kubelet client, a service-account key, and a node's
 * kubelet-style `kubelet-client-current.pem` holding its certificate and SEC1 key in one file.
 */

import { join } from "node:path";
import { run } from "../netns.ts";

/** Paths of the PKI files. */
export interface Pki {
  dir: string;
  caCrt: string;
  apiserverCrt: string;
  apiserverKey: string;
  adminCrt: string;
  adminKey: string;
  kubeletClientCrt: string;
  kubeletClientKey: string;
  saKey: string;
  saPub: string;
  /** node name → one PEM with certificate and key. */
  nodePem: Map<string, string>;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function signed(dir: string, name: string, subj: string, ext: string): Promise<void> {
  const p = (s: string) => join(dir, s);
  await run("openssl", [
    "req",
    ...EC,
    "-keyout",
    p(`${name}.key`),
    "-out",
    p(`${name}.csr`),
    "-subj",
    subj,
  ]);
  await Deno.writeTextFile(p(`${name}.ext`), ext);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    p(`${name}.csr`),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p(`${name}.crt`),
    "-days",
    "2",
    "-extfile",
    p(`${name}.ext`),
  ]);
  // SEC1 ("EC PRIVATE KEY"), as the kubelet writes its key.
  await run("openssl", ["ec", "-in", p(`${name}.key`), "-out", p(`${name}.key`)]);
}

const CLIENT = "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n";

/**
 * Makes the PKI in `dir` with one kubelet identity per node name (`/O=system:nodes/CN=system:node:<n>`).
 * @example const pki = await makePki(`${runDir}/pki`, ["node-a", "node-b"]);
 */
export async function makePki(dir: string, nodes: string[]): Promise<Pki> {
  await Deno.mkdir(dir, { recursive: true });
  const p = (s: string) => join(dir, s);
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=ccpeers-ca",
  ]);
  await signed(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default," +
      "DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n",
  );
  await signed(dir, "admin", "/O=system:masters/CN=ccpeers-admin", CLIENT);
  await signed(dir, "kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", CLIENT);
  const nodePem = new Map<string, string>();
  for (const n of nodes) {
    await signed(dir, `node-${n}`, `/O=system:nodes/CN=system:node:${n}`, CLIENT);
    const pem = p(`kubelet-client-${n}.pem`);
    await Deno.writeTextFile(
      pem,
      (await Deno.readTextFile(p(`node-${n}.crt`))) + (await Deno.readTextFile(p(`node-${n}.key`))),
      { mode: 0o600 },
    );
    nodePem.set(n, pem);
  }
  await run("openssl", [
    "ecparam",
    "-name",
    "prime256v1",
    "-genkey",
    "-noout",
    "-out",
    p("sa.key"),
  ]);
  await run("openssl", ["ec", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub")]);
  return {
    dir,
    caCrt: p("ca.crt"),
    apiserverCrt: p("apiserver.crt"),
    apiserverKey: p("apiserver.key"),
    adminCrt: p("admin.crt"),
    adminKey: p("admin.key"),
    kubeletClientCrt: p("kubelet-client.crt"),
    kubeletClientKey: p("kubelet-client.key"),
    saKey: p("sa.key"),
    saPub: p("sa.pub"),
    nodePem,
  };
}

/**
 * A kubelet-style kubeconfig: the node's one PEM as both client-certificate and client-key.
 * @example kubeletKubeconfig("https://127.0.0.1:16443", pki.caCrt, pki.nodePem.get("node-a")!)
 */
export function kubeletKubeconfig(server: string, ca: string, pem: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ${ca}
    server: ${server}
  name: local
contexts:
- context:
    cluster: local
    user: kubelet
  name: kubelet
current-context: kubelet
users:
- name: kubelet
  user:
    client-certificate: ${pem}
    client-key: ${pem}
`;
}
