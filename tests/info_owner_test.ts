/**
 * info.json of a collector says who runs its pod (the workload the pod watch derived) and, when
 * the server's headers carry no source, the image's source labels as the fake crictl's
 * `inspecti` gives them (once per image, however many servers run it).
 */

import assert from "node:assert/strict";
import { Collector } from "../src/collect/collector.ts";
import type { CollectorDeps } from "../src/collect/collector_types.ts";
import { parseSchedule } from "../src/units.ts";
import { Crictl } from "../src/cri/crictl.ts";
import { ImageSources, SOURCE_COMMIT_LABEL, SOURCE_URL_LABEL } from "../src/cri/image_source.ts";
import { PodWorkloads } from "../src/kube/pod_workloads.ts";
import { workloadOf } from "../src/kube/workload.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { createSystem } from "../src/system.ts";
import { CrictlState } from "./harness/crictl_state.ts";
import { fakeBuild, makeTarget, MemorySink, startFakeCoverageServer } from "./harness/covfiles.ts";
import { hasGo } from "./harness/gobuild.ts";

const noGo = !(await hasGo());
const IMAGE = "quay.io/ocp/app@sha256:abcd";
const URL = "https://github.com/example/app";
const COMMIT = "4f2c1e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e";

/** A collector's deps storing into memory, with the pod facts the kube part and crictl give. */
function memoryDeps(
  sink: MemorySink,
  facts: Pick<CollectorDeps, "podWorkload" | "imageSource">,
  system = createSystem(),
): CollectorDeps {
  return {
    sink,
    system,
    log: silentLogger,
    metrics: new Metrics(),
    config: { pullSchedule: parseSchedule("1h"), pullTimeout: 5000, maxBody: 1 << 20 },
    hostname: "worker-1",
    ...facts,
  };
}

/** The collector's info.json as stored, and how many times it was put. */
function storedInfo(sink: MemorySink, c: Collector) {
  const key = `${c.prefix}/info.json`;
  return {
    info: () => JSON.parse(new TextDecoder().decode(sink.objects.get(key))),
    puts: () => sink.puts.filter((k) => k === key).length,
  };
}

Deno.test({
  name: "info.json names the Deployment behind the pod's ReplicaSet and the image's source labels" +
    (noGo ? " (skipped: needs Go for the fake crictl)" : ""),
  ignore: noGo,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cc-info-owner-" });
    const hash = fakeBuild("app").hash;
    const servers = [0, 1].map(() =>
      startFakeCoverageServer({ binary: "app", pid: Deno.pid, hash, value: 1 })
    );
    try {
      const state = await CrictlState.create(dir);
      state.update((d) => {
        d.containers.push({
          id: "c".repeat(64),
          podId: "p".repeat(64),
          name: "app",
          attempt: 0,
          image: "quay.io/ocp/app:1",
          imageRef: IMAGE,
          pid: Deno.pid,
          createdAt: 1,
          args: [],
        });
        d.imageLabels = { [IMAGE]: { [SOURCE_URL_LABEL]: URL, [SOURCE_COMMIT_LABEL]: COMMIT } };
      });
      const system = createSystem();
      const crictl = new Crictl(system, { command: state.path, timeoutMs: 10_000 });
      const images = new ImageSources(crictl);
      const workloads = new PodWorkloads();
      workloads.set(
        "uid-1",
        workloadOf({
          name: "web-5c8f7b9d4-q2kzt",
          ownerReferences: [{ kind: "ReplicaSet", name: "web-5c8f7b9d4", controller: true }],
          labels: { "pod-template-hash": "5c8f7b9d4" },
        }),
      );
      const sink = new MemorySink();
      const deps = memoryDeps(sink, {
        podWorkload: (uid) => workloads.get(uid),
        imageSource: (image, signal) => images.of(image, signal),
      }, system);
      const signal = new AbortController().signal;
      const infos = [];
      for (const [i, s] of servers.entries()) {
        const target = makeTarget({
          port: s.port,
          hostPid: Deno.pid,
          identity: { binary: "app", pid: Deno.pid, extra: {} },
          container: { name: `app${i}` },
        });
        const c = new Collector(target, deps);
        assert.equal((await c.pullNow("test", signal)).result, "stored");
        infos.push(storedInfo(sink, c).info());
      }
      for (const info of infos) {
        assert.deepEqual(
          [info.controllerKind, info.controllerName, info.workloadKind, info.workloadName],
          ["ReplicaSet", "web-5c8f7b9d4", "Deployment", "web"],
        );
        assert.deepEqual([info.source_url, info.source_commit, info.sourceFrom], [
          URL,
          COMMIT,
          "image-labels",
        ]);
        assert.deepEqual([info.podUid, info.binary, info.owner], ["uid-1", "app", "container"]);
      }
      const asked = (await state.calls()).filter((l) => l.startsWith("inspecti"));
      assert.deepEqual(asked, [`inspecti ${IMAGE}`], "one inspecti for the image of both servers");
    } finally {
      for (const s of servers) await s.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("info.json written before the pod list arrived is written again, once, when the watch names the workload", async () => {
  const hash = fakeBuild("app").hash;
  const server = startFakeCoverageServer({ binary: "app", pid: Deno.pid, hash, value: 1 });
  try {
    const workloads = new PodWorkloads();
    const sink = new MemorySink();
    const deps = memoryDeps(sink, { podWorkload: (uid) => workloads.get(uid) });
    const target = makeTarget({
      port: server.port,
      hostPid: Deno.pid,
      identity: { binary: "app", pid: Deno.pid, extra: {} },
    });
    const c = new Collector(target, deps);
    const signal = new AbortController().signal;
    const { info, puts: infoPuts } = storedInfo(sink, c);
    await c.pullNow("first", signal);
    assert.equal(infoPuts(), 1);
    assert.equal(info().workloadKind, undefined, "the watch has not listed the pod yet");
    await c.pullNow("again", signal);
    assert.equal(infoPuts(), 1, "nothing new to say: not written again");
    workloads.set(
      "uid-1",
      workloadOf({
        name: "db-0",
        ownerReferences: [{ kind: "StatefulSet", name: "db", controller: true }],
      }),
    );
    server.state.value = 2;
    await c.pullNow("listed", signal);
    assert.equal(infoPuts(), 2);
    assert.deepEqual([info().workloadKind, info().workloadName], ["StatefulSet", "db"]);
    server.state.value = 3;
    await c.pullNow("later", signal);
    assert.equal(infoPuts(), 2, "once");
  } finally {
    await server.close();
  }
});

Deno.test("a store does not wait on a slow crictl for image labels; info.json is written again when they come", async () => {
  const hash = fakeBuild("app").hash;
  const server = startFakeCoverageServer({ binary: "app", pid: Deno.pid, hash, value: 1 });
  try {
    let answer: (s: { url?: string; commit?: string }) => void = () => {};
    const slow = new Promise<{ url?: string; commit?: string }>((r) => answer = r);
    let asks = 0;
    const workloads = new PodWorkloads();
    const sink = new MemorySink();
    const deps = memoryDeps(sink, {
      imageSource: () => (asks++, slow),
      podWorkload: (uid) => workloads.get(uid),
    });
    const target = makeTarget({
      port: server.port,
      hostPid: Deno.pid,
      identity: { binary: "app", pid: Deno.pid, extra: {} },
    });
    const c = new Collector(target, deps);
    const signal = new AbortController().signal;
    const { info, puts: infoPuts } = storedInfo(sink, c);
    assert.equal((await c.pullNow("crictl hangs", signal)).result, "stored");
    assert.equal(infoPuts(), 1);
    assert.equal(info().source_url, undefined);
    answer({ url: URL, commit: COMMIT });
    server.state.value = 2;
    await c.pullNow("crictl answered", signal);
    assert.equal(infoPuts(), 2);
    assert.deepEqual([info().source_url, info().source_commit], [URL, COMMIT]);
    workloads.set("uid-1", { kind: "Pod", name: "app-7d9f" });
    server.state.value = 3;
    await c.pullNow("pod listed", signal);
    assert.equal(infoPuts(), 3);
    assert.deepEqual([info().source_url, info().workloadKind], [URL, "Pod"], "both facts kept");
    server.state.value = 4;
    await c.pullNow("later", signal);
    assert.equal(infoPuts(), 3, "once each");
    assert.equal(asks, 2, "asked until crictl answered, then not again");
  } finally {
    await server.close();
  }
});
