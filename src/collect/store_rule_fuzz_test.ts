/** The store rule on bitsets decides exactly as the string-set rule it replaced did. */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import {
  coveredSet,
  coversMore,
  type FunctionCounters,
  parseCounters,
} from "../coverage/counters.ts";
import { coveredKeys } from "../../tests/harness/covered_keys.ts";
import { decideStore, decideStoreAsync, type StoredSnapshot } from "./store_rule.ts";
import { encodeCounterFile, unitLayout } from "../../tests/harness/counterfile.ts";
import { fuzzRuns } from "../../tests/harness/fuzz.ts";

const HASH = "00112233445566778899aabbccddeeff";
const REFRESH = 1000;
/** 3 packages of 3 functions of 3 units: every generated file fits. */
const LAYOUT = unitLayout([[3, 3, 3], [3, 3, 3], [3, 3, 3]]);

/** The rule before bitsets (the oracle): a string set per file, Set difference. */
function oldRule(now: Uint8Array, last: Uint8Array, lastAt: number, at: number, final: boolean) {
  if (now.length === last.length && now.every((b, i) => b === last[i])) return "identical";
  if (final) return "final";
  if (coversMore(coveredSet(parseCounters(now)), coveredSet(parseCounters(last)))) {
    return "new-coverage";
  }
  return at - lastAt >= REFRESH ? "refresh" : "no-new-coverage";
}

const entry: fc.Arbitrary<FunctionCounters> = fc.record({
  pkgIdx: fc.nat(2),
  funcIdx: fc.nat(2),
  counters: fc.array(fc.constantFrom(0, 0, 1, 7), { maxLength: 3 }),
});
/** Up to 6 entries, repeats and any order included (at most 18 counters: within the layout). */
const counterFile = fc.array(entry, { maxLength: 6 }).map((functions) =>
  encodeCounterFile({ hash: HASH, functions })
);

Deno.test("bitset store rule = string-set rule: same decision, same covered units (with and without meta-data)", async () => {
  await fc.assert(
    fc.asyncProperty(
      counterFile,
      counterFile,
      fc.nat(3 * REFRESH),
      fc.boolean(),
      fc.boolean(),
      async (last, now, elapsed, final, same) => {
        if (same) now = last.slice();
        const want = oldRule(now, last, 0, elapsed, final);
        for (const layout of [undefined, LAYOUT]) {
          const first = decideStore(last, undefined, { now: 0, refreshMs: REFRESH, final, layout });
          if (!first.store || !first.covered) throw new Error("first counters not judged");
          assertEquals(coveredKeys(first.covered), [...coveredSet(parseCounters(last))].sort());
          const snap: StoredSnapshot = { bytes: last, covered: first.covered, at: 0 };
          const d = decideStore(now, snap, { now: elapsed, refreshMs: REFRESH, final, layout });
          assertEquals(d.why, want, layout ? "with meta-data" : "without meta-data");
          // Judged in steps of 3 entries and counters: the same decision.
          const steps = await decideStoreAsync(now, snap, {
            now: elapsed,
            refreshMs: REFRESH,
            final,
            layout,
            budget: 3,
            pause: () => Promise.resolve(),
          });
          assertEquals(steps, d);
        }
      },
    ),
    fuzzRuns(500),
  );
});
