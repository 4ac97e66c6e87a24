/** The pure and loopback parts of the kubelet tier: config, node setup, the API forwarder. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { forward } from "./forward.ts";
import { kubeletArgs, kubeletConfig } from "./kubelet.ts";
import { KUBELET_SYSCTLS, nodeSetupScript } from "./kubenode_ns.ts";

Deno.test("kubeletConfig: the settings this machine needs, cgroups under the run's root", () => {
  const c = JSON.parse(
    kubeletConfig({
      caCrt: "/r/ca.crt",
      podLogsDir: "/r/logs",
      cgroupRoot: "/ccpeers-abc123",
      healthzPort: 1,
    }),
  );
  assert.equal(c.kind, "KubeletConfiguration");
  assert.equal(c.failCgroupV1, false);
  assert.equal(c.protectKernelDefaults, true);
  assert.equal(c.oomScoreAdj, 0);
  assert.equal(c.cgroupDriver, "cgroupfs");
  assert.equal(c.cgroupsPerQOS, true);
  assert.equal(c.cgroupRoot, "/ccpeers-abc123");
  assert.equal(c.authentication.anonymous.enabled, false);
  assert.equal(c.readOnlyPort, 0);
  assert.equal(c.rotateCertificates, false);
});

Deno.test("kubeletArgs: --kubeconfig on the command line, node IP, root under the run dir", () => {
  const a = kubeletArgs({
    dir: "/r",
    kubeconfig: "/r/kubelet.conf",
    endpoint: "unix:///r/c.sock",
    node: "n1",
    nodeIp: "10.99.0.1",
  });
  assert.ok(a.includes("--kubeconfig=/r/kubelet.conf"));
  assert.ok(a.includes("--node-ip=10.99.0.1"));
  assert.ok(a.includes("--root-dir=/r/kubelet-root"));
  assert.ok(a.includes("--hostname-override=n1"));
});

Deno.test("nodeSetupScript: mounts only over the node's own paths; fakes only differing sysctls", () => {
  const current = Object.fromEntries(KUBELET_SYSCTLS.map(([k, v]) => [k, v]));
  current["vm/overcommit_memory"] = "0";
  const s = nodeSetupScript("/tmp/ccpeers-x", current);
  const targets = [...s.matchAll(/^mount --bind (?:-o ro )?\S+ (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(targets, [
    "/run",
    "/var/lib",
    "/var/log",
    "/proc/sys/vm/overcommit_memory",
    "/sys/kernel/mm/hugepages",
  ]);
  assert.match(s, /^mount --make-rprivate \/$/m, "nothing propagates back to the host");
  assert.match(s, /^echo 1 > \/tmp\/ccpeers-x\/sysctl-fake\/vm_overcommit_memory$/m);
  assert.doesNotMatch(s, /sysctl -w|> \/proc\/sys/, "no sysctl is ever written");
});

Deno.test("forward: unix socket → loopback TCP byte for byte; drop() cuts open connections", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cc-fwd-" });
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const c of echo) c.readable.pipeTo(c.writable).catch(() => {});
  })();
  const stop = new AbortController();
  const sock = join(dir, "s.sock");
  const f = forward({ unix: sock }, { tcp: (echo.addr as Deno.NetAddr).port }, stop.signal);
  try {
    const c = await Deno.connect({ transport: "unix", path: sock });
    const w = c.writable.getWriter();
    const r = c.readable.getReader();
    await w.write(new TextEncoder().encode("hello"));
    let got = "";
    while (got.length < 5) got += new TextDecoder().decode((await r.read()).value);
    assert.equal(got, "hello");
    f.drop();
    assert.equal((await r.read()).done, true, "the dropped connection ends");
    // New connections are still accepted after a drop.
    const c2 = await Deno.connect({ transport: "unix", path: sock });
    await c2.write(new TextEncoder().encode("again"));
    const buf = new Uint8Array(5);
    let n = 0;
    while (n < 5) n += (await c2.read(buf.subarray(n))) ?? 0;
    assert.equal(new TextDecoder().decode(buf), "again");
    c2.close();
    try {
      c.close();
    } catch { /* the drop closed it */ }
  } finally {
    stop.abort();
    await f.done;
    echo.close();
    await serving.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
