import assert from "node:assert/strict";
import { DiscoveryClock } from "./discovery_clock.ts";
import { prefixFor } from "../layout.ts";
import type { Identity, Owner } from "../target.ts";

const identity: Identity = { binary: "app", pid: 1, extra: {} };
const host: Owner = { kind: "host" };
const container = (id: string): Owner => ({
  kind: "container",
  container: {
    id,
    sandboxId: "s1",
    name: "app",
    podName: "web",
    namespace: "ns",
    podUid: "u1",
    pid: 100,
    imageRef: "img",
    network: "POD",
    podIp: "10.244.0.2",
    coveragePort: 53700,
  },
});

const T = Date.parse("2026-11-29T10:00:05.250Z");

Deno.test("two servers that would share a storage prefix in one second get distinct seconds", () => {
  const clock = new DiscoveryClock();
  const a = { owner: host, identity };
  const first = clock.timeFor(a, T);
  const twin = clock.timeFor(a, T + 300);
  assert.equal(first.getTime(), T, "the first keeps its own time");
  assert.notEqual(
    prefixFor({ ...a, discoveredAt: first }, "n"),
    prefixFor({ ...a, discoveredAt: twin }, "n"),
  );
  assert.equal(twin.toISOString(), "2026-11-29T10:00:06.000Z");
  const third = clock.timeFor(a, T + 600);
  assert.equal(third.toISOString(), "2026-11-29T10:00:07.000Z");
});

Deno.test("a container restarted under the same name in the same second is a twin; others are not", () => {
  const clock = new DiscoveryClock();
  clock.timeFor({ owner: container("c1"), identity }, T);
  const restarted = clock.timeFor({ owner: container("c2"), identity }, T + 10);
  assert.equal(restarted.toISOString(), "2026-11-29T10:00:06.000Z");
  const other: Identity = { ...identity, binary: "sidecar" };
  assert.equal(clock.timeFor({ owner: container("c1"), identity: other }, T).getTime(), T);
  assert.equal(clock.timeFor({ owner: host, identity }, T).getTime(), T);
});

Deno.test("discovery clock: a later second is used as it is, and old paths are forgotten", () => {
  const clock = new DiscoveryClock();
  clock.timeFor({ owner: host, identity }, T);
  assert.equal(clock.timeFor({ owner: host, identity }, T + 1000).getTime(), T + 1000);
  assert.equal(clock.size, 1);
  clock.forget(T + 60_000);
  assert.equal(clock.size, 0);
});
