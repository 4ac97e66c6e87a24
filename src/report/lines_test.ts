import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { CounterMode, MetaFunction, MetaUnit } from "../coverage/meta.ts";
import { type FileLines, linesOf, lineTotals, MAX_LINE, type SkippedFile } from "./lines.ts";
import { pathMapper } from "./paths.ts";
import type { MergedBinary } from "./read.ts";

const M = "example.test/m";

type Fn = { file: string; units: [number, number, number, number][] };

/** A merged binary of one package `M/p` whose functions' units are [stLine, enLine, stmts, count]. */
function binary(fns: Fn[], mode: CounterMode = "count", pkg = `${M}/p`): MergedBinary {
  const functions: MetaFunction[] = fns.map((f, i) => ({
    name: `f${i}`,
    file: f.file,
    literal: false,
    units: f.units.map(([st, en, stmts]): MetaUnit => ({
      stLine: st,
      stCol: 1,
      enLine: en,
      enCol: 2,
      stmts,
    })),
  }));
  const meta = {
    hash: "0".repeat(32),
    mode,
    granularity: 1,
    packages: [{ path: pkg, name: "p", modulePath: M, functions }],
  };
  return {
    hash: meta.hash,
    names: new Set(["app"]),
    profile: {
      meta,
      metaBytes: new Uint8Array(),
      funcs: [fns.map((f) => Uint32Array.from(f.units.map((u) => u[3])))],
      inputs: 1,
    },
    prefixes: 1,
    processes: 1,
    nodes: new Set(),
    pods: new Set(),
  };
}

const rows = (f: FileLines) => f.lines.map((l) => [l.line, l.hits, l.statements]);

Deno.test("a gofmt'd function: statements of a multi-line block sit on the lines below its {", () => {
  // func f(x int) int {   1.19,3.12 (y := ..., if) ran 5
  //   y := x * 2
  //   if y > 10 {        3.12,5.3 (return 1) never ran
  //     return 1
  //   }
  //   return 0           6.2,6.10 ran 5
  // }
  const files = linesOf(
    [binary([{ file: `${M}/p/f.go`, units: [[1, 3, 2, 5], [3, 5, 1, 0], [6, 6, 1, 5]] }])],
    pathMapper({}, [M]),
  );
  assertEquals(files.map((f) => [f.path, f.importPath]), [["p/f.go", `${M}/p/f.go`]]);
  assertEquals(rows(files[0]), [[1, 5, 0], [2, 5, 1], [3, 5, 1], [4, 0, 1], [5, 0, 0], [6, 5, 1]]);
  // statements-weighted: 3 of 4, as Go counts them
  assertEquals(lineTotals(files), { lines: 6, hitLines: 4, statements: 4, coveredStatements: 3 });
});

Deno.test("more statements than lines: the first lines take the extra ones", () => {
  const files = linesOf(
    [binary([{ file: `${M}/p/a.go`, units: [[10, 13, 7, 1], [20, 20, 3, 0]] }])],
    pathMapper({}, [M]),
  );
  assertEquals(rows(files[0]), [[10, 1, 0], [11, 1, 3], [12, 1, 2], [13, 1, 2], [20, 0, 3]]);
});

Deno.test("hits per line are the largest count of its blocks; binaries merge like UnitTable", () => {
  const a = binary([{ file: `${M}/p/a.go`, units: [[1, 2, 1, 3], [2, 4, 1, 9]] }]);
  const b = binary([{ file: `${M}/p/a.go`, units: [[1, 2, 1, 4], [2, 4, 1, 0]] }]);
  b.hash = "1".repeat(32);
  const files = linesOf([a, b], pathMapper({}, [M]));
  // equal units add up: 3+4 and 9+0; line 2 holds both blocks
  assertEquals(rows(files[0]), [[1, 7, 0], [2, 9, 1], [3, 9, 1], [4, 9, 0]]);
  // set mode ORs
  const s = linesOf([
    binary([{ file: `${M}/p/a.go`, units: [[1, 1, 1, 1]] }], "set"),
    binary([{ file: `${M}/p/a.go`, units: [[1, 1, 1, 1]] }], "set"),
  ], pathMapper({}, [M]));
  assertEquals(rows(s[0]), [[1, 1, 1]]);
});

Deno.test("files are sorted by repository path; excluded files are left out", () => {
  const files = linesOf(
    [binary([
      { file: `${M}/p/z.go`, units: [[1, 1, 1, 1]] },
      { file: `${M}/p/coverage_server.go`, units: [[1, 1, 1, 1]] },
      { file: `${M}/p/b.go`, units: [[1, 1, 1, 0]] },
    ])],
    pathMapper({ excludeFile: ["coverage_server.go"] }, [M]),
  );
  assertEquals(
    files.map((f) => f.path),
    [`${M}/p/b.go`, `${M}/p/z.go`].map((p) => p.slice(M.length + 1)),
  );
});

Deno.test("two import paths mapped to one repository path merge their lines", () => {
  const files = linesOf([
    binary([{ file: `${M}/p/a.go`, units: [[1, 1, 1, 0]] }]),
    binary([{ file: "vendor.io/p/a.go", units: [[1, 2, 1, 2]] }], "count", "vendor.io/p"),
  ], pathMapper({ pathMap: [`${M}=`, "vendor.io="] }, []));
  assertEquals(files.map((f) => [f.path, rows(f)]), [["p/a.go", [[1, 2, 1], [2, 2, 1]]]]);
});

Deno.test("hostile spans leave their file out, named, and cost stays bounded", () => {
  const skipped: SkippedFile[] = [];
  const files = linesOf(
    [binary([
      { file: `${M}/p/back.go`, units: [[9, 3, 1, 1]] },
      { file: `${M}/p/zero.go`, units: [[0, 3, 1, 1]] },
      { file: `${M}/p/far.go`, units: [[1, MAX_LINE + 1, 1, 1]] },
      // within MAX_LINE, but many huge overlapping spans: charged against the budget
      {
        file: `${M}/p/wide.go`,
        units: Array.from({ length: 50 }, (_, i) => [1, 1_000_000, i + 1, 1]),
      },
      { file: `${M}/p/ok.go`, units: [[1, 2, 1, 1]] },
    ])],
    pathMapper({}, [M]),
    { skipped, budget: 10_000_000 },
  );
  assertEquals(files.map((f) => f.path), ["p/ok.go"]);
  assertEquals(
    skipped.map((s) => s.importPath),
    ["back", "zero", "far", "wide"].map((n) => `${M}/p/${n}.go`),
  );
  assertEquals(
    skipped[3].why,
    "its blocks span 51000000 lines, past the 10000000 the report has left",
  );
  assertEquals(skipped[0].why, `block 9.1,3.2 is not a span of lines 1..${MAX_LINE}`);
});
