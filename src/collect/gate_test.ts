import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { PullGate, type PullPriority } from "./gate.ts";

const as = (owner: string, priority: PullPriority = "periodic") => ({
  owner,
  priority: () => priority,
});

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("no more than maxPulls slots at once; the next waits for a release, first come first served", async () => {
  const gate = new PullGate(2, 1000);
  const a = await gate.slot(undefined, as("x", "final"));
  const b = await gate.slot(undefined, as("x", "final"));
  const order: string[] = [];
  const c = gate.slot(undefined, as("x", "final")).then((s) => (order.push("c"), s));
  const d = gate.slot(undefined, as("x", "final")).then((s) => (order.push("d"), s));
  await settle();
  assertEquals([gate.inFlight, order], [2, []]);
  a.release();
  a.release(); // twice is harmless
  const sc = await c;
  assertEquals([gate.inFlight, order], [2, ["c"]]);
  b.release();
  const sd = await d;
  assertEquals(order, ["c", "d"]);
  sc.release();
  sd.release();
  assertEquals(gate.inFlight, 0);
});

Deno.test("periodic pulls leave the final reserve free: a final pull gets a slot at once while periodic ones wait", async () => {
  const gate = new PullGate(8, 1 << 20);
  assertEquals(gate.finalReserve, 2);
  const periodic = await Promise.all(
    Array.from({ length: 6 }, (_, i) => gate.slot(undefined, as(`p${i}`))),
  );
  let seventhIn = false;
  const seventh = gate.slot(undefined, as("p6")).then((s) => (seventhIn = true, s));
  const final = await gate.slot(undefined, as("dying-pod", "final"));
  await settle();
  assertEquals([seventhIn, gate.inFlight, gate.inUse("final")], [false, 7, 1]);
  // A final pull waiting for a slot goes before a periodic one that waited longer.
  const final2 = await gate.slot(undefined, as("dying-pod-2", "final"));
  let thirdFinalIn = false;
  const thirdFinal = gate.slot(undefined, as("dying-pod-3", "final")).then((
    s,
  ) => (thirdFinalIn = true, s));
  await settle();
  assertEquals([seventhIn, thirdFinalIn], [false, false]);
  periodic[0].release();
  await thirdFinal;
  assertEquals([seventhIn, thirdFinalIn], [false, true]);
  periodic[1].release();
  await seventh;
  [...periodic, final, final2, await thirdFinal, await seventh].forEach((s) => s.release());
  assertEquals(gate.inFlight, 0);
});

Deno.test("suspect pulls (slow last time) hold at most half the periodic slots; a healthy server is served beside them", async () => {
  const gate = new PullGate(8, 1 << 20);
  assertEquals(gate.suspectMax, 3);
  const slow = Array.from(
    { length: 10 },
    (_, i) => gate.slot(undefined, as(`slow${i}`, "suspect")),
  );
  await settle();
  assertEquals(gate.inUse("suspect"), 3);
  // Seven suspect pulls still wait, yet a healthy server that came later gets a slot at once.
  const healthy = await gate.slot(undefined, as("healthy"));
  assertEquals([gate.inUse("periodic"), gate.inUse("suspect")], [1, 3]);
  healthy.release();
  const held = await Promise.all(slow.slice(0, 3));
  held[0].release(); // the next suspect one takes its place, no more
  await slow[3];
  assertEquals(gate.inUse("suspect"), 3);
  // Nothing left pending: abandon the rest by releasing what each gets.
  for (const s of [...held.slice(1), await slow[3]]) s.release();
  for (const p of slow.slice(4)) (await p).release();
  assertEquals(gate.inFlight, 0);
});

Deno.test("among waiters of one priority an owner holding fewer slots goes first", async () => {
  const gate = new PullGate(4, 1 << 20); // 3 periodic slots
  const big = [
    await gate.slot(undefined, as("big-pod")),
    await gate.slot(undefined, as("big-pod")),
  ];
  const other = await gate.slot(undefined, as("small-pod"));
  const order: string[] = [];
  const bigNext = gate.slot(undefined, as("big-pod")).then((s) => (order.push("big-pod"), s));
  const smallNext = gate.slot(undefined, as("small-pod")).then((s) => (order.push("small-pod"), s));
  const newNext = gate.slot(undefined, as("new-pod")).then((s) => (order.push("new-pod"), s));
  await settle();
  big[0].release(); // big-pod waited longest but still holds 1, small-pod 1, new-pod none
  await newNext;
  other.release();
  await smallNext; // small-pod holds 0 now, big-pod 1
  big[1].release();
  await bigNext;
  assertEquals(order, ["new-pod", "small-pod", "big-pod"]);
  for (const p of [bigNext, smallNext, newNext]) (await p).release();
  assertEquals(gate.inFlight, 0);
});

Deno.test("a waiting pull whose priority turns final is served ahead of periodic ones once poked", async () => {
  const gate = new PullGate(4, 1 << 20); // 1 final reserve
  const held = await Promise.all([0, 1, 2].map((i) => gate.slot(undefined, as(`p${i}`))));
  let urgent = false;
  let served = false;
  const waiting = gate.slot(undefined, {
    owner: "deleted-pod",
    priority: () => urgent ? "final" : "periodic",
  }).then((s) => (served = true, s));
  await settle();
  assertEquals(served, false);
  urgent = true; // the pod is being deleted
  gate.poke();
  (await waiting).release();
  held.forEach((s) => s.release());
});

Deno.test("an announced length is believed only up to the per-pull share; the rest is taken as it arrives", async () => {
  const gate = new PullGate(4, 400); // 100 bytes per pull up front
  const liar = await gate.slot(undefined, as("liar"));
  await liar.reserve(60 << 20); // announces 60 MB
  assertEquals([liar.held, gate.bytes], [100, 100]);
  const b = await gate.slot(undefined, as("b"));
  await b.reserve(100); // not kept waiting by the lie
  assertEquals(gate.bytes, 200);
  liar.release();
  b.release();
  assertEquals(gate.bytes, 0);
});

Deno.test("an oversized body does not get the gate to itself: it grows as it arrives, and others read on", async () => {
  const gate = new PullGate(4, 400);
  const big = await gate.slot(undefined, as("big"));
  await big.reserve(100);
  const small = await gate.slot(undefined, as("small"));
  await small.reserve(100);
  // The oldest holder grows past the budget and still reads on (no deadlock) ...
  big.grow(500);
  await big.room();
  assertEquals([big.held, gate.bytes, gate.peakBytes], [600, 700, 700]);
  // ... while a younger one that grows waits before reading more, until the budget has room.
  small.grow(50);
  let smallOn = false;
  const smallRoom = small.room().then(() => (smallOn = true));
  await settle();
  assertEquals(smallOn, false);
  big.release();
  await smallRoom;
  assertEquals([smallOn, gate.bytes], [true, 150]);
  small.release();
  assertEquals(gate.bytes, 0);
});

Deno.test("a waiter whose signal aborts leaves the queue and the next is served", async () => {
  const gate = new PullGate(1, 100);
  const a = await gate.slot();
  const stop = new AbortController();
  const gone = gate.slot(stop.signal);
  const next = gate.slot();
  stop.abort(new Error("stopped"));
  await assertRejects(gone, /stopped/);
  a.release();
  (await next).release();
  assertEquals(gate.inFlight, 0);
});

Deno.test("a slot holder asking for bytes is not queued behind pulls waiting for a slot", async () => {
  const gate = new PullGate(1, 100);
  const b = await gate.slot();
  let thirdIn = false;
  const third = gate.slot().then((s) => (thirdIn = true, s));
  // every slot is taken and a pull waits for one: b's bytes are free, so b must not wait for it
  // (it would wait for b itself to finish)
  await b.reserve(10);
  assertEquals([thirdIn, gate.bytes], [false, 10]);
  b.release();
  (await third).release();
  assertEquals([gate.inFlight, gate.bytes], [0, 0]);
});

Deno.test("final pulls of healthy servers go before final pulls of suspect ones, which stay within suspectMax", async () => {
  const gate = new PullGate(8, 1 << 20);
  const slowFinals = Array.from(
    { length: 6 },
    (_, i) => gate.slot(undefined, as(`slow${i}`, "final-suspect")),
  );
  await settle();
  assertEquals(gate.inUse("final-suspect"), 3); // suspectMax, final or not
  const healthy = await gate.slot(undefined, as("healthy", "final")); // served beside them
  const held = await Promise.all(slowFinals.slice(0, 3));
  const order: string[] = [];
  const later = [
    gate.slot(undefined, as("later-slow", "final-suspect")).then((s) => (order.push("slow"), s)),
    gate.slot(undefined, as("later-healthy", "final")).then((s) => (order.push("healthy"), s)),
  ];
  await settle();
  assertEquals(order, ["healthy"]); // a free slot, and the suspect class is full
  held[0].release(); // the suspect place goes to the suspect final that waited longest
  await slowFinals[3];
  assertEquals([order, gate.inUse("final-suspect")], [["healthy"], 3]);
  for (const p of [...slowFinals, ...later]) (await p).release();
  healthy.release();
  assertEquals(gate.inFlight, 0);
});
