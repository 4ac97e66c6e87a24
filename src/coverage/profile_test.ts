import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import fc from "fast-check";
import { parseCounters } from "./counters.ts";
import { encodeCounters } from "./encode_counters.ts";
import type { ParsedMeta } from "./meta.ts";
import { addCounters, emptyProfile, latestOf, ProfileError } from "./profile.ts";
import { percentText, UnitTable } from "./summary.ts";

const u = (stLine: number, stmts: number) => ({
  stLine,
  stCol: 1,
  enLine: stLine,
  enCol: 9,
  stmts,
});
const META: ParsedMeta = {
  hash: "ffeeddccbbaa99887766554433221100",
  mode: "count",
  granularity: 1,
  packages: [{
    path: "x/p",
    name: "p",
    modulePath: "x",
    functions: [
      { name: "F", file: "x/p/a.go", literal: false, units: [u(3, 2), u(5, 1), u(20, 4)] },
      // A closure inside F: listed between F's units, so F appears twice in `func` order.
      { name: "F.func1", file: "x/p/a.go", literal: true, units: [u(10, 3)] },
      { name: "G", file: "x/p/a.go", literal: false, units: [u(30, 5)] },
    ],
  }],
};

const ctr = (functions: { pkgIdx: number; funcIdx: number; counters: number[] }[]) => ({
  flavor: 2 as const,
  segments: 1,
  functions,
});

Deno.test("count mode adds up (saturating); set mode keeps 1; bad counters are refused", () => {
  const p = emptyProfile(META, new Uint8Array());
  addCounters(p, ctr([{ pkgIdx: 0, funcIdx: 0, counters: [1, 0, 0xfffffff0] }]));
  addCounters(p, ctr([{ pkgIdx: 0, funcIdx: 0, counters: [2, 0, 0x20] }]));
  assertEquals([...p.funcs[0][0]!], [3, 0, 0xffffffff]);
  const s = emptyProfile({ ...META, mode: "set" }, new Uint8Array());
  addCounters(s, ctr([{ pkgIdx: 0, funcIdx: 2, counters: [7] }]));
  addCounters(s, ctr([{ pkgIdx: 0, funcIdx: 2, counters: [9] }]));
  assertEquals([...s.funcs[0][2]!], [1]);
  throws(() => addCounters(p, ctr([{ pkgIdx: 0, funcIdx: 9, counters: [1] }])), ProfileError);
  throws(() => addCounters(p, ctr([{ pkgIdx: 0, funcIdx: 2, counters: [1, 2] }])), ProfileError);
  assertEquals(p.inputs, 2);
});

Deno.test("latestOf takes each counter's largest value across a process's slots", () => {
  const a = ctr([{ pkgIdx: 0, funcIdx: 0, counters: [5, 0, 1] }]);
  const b = ctr([{ pkgIdx: 0, funcIdx: 0, counters: [4, 2, 1] }, {
    pkgIdx: 0,
    funcIdx: 2,
    counters: [1],
  }]);
  assertEquals(latestOf([a, b]).functions, [
    { pkgIdx: 0, funcIdx: 0, counters: [5, 2, 1] },
    { pkgIdx: 0, funcIdx: 2, counters: [1] },
  ]);
});

Deno.test("function figures split where a closure sits, as go tool covdata func lists them", () => {
  const p = emptyProfile(META, new Uint8Array());
  addCounters(
    p,
    ctr([{ pkgIdx: 0, funcIdx: 0, counters: [1, 0, 1] }, {
      pkgIdx: 0,
      funcIdx: 1,
      counters: [1],
    }]),
  );
  const t = new UnitTable("count");
  t.addProfile(p);
  const [pkg] = t.packages();
  assertEquals(
    pkg.functions.map((f) => [f.name, f.line, f.covered, f.statements]),
    [["F", 3, 2, 3], ["F", 20, 4, 4], ["G", 30, 0, 5]],
  );
  assertEquals([pkg.covered, pkg.statements], [9, 15]);
  assertEquals(t.textfmt().split("\n")[0], "mode: count");
});

Deno.test("percentText rounds exact halves to even, as Go's %.1f", () => {
  assertEquals(percentText({ covered: 49, statements: 400 }), "12.2");
  assertEquals(percentText({ covered: 51, statements: 400 }), "12.8");
  assertEquals(percentText({ covered: 1, statements: 3 }), "33.3");
  assertEquals(percentText({ covered: 0, statements: 0 }), "0.0");
  assertEquals(percentText({ covered: 7, statements: 7 }), "100.0");
});

Deno.test("fuzz: merged counters written by encodeCounters read back the same", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
      (inputs) => {
        const p = emptyProfile(META, new Uint8Array());
        for (const c of inputs) addCounters(p, ctr([{ pkgIdx: 0, funcIdx: 0, counters: c }]));
        const back = parseCounters(encodeCounters(p));
        const want = [...p.funcs[0][0]!];
        assertEquals(
          back.functions,
          want.some((v) => v !== 0) ? [{ pkgIdx: 0, funcIdx: 0, counters: want }] : [],
        );
      },
    ),
    { numRuns: 200 },
  );
});
