import assert from "node:assert/strict";
import { evictionVictims, type SpoolPolicy, SpoolTally } from "./spool_eviction.ts";
import { storeOwnerOf, writtenOnce } from "../layout.ts";

const policy: SpoolPolicy = { writtenOnce, ownerOf: storeOwnerOf };
const A = "n/ns/a/c/20261122T100005Z/img/app";
const A2 = "n/ns/a/d/20261122T100005Z/img/app"; // another container of pod a
const B = "n/ns/b/c/20261122T100005Z/img/app";
const e = (key: string, bytes: number) => ({ key, bytes });
const keys = (v: { key: string }[]) => v.map((x) => x.key);

Deno.test("storeOwnerOf: pod of a container key, binary of a host key, the prefix as server", () => {
  assert.deepEqual(storeOwnerOf(`${A}/covcounters.ab.1.1`), { pod: "n/ns/a", server: A });
  assert.deepEqual(storeOwnerOf("n/_host_/20261122T100005Z/kubelet/info.json"), {
    pod: "n/_host_/kubelet",
    server: "n/_host_/20261122T100005Z/kubelet",
  });
  assert.deepEqual(storeOwnerOf("x/y"), { pod: "x", server: "x" });
});

Deno.test("a full spool takes from the pod spooling the most counters, not the oldest object", () => {
  const entries = [
    e(`${B}/covmeta.ab`, 10),
    e(`${B}/covcounters.ab.1.1`, 10), // b's final counters: the oldest counters of all
    e(`${A}/covmeta.ab`, 10),
    e(`${A}/covcounters.ab.70000.1`, 10),
    e(`${A}/covcounters.ab.70001.2`, 10),
    e(`${A}/covcounters.ab.70002.1`, 10),
  ];
  const v = evictionVictims(entries, { maxBytes: 40 }, policy, `${A}/covcounters.ab.70002.1`);
  assert.deepEqual(keys(v), [`${A}/covcounters.ab.70000.1`, `${A}/covcounters.ab.70001.2`]);
});

Deno.test("past everyone's counters, meta-data goes from the biggest pod first", () => {
  const entries = [
    e(`${B}/covmeta.ab`, 10),
    e(`${B}/covcounters.ab.1.1`, 10),
    e(`${A}/covmeta.ab`, 30),
    e(`${A}/info.json`, 5),
  ];
  const v = evictionVictims(entries, { maxBytes: 30 }, policy, `${B}/covcounters.ab.1.1`);
  assert.deepEqual(keys(v), [`${A}/covmeta.ab`]);
});

Deno.test("one pod is held to its bytes, from its biggest server, the others untouched", () => {
  const entries = [
    e(`${A}/covmeta.ab`, 10),
    e(`${A}/covcounters.ab.1.1`, 10),
    e(`${A2}/covcounters.ab.1.1`, 20),
    e(`${A2}/covcounters.ab.1.2`, 20),
    e(`${B}/covcounters.ab.1.1`, 30),
  ];
  const v = evictionVictims(entries, { maxBytes: 1000, podMaxBytes: 30 }, policy);
  assert.deepEqual(keys(v), [`${A2}/covcounters.ab.1.1`, `${A2}/covcounters.ab.1.2`]);
});

Deno.test("objects are bounded per server and per pod, counters before meta-data", () => {
  const flood = Array.from({ length: 6 }, (_, i) => e(`${A}/covcounters.ab.${i}.1`, 1));
  const entries = [e(`${A}/covmeta.ab`, 1), ...flood, e(`${B}/covcounters.ab.1.1`, 1)];
  const v = evictionVictims(entries, { maxBytes: 1000, serverMaxObjects: 4 }, policy);
  assert.deepEqual(keys(v), keys(flood.slice(0, 3)));
  const pods = evictionVictims(
    [...entries, e(`${A2}/covmeta.ab`, 1)],
    { maxBytes: 1000, podMaxObjects: 3 },
    policy,
  );
  // Pod a holds 8 objects: 5 of its counters go, not its meta-data nor b's counters.
  assert.deepEqual(keys(pods), keys(flood.slice(0, 5)));
});

Deno.test("the object being spooled is never a victim, even over its pod's bound", () => {
  const v = evictionVictims(
    [e(`${A}/covcounters.ab.1.1`, 60)],
    { maxBytes: 100, podMaxBytes: 50 },
    policy,
    `${A}/covcounters.ab.1.1`,
  );
  assert.deepEqual(v, []);
});

Deno.test("with one owner (the default policy) eviction is oldest counters first, as before", () => {
  const one: SpoolPolicy = { writtenOnce, ownerOf: () => ({ pod: "", server: "" }) };
  const entries = [
    e("p/covmeta.ab", 40),
    e("p/covcounters.ab.1.1", 30),
    e("q/covcounters.cd.2.1", 30),
  ];
  assert.deepEqual(keys(evictionVictims(entries, { maxBytes: 90 }, one)), ["p/covcounters.ab.1.1"]);
});

Deno.test("the tally follows rewrites and removals: a newer copy replaces the older", () => {
  const t = new SpoolTally<{ key: string; bytes: number }>(policy);
  t.add(e(`${A}/covcounters.ab.1.1`, 30));
  t.add(e(`${B}/covcounters.ab.1.1`, 20));
  t.add(e(`${A}/covcounters.ab.1.1`, 10)); // rewritten: now a's copy is the newest and smaller
  assert.equal(t.bytes, 30);
  assert.deepEqual(keys(t.victims({ maxBytes: 25 })), [`${B}/covcounters.ab.1.1`]);
  t.remove(`${A}/covcounters.ab.1.1`);
  t.remove(`${A}/covcounters.ab.1.1`); // twice: no-op
  assert.equal(t.bytes, 0);
  assert.deepEqual(t.victims({ maxBytes: 0 }), []);
});
