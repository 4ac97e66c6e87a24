import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { keySegments } from "./sink/key.ts";
import {
  countersKey,
  discoveryTime,
  infoJson,
  infoKey,
  MAX_SEGMENT_BYTES,
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

Deno.test("sanitizeSegment never throws: dot names, control characters, NUL, backslash", () => {
  assertEquals(sanitizeSegment("."), "_.");
  assertEquals(sanitizeSegment(".."), "_..");
  assertEquals(sanitizeSegment("-.."), "_..");
  assertEquals(sanitizeSegment("..."), "...");
  assertEquals(sanitizeSegment("a\nb"), "a_b");
  assertEquals(sanitizeSegment("a\x7fb"), "a_b");
  assertEquals(sanitizeSegment("a\0b\x01"), "a_b_");
  assertEquals(sanitizeSegment("a\\b"), "a-b");
  for (const s of [".", "..", "\0", "\\", "a\\..", "\n"]) keySegments(sanitizeSegment(s));
});

Deno.test("sanitizeSegment cuts past 128 bytes (UTF-8) and keeps long names apart by a hash", () => {
  const a = sanitizeSegment("x".repeat(2048) + "a");
  const b = sanitizeSegment("x".repeat(2048) + "b");
  assertEquals(new TextEncoder().encode(a).length, MAX_SEGMENT_BYTES);
  assertEquals(a.slice(0, 111), "x".repeat(111));
  assertEquals(/^x{111}-[0-9a-f]{16}$/.test(a), true, a);
  assertEquals(a === b, false);
  assertEquals(sanitizeSegment("x".repeat(2048) + "a"), a, "stable");
  // multi-byte characters are never split
  const u = sanitizeSegment("é".repeat(200));
  assertEquals(new TextEncoder().encode(u).length <= MAX_SEGMENT_BYTES, true);
  assertEquals(/^(é)+-[0-9a-f]{16}$/.test(u), true, u);
  assertEquals(sanitizeSegment("y".repeat(128)), "y".repeat(128), "128 bytes is not cut");
});

Deno.test("no key of a hostile target passes S3's 1024-byte limit", () => {
  const long = "z".repeat(4000);
  const t = makeTarget({
    identity: { binary: long, pid: 4294967295, extra: {} },
    container: { namespace: long, podName: long, name: long, imageRef: long },
  });
  const prefix = prefixFor(t, long);
  const key = countersKey(prefix, "0123456789abcdef0123456789abcdef", 4294967295, 2);
  assertEquals(new TextEncoder().encode(key).length <= 1024, true, `${key.length}`);
  assertEquals(keySegments(key).length, 8);
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

Deno.test("info.json names the pod's controller and workload when the pod watch knew them", () => {
  const t = makeTarget({ identity: { binary: "app", pid: 1, extra: {} } });
  const doc = JSON.parse(infoJson(t, {
    hostname: "h",
    workload: {
      controller: { kind: "ReplicaSet", name: "web-7d4b9" },
      kind: "Deployment",
      name: "web",
    },
  }));
  assertEquals(
    [doc.controllerKind, doc.controllerName, doc.workloadKind, doc.workloadName],
    ["ReplicaSet", "web-7d4b9", "Deployment", "web"],
  );
  assertEquals(doc.owner, "container", "the existing owner key keeps its meaning");
  const bare = JSON.parse(infoJson(t, { hostname: "h" }));
  for (const k of ["controllerKind", "controllerName", "workloadKind", "workloadName"]) {
    assertEquals(k in bare, false, `${k} absent when the watch did not know the pod`);
  }
});

Deno.test("info.json takes source_url/source_commit from image labels only where headers lack them", () => {
  const imageSource = { url: "https://git.example/img", commit: "1111" };
  const none = makeTarget({ identity: { binary: "app", pid: 1, extra: {} } });
  const a = JSON.parse(infoJson(none, { hostname: "h", imageSource }));
  assertEquals([a.source_url, a.source_commit, a.sourceFrom], [
    "https://git.example/img",
    "1111",
    "image-labels",
  ]);
  const some = makeTarget({
    identity: { binary: "app", pid: 1, extra: { source_commit: "2222" } },
  });
  const b = JSON.parse(infoJson(some, { hostname: "h", imageSource }));
  assertEquals([b.source_url, b.source_commit, b.sourceFrom], [
    "https://git.example/img",
    "2222",
    "headers+image-labels",
  ]);
  const all = makeTarget({
    identity: { binary: "app", pid: 1, extra: { source_url: "u", source_commit: "c" } },
  });
  const c = JSON.parse(infoJson(all, { hostname: "h", imageSource }));
  assertEquals([c.source_url, c.source_commit, c.sourceFrom], ["u", "c", "headers"]);
  const d = JSON.parse(infoJson(none, { hostname: "h" }));
  assertEquals("sourceFrom" in d || "source_url" in d, false);
});
