import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { PullGate } from "./gate.ts";

Deno.test("no more than maxPulls slots at once; the next waits for a release, first come first served", async () => {
  const gate = new PullGate(2, 1000);
  const a = await gate.slot();
  const b = await gate.slot();
  const order: string[] = [];
  const c = gate.slot().then((s) => (order.push("c"), s));
  const d = gate.slot().then((s) => (order.push("d"), s));
  await Promise.resolve();
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

Deno.test("reserved bytes stay inside the budget; a body larger than the budget runs alone", async () => {
  const gate = new PullGate(10, 100);
  const a = await gate.slot();
  await a.reserve(60);
  const b = await gate.slot();
  let bIn = false;
  const bReserved = b.reserve(60).then(() => (bIn = true));
  const big = await gate.slot(); // a slot is free: waiting for bytes does not hold slots back
  let bigIn = false;
  const bigReserved = big.reserve(500).then(() => (bigIn = true));
  await Promise.resolve();
  assertEquals([bIn, bigIn, gate.bytes], [false, false, 60]);
  a.release();
  await bReserved;
  assertEquals([bIn, bigIn, gate.bytes], [true, false, 60]);
  b.release();
  await bigReserved;
  assertEquals([bigIn, gate.bytes, gate.peakBytes], [true, 500, 500]);
  big.grow(10);
  assertEquals(big.held, 510);
  big.release();
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
  const gate = new PullGate(2, 100);
  const a = await gate.slot();
  const b = await gate.slot();
  let thirdIn = false;
  const third = gate.slot().then((s) => (thirdIn = true, s));
  // every slot is taken and a pull waits for one: b's bytes are free, so b must not wait for it
  // (it would wait for b itself to finish)
  await b.reserve(10);
  assertEquals([thirdIn, gate.bytes], [false, 10]);
  b.release();
  (await third).release();
  a.release();
  assertEquals([gate.inFlight, gate.bytes], [0, 0]);
});
