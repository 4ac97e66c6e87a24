/**
 * Property tests: the coverage JSON decoder and the counter-file parser (pod input) give a value
 * or their typed error, never a crash, in time about linear in the input.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { CoverageError, decodeCoverage } from "./coverage.ts";
import { CountersParseError, parseCounters } from "../coverage/counters.ts";
import {
  assertNearLinear,
  fuzzRuns,
  mutatedBytes,
  mutatedJson,
  mutatedText,
  outcome,
} from "../../tests/harness/fuzz.ts";
import { encodeCounterFile } from "../../tests/harness/counterfile.ts";
import { sampleText } from "../../tests/testdata/samples.ts";

/** A real answer of the Go coverage fixture (meta-data and counters of a covered run). */
const REAL = sampleText("coverage-response.json");
const decodeBoth = (body: string | object) => {
  const full = outcome(() => decodeCoverage(body, { expectMeta: true }), CoverageError);
  const nometa = outcome(
    () => decodeCoverage(body, { expectMeta: false, metaHash: "575afdbef93516fcf22b800a2e508743" }),
    CoverageError,
  );
  return [full, nometa];
};

Deno.test("the real sample decodes (the mutations below start from a good answer)", () => {
  assert.deepEqual(decodeBoth(REAL)[0], "value");
});

Deno.test("fuzz: arbitrary text and JSON values give a value or a CoverageError", () => {
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => void decodeBoth(s)), fuzzRuns());
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => void decodeBoth(v as object)),
    fuzzRuns(),
  );
  fc.assert(
    fc.property(fc.jsonValue(), (v) => void decodeBoth(JSON.stringify(v))),
    fuzzRuns(),
  );
});

Deno.test("fuzz: the real answer with edited bytes or a replaced field never crashes the decoder", () => {
  fc.assert(fc.property(mutatedText(REAL), (s) => void decodeBoth(s)), fuzzRuns(500));
  fc.assert(fc.property(mutatedJson(REAL), (s) => void decodeBoth(s)), fuzzRuns(500));
});

Deno.test("fuzz: edited real counter files give parsed counters or a CountersParseError", () => {
  const real = decodeCoverage(REAL, { expectMeta: true }).counters.bytes;
  assert.equal(outcome(() => parseCounters(real), CountersParseError), "value");
  fc.assert(
    fc.property(
      mutatedBytes(real),
      (b) => void outcome(() => parseCounters(b), CountersParseError),
    ),
    fuzzRuns(1000),
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      (b) => void outcome(() => parseCounters(b), CountersParseError),
    ),
    fuzzRuns(),
  );
});

Deno.test("decoding time grows about linearly with the body", async () => {
  const parsed = JSON.parse(REAL) as Record<string, string>;
  // A body whose counters field is huge (the decoder must reject or decode it in one pass).
  await assertNearLinear(
    "decodeCoverage, big counters_data",
    (n) => JSON.stringify({ ...parsed, counters_data: "A".repeat(n * 4) }),
    (s) => decodeCoverage(s, { expectMeta: true }),
    { n: 50_000 },
  );
  await assertNearLinear(
    "decodeCoverage, deep nesting",
    (n) => "[".repeat(n) + "]".repeat(n),
    (s) => decodeCoverage(s, { expectMeta: true }),
    { n: 20_000 },
  );
});

Deno.test("counter parsing time grows about linearly with the file", async () => {
  const file = (n: number) =>
    encodeCounterFile({
      hash: "575afdbef93516fcf22b800a2e508743",
      functions: Array.from(
        { length: n },
        (_, i) => ({ pkgIdx: 0, funcIdx: i, counters: [1, 0, 7] }),
      ),
    });
  assert.equal(parseCounters(file(3)).functions.length, 3);
  await assertNearLinear("parseCounters", file, (b) => parseCounters(b), { n: 20_000 });
});
