/** An in-memory crictl behind a System, for discovery tests. */

import { RunError, type RunResult, type System } from "../../src/system.ts";

export interface FakeContainer {
  id: string;
  sandbox: string;
  name: string;
  pod: string;
  namespace?: string;
  pid: number;
  network: "POD" | "NODE";
  ip: string;
  /** The pod's other IPs (dual stack). */
  additionalIps?: string[];
}

/** Serves `crictl ps/inspect/inspectp` from `containers`; `fail` makes every run fail that way. */
export class FakeCri {
  containers: FakeContainer[] = [];
  fail: "none" | "missing" | "exit" | "garbage" | "hang" = "none";
  calls: string[] = [];

  /** `base` with its run() answering as crictl. */
  system(base: System): System {
    return { ...base, run: (cmd, args, opts) => this.run(cmd, args, opts.timeoutMs) };
  }

  run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
    this.calls.push(args.join(" "));
    const ok = (v: unknown) => Promise.resolve({ code: 0, stdout: JSON.stringify(v), stderr: "" });
    if (this.fail === "missing") return Promise.reject(new RunError(cmd, "not-found", "not found"));
    if (this.fail === "hang") {
      return Promise.reject(new RunError(cmd, "timeout", `killed after ${timeoutMs}ms`));
    }
    if (this.fail === "exit") {
      return Promise.resolve({ code: 1, stdout: "", stderr: "connection refused" });
    }
    if (this.fail === "garbage") return Promise.resolve({ code: 0, stdout: "<html>", stderr: "" });
    const labels = (c: FakeContainer) => ({
      "io.kubernetes.container.name": c.name,
      "io.kubernetes.pod.name": c.pod,
      "io.kubernetes.pod.namespace": c.namespace ?? "ns",
      "io.kubernetes.pod.uid": `uid-${c.pod}`,
    });
    const [verb] = args;
    if (verb === "ps") {
      return ok({
        containers: this.containers.map((c) => ({
          id: c.id,
          podSandboxId: c.sandbox,
          metadata: { name: c.name, attempt: 0 },
          imageRef: `img-${c.name}`,
          state: "CONTAINER_RUNNING",
          labels: labels(c),
        })),
      });
    }
    // crictl v1.37: every ID must answer; one object for one ID, an array for several
    const docs: unknown[] = [];
    for (const id of args.slice(1)) {
      const c = this.containers.find((x) => (verb === "inspect" ? x.id : x.sandbox) === id);
      if (!c) return Promise.resolve({ code: 1, stdout: "", stderr: `${id} not found` });
      docs.push(verb === "inspect" ? inspectDoc(id, c, labels(c)) : inspectpDoc(id, c));
    }
    return ok(docs.length === 1 ? docs[0] : docs);
  }
}

function inspectDoc(id: string, c: FakeContainer, labels: Record<string, string>) {
  return { status: { id, labels }, info: { pid: c.pid, sandboxID: c.sandbox } };
}

function inspectpDoc(id: string, c: FakeContainer) {
  return {
    status: {
      id,
      metadata: { name: c.pod, namespace: c.namespace ?? "ns", uid: `uid-${c.pod}` },
      state: "SANDBOX_READY",
      network: { ip: c.ip, additionalIps: (c.additionalIps ?? []).map((ip) => ({ ip })) },
      linux: { namespaces: { options: { network: c.network, pid: "CONTAINER" } } },
    },
  };
}
