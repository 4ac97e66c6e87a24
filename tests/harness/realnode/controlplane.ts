/**
 * A real control plane for one test run: etcd v3.7.3 and kube-apiserver v1.37.2 (tests/harness/
 * peers.ts) on free loopback ports, a per-run PKI, `--authorization-mode=Node,RBAC` and the
 * NodeRestriction admission plugin, privileged pods allowed. The admin (system:masters) creates nodes, namespaces and pods;
 * `asNode` acts as a kubelet. Ready in ≈4 s on a quiet machine.
 */

import { join } from "node:path";
import { kubeletKubeconfig, makePki, type Pki } from "./pki.ts";

/** Binaries of the control plane. */
export interface ControlPlanePeers {
  etcd: string;
  kubeApiserver: string;
}

/** A pod the API server holds. */
export interface ApiPod {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Proc {
  child: Deno.ChildProcess;
  log: string;
}

async function spawnLogged(cmd: string, args: string[], log: string): Promise<Proc> {
  const f = await Deno.open(log, { write: true, create: true, truncate: true });
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  // Both streams into one log file in the run dir.
  const w = f.writable.getWriter();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) await w.write(chunk).catch(() => {});
  };
  Promise.all([pump(child.stdout), pump(child.stderr)]).finally(() => w.close().catch(() => {}));
  return { child, log };
}

async function stopProc(p: Proc | undefined): Promise<void> {
  if (!p) return;
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  const t = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 10_000);
  await p.child.status;
  clearTimeout(t);
}

async function tail(log: string): Promise<string> {
  const t = await Deno.readTextFile(log).catch(() => "");
  return t.trim().split("\n").slice(-8).join("\n");
}

/**
 * @example
 * await using cp = await ControlPlane.start({ dir, peers, nodes: ["node-a"] });
 * const pod = await cp.createPod({ name: "web", namespace: "ns", nodeName: "node-a" });
 */
export class ControlPlane implements AsyncDisposable {
  #etcd: Proc | undefined;
  #kas: Proc | undefined;
  #admin: Deno.HttpClient | undefined;
  #nodes = new Map<string, Deno.HttpClient>();
  #namespaces = new Set<string>();

  private constructor(
    readonly dir: string,
    readonly pki: Pki,
    readonly url: string,
  ) {}

  /**
   * Makes the PKI, starts etcd and kube-apiserver, waits for /readyz and creates the Node
   * objects of `nodes`.
   */
  static async start(
    o: { dir: string; peers: ControlPlanePeers; nodes: string[] },
  ): Promise<ControlPlane> {
    await Deno.mkdir(o.dir, { recursive: true });
    const pki = await makePki(join(o.dir, "pki"), o.nodes);
    const [client, peer, api] = [freePort(), freePort(), freePort()];
    const cp = new ControlPlane(o.dir, pki, `https://127.0.0.1:${api}`);
    try {
      const etcdUrl = `http://127.0.0.1:${client}`;
      cp.#etcd = await spawnLogged(o.peers.etcd, [
        "--name=cc",
        `--data-dir=${join(o.dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=cc=http://127.0.0.1:${peer}`,
        "--listen-metrics-urls=",
        "--watch-progress-notify-interval=5s",
        `--quota-backend-bytes=${1 << 30}`,
        "--logger=zap",
      ], join(o.dir, "etcd.log"));
      await cp.#until("etcd healthy", cp.#etcd, async () => {
        const r = await fetch(`${etcdUrl}/health`);
        return (await r.text()).includes('"health":"true"');
      });
      cp.#kas = await spawnLogged(o.peers.kubeApiserver, [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${api}`,
        `--tls-cert-file=${pki.apiserverCrt}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        `--client-ca-file=${pki.caCrt}`,
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        // As kubeadm sets it: privileged pods (the collector's DaemonSet) are admitted.
        "--allow-privileged=true",
        "--service-account-issuer=https://kubernetes.default.svc",
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        "--service-cluster-ip-range=10.96.0.0/24",
        `--kubelet-client-certificate=${pki.kubeletClientCrt}`,
        `--kubelet-client-key=${pki.kubeletClientKey}`,
        "--endpoint-reconciler-type=none",
        "--profiling=false",
      ], join(o.dir, "kube-apiserver.log"));
      const ca = await Deno.readTextFile(pki.caCrt);
      cp.#admin = Deno.createHttpClient({
        caCerts: [ca],
        cert: await Deno.readTextFile(pki.adminCrt),
        key: await Deno.readTextFile(pki.adminKey),
      });
      await cp.#until("kube-apiserver /readyz", cp.#kas, async () => {
        const r = await fetch(`${cp.url}/readyz`, { client: cp.#admin });
        return (await r.text()) === "ok";
      }, 120_000);
      for (const n of o.nodes) {
        const pem = await Deno.readTextFile(pki.nodePem.get(n)!);
        cp.#nodes.set(n, Deno.createHttpClient({ caCerts: [ca], cert: pem, key: pem }));
        await cp.admin("POST", "/api/v1/nodes", {
          apiVersion: "v1",
          kind: "Node",
          metadata: { name: n },
        });
      }
    } catch (e) {
      await cp.close();
      throw e;
    }
    return cp;
  }

  async #until(what: string, p: Proc, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const exited = await Promise.race([
        p.child.status,
        new Promise<null>((r) => setTimeout(() => r(null), 100)),
      ]);
      if (exited) {
        throw new Error(`${what}: process exited (${exited.code}):\n${await tail(p.log)}`);
      }
      if (await ok().catch(() => false)) return;
    }
    throw new Error(`${what}: not within ${ms} ms:\n${await tail(p.log)}`);
  }

  /** A kubeconfig for `system:node:<node>` (one PEM as cert and key), written under the dir. */
  async kubeconfigFor(node: string): Promise<string> {
    const path = join(this.dir, `kubeconfig-${node}`);
    await Deno.writeTextFile(
      path,
      kubeletKubeconfig(this.url, this.pki.caCrt, this.pki.nodePem.get(node)!),
    );
    return path;
  }

  /** One request; resolves with status and parsed JSON body (null when not JSON). */
  async request(
    client: Deno.HttpClient,
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<{ status: number; json: Record<string, unknown> | null; text: string }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      client,
      headers: body === undefined ? {} : { "content-type": contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, json, text };
  }

  /** A request as system:masters; throws on a status ≥ 300. */
  async admin(method: string, path: string, body?: unknown, contentType?: string) {
    const r = await this.request(this.#admin!, method, path, body, contentType);
    if (r.status >= 300) throw new Error(`admin ${method} ${path}: ${r.status} ${r.text}`);
    return r;
  }

  /** A request as the kubelet of `node` (status not checked). */
  asNode(node: string, method: string, path: string, body?: unknown, contentType?: string) {
    return this.request(this.#nodes.get(node)!, method, path, body, contentType);
  }

  /** The admin's TLS client (for raw requests of conformance tests). */
  get adminClient(): Deno.HttpClient {
    return this.#admin!;
  }

  /** Creates a pod bound to `nodeName` (namespace and its `default` ServiceAccount as needed). */
  async createPod(p: {
    name: string;
    namespace: string;
    nodeName: string;
    /** Pod labels and ownerReferences, as a controller would set them (none runs here). */
    labels?: Record<string, string>;
    ownerReferences?: Record<string, unknown>[];
  }): Promise<ApiPod> {
    if (!this.#namespaces.has(p.namespace)) {
      await this.admin("POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: p.namespace },
      });
      // No controller manager runs: nobody else makes the ServiceAccount admission wants.
      await this.admin("POST", `/api/v1/namespaces/${p.namespace}/serviceaccounts`, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "default" },
      });
      this.#namespaces.add(p.namespace);
    }
    const r = await this.admin("POST", `/api/v1/namespaces/${p.namespace}/pods`, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: p.name, labels: p.labels, ownerReferences: p.ownerReferences },
      spec: {
        nodeName: p.nodeName,
        automountServiceAccountToken: false,
        containers: [{ name: "app", image: "docker.io/ccpeers/covserver:1" }],
      },
    });
    const meta = r.json?.metadata as { uid: string };
    return { name: p.name, namespace: p.namespace, nodeName: p.nodeName, uid: meta.uid };
  }

  /** The kubelet reports the pod running with its IP. */
  async markRunning(pod: ApiPod, ip: string): Promise<void> {
    const status = ip ? { phase: "Running", podIP: ip, podIPs: [{ ip }] } : { phase: "Running" };
    const r = await this.asNode(
      pod.nodeName,
      "PATCH",
      `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/status`,
      { status },
      "application/merge-patch+json",
    );
    if (r.status !== 200) throw new Error(`node PATCH pod status: ${r.status} ${r.text}`);
  }

  /** What `kubectl delete` does: the pod gets a deletionTimestamp and stays until the kubelet. */
  async deletePod(pod: ApiPod, graceSeconds = 30): Promise<void> {
    await this.admin(
      "DELETE",
      `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`,
      { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: graceSeconds },
    );
  }

  /** The kubelet's last word once the containers are gone: delete with grace 0. */
  async finishDelete(pod: ApiPod): Promise<void> {
    const r = await this.asNode(
      pod.nodeName,
      "DELETE",
      `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`,
      { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0 },
    );
    if (r.status >= 300 && r.status !== 404) {
      throw new Error(`node DELETE pod: ${r.status} ${r.text}`);
    }
  }

  /** Stops kube-apiserver and etcd; the caller removes the dir. */
  async close(): Promise<void> {
    await stopProc(this.#kas);
    await stopProc(this.#etcd);
    this.#admin?.close();
    for (const c of this.#nodes.values()) c.close();
    this.#kas = this.#etcd = this.#admin = undefined;
    this.#nodes.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
