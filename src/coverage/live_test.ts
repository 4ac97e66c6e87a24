import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { liveCoverage, statementTable, StatementTables } from "./live.ts";
import { encodeMetaFile, realHash } from "../../tests/harness/metafile.ts";
import { MetaParseError, type ParsedMeta } from "./meta.ts";

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

Deno.test("a table is computed once per meta-data file while a holder keeps it", async () => {
  const tables = new StatementTables();
  const bytes = encodeMetaFile(META);
  const a = await tables.verify(bytes);
  const b = await tables.verify(bytes.slice());
  assertEquals([a === b, tables.computed, a.hash], [true, 1, realHash(META)]);
  assertEquals(a, statementTable(bytes));
  await rejects(tables.verify(bytes.subarray(0, 10)), MetaParseError);
});

Deno.test("a forged file claiming a build's hash gets no table, and leaves the build's alone", async () => {
  const tables = new StatementTables();
  const real = await tables.verify(encodeMetaFile(META));
  // The forgery: one package of 3 statements, its header claiming the real build's hash.
  const small: ParsedMeta = { ...META, packages: [META.packages[0]] };
  const forged = encodeMetaFile(small, { claim: real.hash });
  const e = await tables.verify(forged).catch((e) => e);
  ok(e instanceof MetaParseError && e.kind === "hash", String(e));
  assertEquals((await tables.verify(encodeMetaFile(META))).total, 10);
});
