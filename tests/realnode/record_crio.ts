/**
 * Records real CRI-O answers into tests/testdata/crio/ (parsed by src/cri/crio_answers_test.ts):
 * a CRI-O node with a pod-network pod (app + sidecar), a hostNetwork pod and a shared-PID pod;
 * `crictl ps`, `inspect`, `inspectp` (one ID and two), `/proc/<pid>/cgroup` of a container and
 * of its conmon. The runtimeSpec (kilobytes of OCI spec the collector never reads) is cut out.
 * Usage (root, with the CRI-O peers): deno run -A tests/realnode/record_crio.ts
 */

import { join } from "node:path";
import { repoRoot } from "../harness/gobuild.ts";
import { startCrio } from "../harness/realnode/crio_peers.ts";

const out = join(repoRoot, "tests/testdata/crio");
await Deno.mkdir(out, { recursive: true });

/** The answer without info.runtimeSpec, pretty-printed. */
function trimmed(text: string): string {
  const cut = (d: { info?: Record<string, unknown> }) => {
    if (d.info && "runtimeSpec" in d.info) d.info.runtimeSpec = "(cut by record_crio.ts)";
    return d;
  };
  const doc = JSON.parse(text);
  return JSON.stringify(Array.isArray(doc) ? doc.map(cut) : cut(doc), null, 2) + "\n";
}

function ppidOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

const node = await startCrio();
try {
  const web = await node.runPod({ name: "web", namespace: "default" });
  const host = await node.runPod({ name: "hostweb", namespace: "default", hostNetwork: true });
  const shared = await node.runPod({ name: "shared", namespace: "default", sharedPid: true });
  const app = await node.startContainer(web, { name: "app", coveragePort: 53700, appPort: 18080 });
  const side = await node.startContainer(web, { name: "sidecar", coveragePort: 53700 });
  await node.startContainer(host, { name: "agent", coveragePort: 53700 });
  await node.startContainer(shared, { name: "app", coveragePort: 53700 });
  const w = (name: string, text: string) => Deno.writeTextFile(join(out, name), text);
  await w("crictl_ps.json", trimmed(await node.crictlRun(["ps", "-o", "json"])));
  await w("crictl_inspect.json", trimmed(await node.crictlRun(["inspect", app.id])));
  await w(
    "crictl_inspect_two_ids.json",
    trimmed(await node.crictlRun(["inspect", app.id, side.id.slice(0, 12)])),
  );
  await w("crictl_inspectp_pod_network.json", trimmed(await node.crictlRun(["inspectp", web.id])));
  await w(
    "crictl_inspectp_host_network.json",
    trimmed(await node.crictlRun(["inspectp", host.id])),
  );
  await w(
    "crictl_inspectp_shared_pid.json",
    trimmed(await node.crictlRun(["inspectp", shared.id])),
  );
  await w(
    "crictl_inspectp_two_ids.json",
    trimmed(await node.crictlRun(["inspectp", web.id, host.id])),
  );
  const hostPid = node.hostPidOf(app.pid);
  const conmon = ppidOf(hostPid);
  await w("proc_pid_cgroup_v1_cgroupfs.txt", await Deno.readTextFile(`/proc/${hostPid}/cgroup`));
  await w("proc_conmon_cgroup_v1_cgroupfs.txt", await Deno.readTextFile(`/proc/${conmon}/cgroup`));
  await w(
    "facts.json",
    JSON.stringify(
      {
        crio: (await node.crictlRun(["version"])).trim().split("\n"),
        cgroupParent: node.cgroupParent,
        appNodePid: app.pid,
        appParentComm: (await Deno.readTextFile(`/proc/${conmon}/comm`)).trim(),
        conmonParentIsNodeInit: ppidOf(conmon) === node.initPid,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`recorded into ${out}`);
} finally {
  await node.close();
}
