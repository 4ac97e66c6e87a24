import assert from "node:assert/strict";
import { CrictlInspect, CrictlInspectp, crictlJson, CrictlPs, runCrictl } from "./crictl_check.ts";
import { CrictlState } from "./crictl_state.ts";
import { hasGo } from "./gobuild.ts";

const noGo = !(await hasGo());
const skipGo = noGo ? " (skipped: needs Go)" : "";

Deno.test({
  name: "fakecrictl: ps/inspect/inspectp shapes, prefixes, unknown IDs, faults, call log" + skipGo,
  ignore: noGo,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ccsim-fc-" });
    try {
      const st = await CrictlState.create(dir);
      st.update((d) => {
        d.pods.push({
          id: "a".repeat(64),
          name: "web",
          namespace: "demo",
          uid: "u-1",
          ip: "10.244.9.2",
          hostNetwork: false,
          createdAt: 1,
        });
        d.containers.push({
          id: "c".repeat(64),
          podId: "a".repeat(64),
          name: "app",
          attempt: 1,
          image: "img@sha256:00",
          imageRef: "img@sha256:00",
          pid: 4242,
          createdAt: 1,
          args: ["/app"],
        }, { ...exitedContainer() });
      });
      const ps = CrictlPs.parse(
        await crictlJson(st.path, ["--runtime-endpoint", "unix:///x.sock", "ps", "-o", "json"]),
      );
      assert.deepEqual(
        ps.containers.map((c) => c.id),
        ["c".repeat(64)],
        "exited ones are not listed",
      );
      assert.deepEqual(ps.containers[0].labels["io.kubernetes.pod.uid"], "u-1");
      assert.deepEqual(
        CrictlPs.parse(await crictlJson(st.path, ["-r", "x", "ps", "--output=json"])).containers
          .length,
        1,
      );
      const insp = CrictlInspect.parse(
        await crictlJson(st.path, ["inspect", "-o", "json", "cccc"]),
      );
      assert.deepEqual([insp.info.pid, insp.info.sandboxID], [4242, "a".repeat(64)]);
      const pod = CrictlInspectp.parse(await crictlJson(st.path, ["inspectp", "a".repeat(64)]));
      assert.deepEqual(pod.status.network.ip, "10.244.9.2");
      assert.deepEqual(pod.status.linux.namespaces.options.network, "POD");

      const missing = await runCrictl(st.path, ["inspect", "f".repeat(64)]);
      assert.deepEqual(missing.code, 1);
      assert.match(missing.stderr, /NotFound.*not found/);
      // several IDs: one JSON array in ID order (crictl v1.37); one unknown ID fails the run
      const two = await crictlJson(st.path, ["inspect", "cccc", "c".repeat(64)]);
      assert.deepEqual(
        (two as unknown[]).map((x) => CrictlInspect.parse(x).info.pid),
        [4242, 4242],
      );
      const mixed = await runCrictl(st.path, ["inspect", "cccc", "f".repeat(64)]);
      assert.deepEqual([mixed.code, mixed.stdout], [1, ""]);
      assert.deepEqual(
        (await runCrictl(st.path, ["ps", "-r", "x"])).code,
        1,
        "global flag after command",
      );

      st.update((d) => (d.endpoint = "unix:///right.sock"));
      assert.deepEqual(
        (await runCrictl(st.path, ["-r", "unix:///wrong.sock", "ps", "-o", "json"])).code,
        1,
      );
      assert.deepEqual(
        (await runCrictl(st.path, ["-r", "unix:///right.sock", "ps", "-o", "json"])).code,
        0,
      );
      st.update((d) => delete d.endpoint);

      st.update((d) => (d.fault = { mode: "exit1" }));
      const e1 = await runCrictl(st.path, ["ps", "-o", "json"]);
      assert.deepEqual(e1.code, 1);
      assert.match(e1.stderr, /connect/);
      st.update((d) => (d.fault = { mode: "garbage" }));
      const g = await runCrictl(st.path, ["ps", "-o", "json"]);
      assert.deepEqual(g.code, 0);
      assert.ok(!isJson(g.stdout), "garbage is not JSON");
      st.update((d) => (d.fault = { mode: "hang" }));
      const started = Date.now();
      const hung = await runCrictl(st.path, ["ps", "-o", "json"], 300);
      assert.equal(hung.signal, "SIGTERM", "killed at the timeout");
      assert.ok(Date.now() - started >= 290);
      st.update((d) => (d.fault = { mode: "slow", delayMs: 200 }));
      const slowStart = Date.now();
      assert.equal((await runCrictl(st.path, ["ps", "-o", "json"])).code, 0);
      assert.ok(Date.now() - slowStart >= 200, "slow answers after delayMs");
      st.update((d) => (d.fault = { mode: "exit1", commands: ["inspect"] }));
      assert.deepEqual((await runCrictl(st.path, ["ps", "-o", "json"])).code, 0);
      assert.deepEqual((await runCrictl(st.path, ["inspect", "c".repeat(64)])).code, 1);

      const calls = await st.calls();
      assert.deepEqual(calls.length, 16);
      assert.deepEqual(calls[0], "--runtime-endpoint unix:///x.sock ps -o json");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function exitedContainer() {
  return {
    id: "e".repeat(64),
    podId: "a".repeat(64),
    name: "old",
    attempt: 0,
    image: "i",
    imageRef: "i",
    pid: 1,
    state: "CONTAINER_EXITED" as const,
    createdAt: 1,
    args: [],
  };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
