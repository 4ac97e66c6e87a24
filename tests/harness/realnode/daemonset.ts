/**
 * The shipped DaemonSet (scripts/deploy/daemonset.yaml) on a kubelet-tier CRI-O node, without a
 * controller manager: the node made to look as the manifest expects (`/` rshared for the
 * HostToContainer mount, `/usr/bin/crictl` and `/run/crio/crio.sock` in the node's mount
 * namespace, so the pod sees them under `/host`), the collector image put into CRI-O's storage by
 * skopeo, the manifest's objects applied to the real kube-apiserver, and the one Pod the
 * DaemonSet controller would make, from its template: `spec.nodeName` set, the DaemonSet as its
 * controller owner, the image name the only change.
 */

import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { run, SimCommandError } from "../netns.ts";
import type { CrioNode } from "./crionode.ts";
import type { KubeletNode } from "./kubelet_node.ts";

type Obj = Record<string, unknown>;

/**
 * Inside the CRI-O node only (its mount namespace is private to the host): `/` rshared, the real
 * crictl at /usr/bin/crictl (a read-only overlay on /usr/bin), and the CRI-O socket hard-linked
 * at /run/crio/crio.sock (the node's /run is a folder of the run dir).
 * @example await shapeCrioNodeForDaemonSet(node.crioNode!, peers.crictl);
 */
export async function shapeCrioNodeForDaemonSet(crio: CrioNode, crictl: string): Promise<void> {
  const bin = join(crio.paths.dir, "ds-usrbin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.copyFile(crictl, join(bin, "crictl"));
  await Deno.chmod(join(bin, "crictl"), 0o755);
  const runCrio = join(crio.paths.nsroot, "run", "crio");
  await Deno.mkdir(runCrio, { recursive: true });
  await Deno.link(crio.paths.socket, join(runCrio, "crio.sock"));
  await run("nsenter", [
    "-t",
    String(crio.initPid),
    "-m",
    "sh",
    "-c",
    `set -e; mount --make-rshared /; mount -t overlay ccpeers-usrbin -o ro,lowerdir='${bin}':/usr/bin /usr/bin`,
  ]);
}

/**
 * Copies an OCI archive into the running CRI-O's storage with skopeo, inside the node, as
 * crio.ts's launch does for the tier's other images.
 * @example await importCrioImage(node.crioNode!, tar, COLLECTOR_IMAGE);
 */
export async function importCrioImage(crio: CrioNode, tar: string, ref: string): Promise<void> {
  const p = crio.paths;
  await runOrSay("skopeo copy into CRI-O's storage", [
    "nsenter",
    "-t",
    String(crio.initPid),
    "-m",
    "-p",
    "env",
    `CONTAINERS_STORAGE_CONF=${p.storageConf}`,
    `CONTAINERS_REGISTRIES_CONF=${p.registriesConf}`,
    `LD_LIBRARY_PATH=${crio.programs.skopeoLibDir}`,
    "nice",
    "-n",
    "19",
    crio.programs.skopeo,
    "--policy",
    p.policy,
    "copy",
    "-q",
    `oci-archive:${tar}`,
    `containers-storage:[overlay@${p.storage}+${p.runroot}]${ref}`,
  ]);
}

/** `run`, its failure told by `what` and the tool's own words (not the long command line). */
async function runOrSay(what: string, [cmd, ...args]: string[]): Promise<string> {
  try {
    return await run(cmd, args);
  } catch (e) {
    const detail = e instanceof SimCommandError ? e.message.slice(e.command.length + 2) : String(e);
    throw new Error(`${what} failed: ${detail}`);
  }
}

/** The objects of a multi-document manifest, in order. */
export function manifestObjects(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Obj).filter((o) => o && o.kind);
}

const API_PATH: Record<string, (ns: string) => string> = {
  Namespace: () => "/api/v1/namespaces",
  ServiceAccount: (ns) => `/api/v1/namespaces/${ns}/serviceaccounts`,
  RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
  DaemonSet: (ns) => `/apis/apps/v1/namespaces/${ns}/daemonsets`,
};

/**
 * The Pod the DaemonSet controller would make for `nodeName`: the template's metadata and spec,
 * `spec.nodeName`, the DaemonSet as controller owner, and `image` for every container.
 * @example podFromDaemonSet(ds, "node-a", "docker.io/ccpeers/coverage-collector:1")
 */
export function podFromDaemonSet(ds: Obj, nodeName: string, image: string): Obj {
  const meta = ds.metadata as Obj;
  const template = (ds.spec as Obj).template as { metadata?: Obj; spec: Obj };
  const spec = structuredClone(template.spec);
  spec.nodeName = nodeName;
  spec.containers = (spec.containers as Obj[]).map((c) => ({ ...c, image }));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...structuredClone(template.metadata ?? {}),
      name: `${meta.name}-${nodeName}`,
      namespace: meta.namespace,
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        name: meta.name,
        uid: meta.uid,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    spec,
  };
}

/**
 * Applies every object of the manifest to the node's API (the DaemonSet is stored; nothing acts
 * on it), then creates its Pod for the node; returns the Pod as the API made it.
 * @example const pod = await applyDaemonSet(node, "scripts/deploy/daemonset.yaml", COLLECTOR_IMAGE);
 */
export async function applyDaemonSet(
  node: KubeletNode,
  manifest: string,
  image: string,
): Promise<Obj> {
  let ds: Obj | undefined;
  for (const o of manifestObjects(await Deno.readTextFile(manifest))) {
    const path = API_PATH[String(o.kind)];
    if (!path) throw new Error(`${manifest}: no API path known for kind ${o.kind}`);
    const ns = String((o.metadata as Obj).namespace ?? "");
    const r = await node.cp.admin("POST", path(ns), o);
    if (o.kind === "DaemonSet") ds = r.json!;
  }
  if (!ds) throw new Error(`${manifest}: no DaemonSet`);
  const pod = podFromDaemonSet(ds, node.nodeName, image);
  const ns = String((pod.metadata as Obj).namespace);
  return (await node.cp.admin("POST", `/api/v1/namespaces/${ns}/pods`, pod)).json!;
}
