import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { liveCoverage, statementTable, StatementTables } from "./live.ts";
import { encodeMetaFile } from "../../tests/harness/metafile.ts";
import type { ParsedMeta } from "./meta.ts";

const u = (stmts: number) => ({ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts });
const META: ParsedMeta = {
  hash: "0123456789abcdef0123456789abcdef",
  mode: "set",
  granularity: 1,
  packages: [
    {
      path: "a",
      name: "a",
      modulePath: "m",
      functions: [{ name: "F", file: "a.go", literal: false, units: [u(2), u(3)] }],
    },
    {
      path: "b",
      name: "b",
      modulePath: "m",
      functions: [
        { name: "G", file: "b.go", literal: false, units: [] },
        { name: "H", file: "b.go", literal: false, units: [u(5)] },
      ],
    },
  ],
};

Deno.test("live coverage sums the statements of covered blocks; foreign keys count for nothing", () => {
  const t = statementTable(encodeMetaFile(META));
  assertEquals(t.total, 10);
  assertEquals(liveCoverage(t, new Set(["0:0:1", "1:1:0"])), {
    covered: 8,
    total: 10,
    percent: 80,
  });
  const junk = new Set([
    "0:0:2",
    "0:1:0",
    "1:0:0",
    "2:0:0",
    "x:y:z",
    "-1:0:0",
    "1:-1:0",
    "0:0:-1",
    "",
  ]);
  assertEquals(liveCoverage(t, junk).covered, 0);
});

Deno.test("a table is computed once per meta hash while a holder keeps it", () => {
  const tables = new StatementTables();
  const bytes = encodeMetaFile(META);
  let reads = 0;
  const a = tables.get(META.hash, () => (reads++, bytes));
  const b = tables.get(META.hash, () => (reads++, bytes));
  assertEquals([a === b, reads, tables.computed], [true, 1, 1]);
  assertEquals(typeof tables.tryGet("ff".repeat(16), () => bytes.subarray(0, 10)), "string");
});
