import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import { CountersParseError, type FunctionCounters } from "./counters.ts";
import {
  countersBytesBound,
  CountersFitError,
  coveredUnits,
  coveredUnitsAsync,
  coversMoreUnits,
  statementsCovered,
  type UnitLayout,
  UNMETERED,
} from "./covered_units.ts";
import { decideStore, type StoredSnapshot } from "../collect/store_rule.ts";
import {
  encodeCounterFile,
  oneFunctionCounters,
  unitLayout as layoutOf,
} from "../../tests/harness/counterfile.ts";
import { kindOf } from "../../tests/harness/fuzz.ts";
import { coveredKeys } from "../../tests/harness/covered_keys.ts";

const HASH = "00112233445566778899aabbccddeeff";

/** Package 0: functions of 2 and 3 units; package 1: one function of 1 unit. */
const LAYOUT = layoutOf([[2, 3], [1]], HASH);
const file = (functions: FunctionCounters[]) => encodeCounterFile({ hash: HASH, functions });
const fitKind = (bytes: Uint8Array, layout = LAYOUT) =>
  kindOf(() => coveredUnits(bytes, layout), CountersFitError);
const periodic = (now: number, layout?: UnitLayout) => ({
  now,
  refreshMs: 60_000,
  final: false,
  layout,
});

Deno.test("counters that fit the meta-data become one bit per unit of it", () => {
  const c = coveredUnits(
    file([
      { pkgIdx: 0, funcIdx: 1, counters: [0, 7, 1] },
      { pkgIdx: 1, funcIdx: 0, counters: [3] },
      { pkgIdx: 0, funcIdx: 0, counters: [0] }, // fewer counters than units: fits
    ]),
    LAYOUT,
  );
  assertEquals([c.kind, c.count], ["meta", 3]);
  assertEquals(coveredKeys(c), ["0:1:1", "0:1:2", "1:0:0"]);
  // Units 3, 4 and 5 ran: 20 + 30 + 40 statements.
  assertEquals(statementsCovered(new Uint32Array([1, 10, 99, 20, 30, 40]), c as never), 90);
});

Deno.test("a function entry outside the meta-data is refused, naming what did not fit", () => {
  assertEquals(fitKind(file([{ pkgIdx: 2, funcIdx: 0, counters: [1] }])), "package-index");
  assertEquals(fitKind(file([{ pkgIdx: 1, funcIdx: 1, counters: [1] }])), "function-index");
  assertEquals(
    fitKind(file([{ pkgIdx: 0, funcIdx: 0, counters: [1, 1, 1] }])),
    "function-counters",
  );
  // Each entry fits, but together they hold more counters than the meta-data has units.
  const again = Array.from({ length: 3 }, () => ({ pkgIdx: 0, funcIdx: 1, counters: [1, 1, 1] }));
  assertEquals(fitKind(file(again)), "total-counters");
  // More entries than the meta-data has functions (repeats, each costing time).
  const empty = Array.from({ length: 4 }, () => ({ pkgIdx: 1, funcIdx: 0, counters: [] }));
  assertEquals(fitKind(file(empty)), "total-functions");
  throws(() => coveredUnits(file([{ pkgIdx: 1, funcIdx: 9, counters: [1] }]), LAYOUT), {
    name: "CountersFitError",
    message: "counter data does not fit its meta-data: function 9 of package 1; the meta-data " +
      "has 1 functions in it (at byte 72)",
  });
});

Deno.test("an entry claiming more counters than the file holds is refused (it does not fit)", () => {
  const lie = oneFunctionCounters(HASH, 0, 0, 0xffffffff, 1, 8);
  assertEquals(fitKind(lie), "function-counters");
  // Without meta-data the same entry is malformed, as before.
  assertEquals(kindOf(() => coveredUnits(lie), CountersParseError), "size");
  const short = oneFunctionCounters(HASH, 0, 0, 100, 1, 8);
  assertEquals(kindOf(() => coveredUnits(short), CountersParseError), "truncated");
});

Deno.test("20 M counters are refused at their entry: no RangeError, and the stored snapshot stays", () => {
  const good = file([{ pkgIdx: 0, funcIdx: 1, counters: [1, 0, 0] }]);
  const first = decideStore(good, undefined, periodic(0, LAYOUT));
  ok(first.store && first.covered);
  const last: StoredSnapshot = { bytes: good, covered: first.covered, at: 0 };
  const hostile = oneFunctionCounters(HASH, 0, 1, 20_000_000);
  for (const final of [false, true]) {
    const d = decideStore(hostile, last, { ...periodic(1, LAYOUT), final });
    assertEquals([d.store, d.why], [false, "refused"]);
    if (!d.store && d.why === "refused") assertEquals(d.refused.kind, "function-counters");
  }
  // Refused even as the first counters of a server.
  assertEquals(decideStore(hostile, undefined, periodic(0, LAYOUT)).why, "refused");
  // The snapshot still judges the next pull: same coverage, not stored; new coverage, stored.
  const same = file([{ pkgIdx: 0, funcIdx: 1, counters: [9, 0, 0] }]);
  assertEquals(decideStore(same, last, periodic(2, LAYOUT)).why, "no-new-coverage");
  const more = file([{ pkgIdx: 0, funcIdx: 1, counters: [9, 0, 1] }]);
  assertEquals(decideStore(more, last, periodic(2, LAYOUT)).why, "new-coverage");
});

Deno.test("without meta-data, counters past the bound are not judged: stored by bytes", () => {
  const big = oneFunctionCounters(HASH, 0, 1, UNMETERED.counters + 1);
  assertEquals(kindOf(() => coveredUnits(big), CountersParseError), "size");
  const d = decideStore(big, undefined, periodic(0));
  assertEquals(
    [d.store, d.store && d.covered, d.store && /too many to judge/.test(d.parseError!)],
    [
      true,
      null,
      true,
    ],
  );
  const small = oneFunctionCounters(HASH, 0, 1, UNMETERED.counters);
  assertEquals(coveredUnits(small).count, UNMETERED.counters);
});

Deno.test("without meta-data, repeated and unsorted entries are joined as a set of units", () => {
  const c = coveredUnits(file([
    { pkgIdx: 3, funcIdx: 0, counters: [0, 1] },
    { pkgIdx: 0, funcIdx: 5, counters: [1] },
    { pkgIdx: 3, funcIdx: 0, counters: [1, 0, 0, 4] },
  ]));
  assertEquals(coveredKeys(c), ["0:5:0", "3:0:0", "3:0:1", "3:0:3"]);
  const fewer = coveredUnits(file([{ pkgIdx: 3, funcIdx: 0, counters: [1, 1] }]));
  assertEquals([coversMoreUnits(c, fewer), coversMoreUnits(fewer, c)], [true, false]);
  // Judged with and without meta-data: not comparable (the rule stores).
  const meta = coveredUnits(file([{ pkgIdx: 0, funcIdx: 0, counters: [1] }]), LAYOUT);
  assertEquals(coversMoreUnits(meta, fewer), null);
});

Deno.test("judged in steps, a large body lets the event loop run and stops when aborted", async () => {
  const layout = layoutOf([[50_000]], HASH);
  const body = oneFunctionCounters(HASH, 0, 0, 50_000, 1);
  let pauses = 0;
  const pause = () => (pauses++, Promise.resolve());
  const c = await coveredUnitsAsync(body, layout, { budget: 1 << 12, pause });
  assertEquals([c.count, pauses], [50_000, 12]);
  const stop = new AbortController();
  const aborting = () => (stop.abort(new Error("stopped")), Promise.resolve());
  await rejects(
    coveredUnitsAsync(body, layout, { budget: 1 << 12, pause: aborting, signal: stop.signal }),
    {
      message: "stopped",
    },
  );
});

Deno.test("the bytes bound: what a Go program writes for the build fits it, one more unit does not", () => {
  // 3 functions, 6 units: header, args room, 15 bytes per function entry, 5 per unit, footer.
  assertEquals(countersBytesBound(LAYOUT), 32 + 16 + (2 << 20) + 3 + 3 * 15 + 6 * 5 + 16);
  const widest = encodeCounterFile({
    hash: HASH,
    flavor: 2,
    functions: [
      { pkgIdx: 0, funcIdx: 0, counters: [0xffffffff, 0xffffffff] },
      { pkgIdx: 0, funcIdx: 1, counters: [0xffffffff, 0xffffffff, 0xffffffff] },
      { pkgIdx: 1, funcIdx: 0, counters: [0xffffffff] },
    ],
  });
  ok(widest.length <= countersBytesBound(LAYOUT) - (2 << 20), `${widest.length} bytes`);
});
