/**
 * Keeping the fake crictl honest: the same commands go to the real crictl (on containerd and on
 * CRI-O, one body) and to the
 * fake holding the same pods and containers; exit status, the JSON shape at every field the
 * collector reads, and what discovery builds from the answers must agree. What differs and is
 * not read (CRI-O's info.privileged, containerd's info.config, ...) is left out on purpose.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CrictlState } from "../harness/crictl_state.ts";
import { shapeAt } from "../harness/realnode/shape.ts";
import {
  COVSERVER_IMAGE,
  COVSERVER_IMAGE_LABELS,
  type RealContainer,
} from "../harness/realnode/realnode.ts";
import type { CriNode } from "../harness/realnode/cri_node.ts";
import { containerInfoOf } from "../../src/discover/containers.ts";
import { imageSourceOf } from "../../src/cri/image_source.ts";
import { InspectiOutput, InspectOutput, InspectpOutput, PsOutput } from "../../src/cri/schemas.ts";
import { REAL_PORT, realTestOnEach, withRealNode } from "./real_run.ts";

/** The fields each answer is read at (arrays: every element). */
const READ: Record<string, string[]> = {
  ps: [
    "containers[].id",
    "containers[].podSandboxId",
    "containers[].metadata.name",
    "containers[].metadata.attempt",
    "containers[].imageRef",
    "containers[].state",
    "containers[].labels",
  ],
  inspect: [
    "status.id",
    "status.metadata.name",
    "status.imageRef",
    "status.labels",
    "info.pid",
    "info.sandboxID",
  ],
  inspectp: [
    "status.id",
    "status.metadata.name",
    "status.metadata.namespace",
    "status.metadata.uid",
    "status.state",
    "status.network.ip",
    "status.network.additionalIps",
    "status.linux.namespaces.options.network",
    "status.labels",
  ],
  inspecti: [
    "status.id",
    "info.imageSpec.config.Labels",
  ],
};

interface Answer {
  code: number;
  stdout: string;
}

async function runCrictl(cmd: string, pre: string[], args: string[]): Promise<Answer> {
  const out = await new Deno.Command(cmd, {
    args: [...pre, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

/** A fake crictl state holding what the real node runs. */
async function mirror(dir: string, node: CriNode, cts: RealContainer[]): Promise<CrictlState> {
  const state = await CrictlState.create(dir);
  const ps = PsOutput.parse(JSON.parse(await node.crictlRun(["ps", "-o", "json"])));
  state.update((doc) => {
    for (const pod of node.pods) {
      doc.pods.push({ ...pod, createdAt: Date.now() * 1e6 });
    }
    for (const c of cts) {
      doc.containers.push({
        id: c.id,
        podId: c.pod.id,
        name: c.name,
        attempt: c.attempt,
        image: COVSERVER_IMAGE,
        imageRef: ps.containers.find((p) => p.id === c.id)!.imageRef ?? "",
        pid: c.pid,
        state: "CONTAINER_RUNNING",
        createdAt: Date.now() * 1e6,
        args: [],
      });
    }
    const ref = ps.containers.find((p) => p.id === cts[0]?.id)?.imageRef ?? "";
    doc.imageLabels = { [ref]: { ...COVSERVER_IMAGE_LABELS } };
  });
  return state;
}

await realTestOnEach(
  "fake and real crictl agree on exit status, read fields and what discovery builds from them",
  (runtime) =>
    withRealNode("conformance", async (r) => {
      const { node } = r;
      const web = await node.runPod({ name: "web", namespace: "conf" });
      const hostnet = await node.runPod({ name: "agent", namespace: "conf", hostNetwork: true });
      const app = await node.startContainer(web, { name: "app", coveragePort: REAL_PORT });
      const agent = await node.startContainer(hostnet, { name: "agent", coveragePort: REAL_PORT });
      const state = await mirror(join(r.dir, "fake"), node, [app, agent]);
      const real = (args: string[]) =>
        runCrictl(node.crictl, ["--runtime-endpoint", node.endpoint], args);
      const fake = (args: string[]) => runCrictl(state.path, [], args);
      const bogus = "f".repeat(64);
      // The image as discovery names it (ps imageRef: containerd gives the image ID).
      const appRef = PsOutput.parse(JSON.parse((await real(["ps", "-o", "json"])).stdout))
        .containers.find((x) => x.id === app.id)?.imageRef ?? "";
      const cases: [string, string[]][] = [
        ["ps", ["ps", "-o", "json"]],
        ["inspect", ["inspect", app.id]],
        ["inspect", ["inspect", agent.id.slice(0, 12)]],
        ["inspectp", ["inspectp", web.id]],
        ["inspectp", ["inspectp", hostnet.id]],
        ["inspect", ["inspect", app.id, agent.id]],
        ["inspectp", ["inspectp", web.id, hostnet.id]],
        ["inspect", ["inspect", app.id, bogus]],
        ["inspectp", ["inspectp", bogus]],
        ["inspecti", ["inspecti", appRef]],
        ["inspecti", ["inspecti", COVSERVER_IMAGE]],
        ["inspecti", ["inspecti", `sha256:${bogus}`]],
      ];
      for (const [what, args] of cases) {
        const [a, b] = await Promise.all([real(args), fake(args)]);
        const name = `crictl ${args.join(" ")}`;
        assert.equal(b.code === 0, a.code === 0, `${name}: real exit ${a.code}, fake ${b.code}`);
        if (a.code !== 0) {
          assert.equal(a.stdout, "", `${name}: real prints nothing on failure`);
          assert.equal(b.stdout, "", `${name}: fake prints nothing on failure`);
          continue;
        }
        const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
        assert.equal(Array.isArray(jb), Array.isArray(ja), `${name}: one object or an array`);
        const docs = (j: unknown) => Array.isArray(j) ? j : [j];
        assert.equal(docs(jb).length, docs(ja).length, name);
        docs(ja).forEach((d, i) => {
          assert.deepEqual(shapeAt(docs(jb)[i], READ[what]), shapeAt(d, READ[what]), name);
        });
      }

      // What discovery builds from each side's answers is the same.
      const infoOf = async (run: (a: string[]) => Promise<Answer>, c: RealContainer) => {
        const ps = PsOutput.parse(JSON.parse((await run(["ps", "-o", "json"])).stdout));
        const i = InspectOutput.parse(JSON.parse((await run(["inspect", c.id])).stdout));
        const p = InspectpOutput.parse(JSON.parse((await run(["inspectp", c.pod.id])).stdout));
        return containerInfoOf(ps.containers.find((x) => x.id === c.id)!, i, p, REAL_PORT);
      };
      for (const c of [app, agent]) {
        const [a, b] = [await infoOf(real, c), await infoOf(fake, c)];
        assert.ok(a, `real: no ContainerInfo for ${c.name}`);
        assert.deepEqual(b, a, `ContainerInfo of ${c.pod.name}/${c.name}`);
      }
      // ... and what info.json takes from the image's labels, by the imageRef discovery keeps.
      const sourceOf = async (run: (a: string[]) => Promise<Answer>) =>
        imageSourceOf(InspectiOutput.parse(JSON.parse((await run(["inspecti", appRef])).stdout)));
      const expected = {
        url: COVSERVER_IMAGE_LABELS["io.openshift.build.source-location"],
        commit: COVSERVER_IMAGE_LABELS["io.openshift.build.commit.id"],
      };
      assert.deepEqual(await sourceOf(real), expected, `real crictl + ${runtime}`);
      assert.deepEqual(await sourceOf(fake), expected, "fake crictl");
    }, runtime),
);
