/** Counters of any shape cost a typed error at worst, and time linear in their size. */

import fc from "fast-check";
import { CountersParseError, type FunctionCounters } from "./counters.ts";
import { CountersFitError, coveredUnits } from "./covered_units.ts";
import { encodeCounterFile, unitLayout } from "../../tests/harness/counterfile.ts";
import { assertNearLinear, fuzzRuns, mutatedBytes, outcome } from "../../tests/harness/fuzz.ts";

const HASH = "00112233445566778899aabbccddeeff";
const LAYOUT = unitLayout([[2, 3, 1], [4]], HASH);
const SAMPLE = encodeCounterFile({
  hash: HASH,
  functions: [
    { pkgIdx: 0, funcIdx: 1, counters: [1, 0, 300] },
    { pkgIdx: 1, funcIdx: 0, counters: [0, 5, 0, 1] },
    { pkgIdx: 0, funcIdx: 0, counters: [7, 7] },
  ],
});

Deno.test("mutated counters: judged, refused or malformed, never a crash (with and without meta-data)", () => {
  fc.assert(
    fc.property(mutatedBytes(SAMPLE), (b) => {
      outcome(() => coveredUnits(b, LAYOUT), CountersFitError, CountersParseError);
      outcome(() => coveredUnits(b), CountersParseError);
    }),
    fuzzRuns(2000),
  );
});

Deno.test("repeats of one function of every length cost time linear in the counters", async () => {
  // Entry i of function 0 has i % 64 counters, and one long entry: joining the repeats must not
  // cost entries x units.
  const make = (n: number) => {
    const functions: FunctionCounters[] = [{ pkgIdx: 1, funcIdx: 0, counters: [1] }];
    let total = 0;
    for (let i = 0; total < n; i++) {
      const len = i % 64;
      functions.push({ pkgIdx: 0, funcIdx: 0, counters: Array(len).fill(1) });
      total += len;
    }
    functions.push({ pkgIdx: 0, funcIdx: 0, counters: Array(n).fill(1) });
    return encodeCounterFile({ hash: HASH, functions });
  };
  await assertNearLinear("unsorted repeats", make, (b) => coveredUnits(b), { n: 20_000 });
});
