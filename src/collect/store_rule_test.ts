import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { FunctionCounters } from "../coverage/counters.ts";
import { coveredKeys } from "../../tests/harness/covered_keys.ts";
import { decideStore, type StoredSnapshot } from "./store_rule.ts";
import { encodeCounterFile } from "../../tests/harness/counterfile.ts";
import { makeCounters } from "../../tests/harness/covfiles.ts";

const HASH = "00112233445566778899aabbccddeeff";
const REFRESH = 300_000;

/** App function (pkg 0) and the server's own handler (pkg 1). */
function file(app: number[], server: number): Uint8Array {
  const functions: FunctionCounters[] = [
    { pkgIdx: 0, funcIdx: 0, counters: app },
    { pkgIdx: 1, funcIdx: 2, counters: [server, 0] },
  ];
  return encodeCounterFile({ hash: HASH, functions });
}

/** The snapshot a store of `bytes` at `at` leaves. */
function stored(bytes: Uint8Array, at = 0): StoredSnapshot {
  const d = decideStore(bytes, undefined, { now: at, refreshMs: REFRESH, final: false });
  if (!d.store) throw new Error("first counters not stored");
  return { bytes, covered: d.covered, at };
}

const periodic = (now: number) => ({ now, refreshMs: REFRESH, final: false });

Deno.test("first counters are stored, identical bytes never again (not even on a final pull)", () => {
  const a = file([1, 0], 1);
  assertEquals(decideStore(a, undefined, periodic(0)).why, "first");
  assertEquals(decideStore(a.slice(), stored(a), periodic(10 * REFRESH)).why, "identical");
  assertEquals(
    decideStore(a.slice(), stored(a), { now: 1, refreshMs: REFRESH, final: true }).why,
    "identical",
  );
});

Deno.test("only the server's own counters grew: skipped until the refresh interval", () => {
  const last = stored(file([1, 0], 1), 1000);
  const now = file([1, 0], 7);
  assertEquals(decideStore(now, last, periodic(1000 + REFRESH - 1)), {
    store: false,
    why: "no-new-coverage",
  });
  // Higher counts of blocks already covered are not new coverage either.
  assertEquals(decideStore(file([5, 0], 9), last, periodic(2000)).why, "no-new-coverage");
  assertEquals(decideStore(now, last, periodic(1000 + REFRESH)).why, "refresh");
});

Deno.test("a block covered for the first time is stored at once", () => {
  const last = stored(file([1, 0], 1));
  const d = decideStore(file([1, 1], 2), last, periodic(1));
  assertEquals([d.store, d.why], [true, "new-coverage"]);
  if (d.store) assertEquals(coveredKeys(d.covered!), ["0:0:0", "0:0:1", "1:2:0"]);
  // A function absent before (pkg 3) counts as new too.
  const extra = encodeCounterFile({
    hash: HASH,
    functions: [{ pkgIdx: 3, funcIdx: 0, counters: [1] }],
  });
  assertEquals(decideStore(extra, last, periodic(1)).why, "new-coverage");
});

Deno.test("a final pull stores changed counters even without new coverage", () => {
  const last = stored(file([1, 0], 1));
  const d = decideStore(file([1, 0], 2), last, { now: 1, refreshMs: REFRESH, final: true });
  assertEquals([d.store, d.why], [true, "final"]);
});

Deno.test("unparsable counters fall back to byte comparison, with the parse error", () => {
  const bad = makeCounters(HASH, 1);
  const first = decideStore(bad, undefined, periodic(0));
  assertEquals([first.store, first.store && first.covered], [true, null]);
  assertEquals(first.store && /counter data: .*at byte/.test(first.parseError ?? ""), true);
  const last: StoredSnapshot = { bytes: bad, covered: null, at: 0 };
  assertEquals(decideStore(makeCounters(HASH, 2), last, periodic(1)).why, "unparsed");
  assertEquals(decideStore(bad.slice(), last, periodic(1)).why, "identical");
  // Parsable now, but the last stored was not: stored (nothing to compare the coverage with).
  assertEquals(decideStore(file([1, 0], 1), last, periodic(1)).why, "unparsed");
  // Parsable before, not now: stored.
  assertEquals(decideStore(bad, stored(file([1, 0], 1)), periodic(1)).why, "unparsed");
});
