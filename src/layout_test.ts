import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import {
  countersKey,
  discoveryTime,
  infoJson,
  infoKey,
  LayoutError,
  metaKey,
  prefixFor,
  sanitizeSegment,
} from "./layout.ts";
import { makeTarget } from "../tests/harness/covfiles.ts";

Deno.test("sanitizeSegment maps / : @ to -, drops leading -, fills empty", () => {
  assertEquals(sanitizeSegment("quay.io/ocp/app@sha256:ab"), "quay.io-ocp-app-sha256-ab");
  assertEquals(sanitizeSegment("/abs"), "abs");
  assertEquals(sanitizeSegment("--x"), "x");
  assertEquals(sanitizeSegment(""), "unknown");
  assertEquals(sanitizeSegment("///"), "unknown");
  assertEquals(sanitizeSegment("kube-apiserver"), "kube-apiserver");
  assertEquals(sanitizeSegment("../etc"), "..-etc");
});

Deno.test("sanitizeSegment rejects dot names and control characters", () => {
  assertThrows(() => sanitizeSegment("."), LayoutError);
  assertThrows(() => sanitizeSegment(".."), LayoutError);
  assertThrows(() => sanitizeSegment("-.."), LayoutError);
  assertThrows(() => sanitizeSegment("a\nb"), LayoutError);
  assertThrows(() => sanitizeSegment("a\x7fb"), LayoutError);
});

Deno.test("discoveryTime is UTC YYYYMMDDTHHMMSSZ", () => {
  assertEquals(discoveryTime(new Date("2026-01-02T03:04:05.999Z")), "20260102T030405Z");
});

Deno.test("a container target's prefix has seven safe segments", () => {
  assertEquals(
    prefixFor(makeTarget(), "worker-1"),
    "worker-1/demo/app-7d9f/app/20261122T100005Z/quay.io-ocp-app-sha256-abcd/app",
  );
  const weird = makeTarget({
    identity: { binary: "/usr/bin/x", pid: 1, extra: {} },
    container: { imageRef: "" },
  });
  assertEquals(
    prefixFor(weird, "w"),
    "w/demo/app-7d9f/app/20261122T100005Z/unknown/usr-bin-x",
  );
});

Deno.test("a host server's prefix is {host}/_host_/{time}/{binary}", () => {
  const t = makeTarget({ owner: { kind: "host" } });
  assertEquals(prefixFor(t, "worker-1"), "worker-1/_host_/20261122T100005Z/app");
});

Deno.test("keys of meta, counters slots and info.json", () => {
  assertEquals(metaKey("p/q", "ab01"), "p/q/covmeta.ab01");
  assertEquals(countersKey("p/q", "ab01", 7, 1), "p/q/covcounters.ab01.7.1");
  assertEquals(countersKey("p/q", "ab01", 7, 2), "p/q/covcounters.ab01.7.2");
  assertEquals(infoKey("p/q"), "p/q/info.json");
});

Deno.test("info.json keeps binary/host/port/pid and every extra identity header", () => {
  const t = makeTarget({
    identity: { binary: "app", pid: 1, extra: { source_commit: "abc", software_group: "g" } },
  });
  const doc = JSON.parse(infoJson(t, { hostname: "worker-1", nodeName: "node-a" }));
  assertEquals(doc.binary, "app");
  assertEquals(doc.host, "127.0.0.1");
  assertEquals(doc.port, 53700);
  assertEquals(doc.pid, 1);
  assertEquals(doc.source_commit, "abc");
  assertEquals(doc.software_group, "g");
  assertEquals(doc.podUid, "uid-1");
  assertEquals(doc.containerId, "c0ffee");
  assertEquals(doc.nodeName, "node-a");
  assertEquals(doc.hostname, "worker-1");
  assertEquals(doc.discoveredAt, "2026-11-22T10:00:05.123Z");
  assertEquals(typeof doc.collectorVersion, "string");
});

Deno.test("an extra header cannot replace the binary, host, port or pid keys", () => {
  const t = makeTarget({ identity: { binary: "app", pid: 1, extra: { binary: "x", port: "1" } } });
  const doc = JSON.parse(infoJson(t, { hostname: "h" }));
  assertEquals([doc.binary, doc.port], ["app", 53700]);
});
