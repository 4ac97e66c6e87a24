import assert from "node:assert/strict";
import fc from "fast-check";
import { assertNearLinear, fuzzRuns, mutatedBytes, mutatedJson, outcome } from "./fuzz.ts";

/** Work proportional to the length, or to its square. */
const linear = (s: string) => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
};
const quadratic = (s: string) => {
  let h = 0;
  for (let i = 0; i < s.length; i += 16) h = (h + linear(s.slice(i))) | 0;
  return h;
};

Deno.test("assertNearLinear passes linear work and fails quadratic work", async () => {
  const make = (n: number) => "x".repeat(n);
  await assertNearLinear("linear", make, linear, { n: 100_000 });
  await assert.rejects(
    assertNearLinear("quadratic", make, quadratic, { n: 4_000, tries: 1 }),
    /quadratic: 16× the input took [\d.]+× the time/,
  );
});

Deno.test("outcome passes typed errors and throws any other", () => {
  assert.equal(outcome(() => 1, RangeError), "value");
  assert.equal(
    outcome(() => {
      throw new RangeError("x");
    }, RangeError),
    "error",
  );
  assert.throws(() =>
    outcome(() => {
      throw new TypeError("crash");
    }, RangeError), TypeError);
});

Deno.test("mutations change the sample and stay deterministic under the fixed seed", () => {
  const sample = new TextEncoder().encode('{"a":[1,2,3],"b":"text"}');
  const one = fc.sample(mutatedBytes(sample), { seed: fuzzRuns().seed, numRuns: 50 });
  const two = fc.sample(mutatedBytes(sample), { seed: fuzzRuns().seed, numRuns: 50 });
  assert.deepEqual(one, two);
  assert.ok(one.filter((b) => b.join() !== sample.join()).length > 40);
  const json = fc.sample(mutatedJson('{"a":[1,2,3],"b":"text"}'), { seed: 1, numRuns: 50 });
  assert.ok(json.every((t) => typeof JSON.parse(t) !== "undefined"));
});
