/** changedOf's figures (diff-cover's rules) and the text form with hostile names. */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import {
  type ChangedCoverage,
  changedOf,
  lineRanges,
  renderChangedText,
} from "./changed_coverage.ts";
import type { FileLines } from "./lines.ts";
import type { ChangedFile } from "./unified_diff.ts";

const fl = (path: string, hits: [number, number][]): FileLines => ({
  path,
  importPath: `m/${path}`,
  lines: hits.map(([line, h]) => ({ line, hits: h, statements: 1 })),
});
const cf = (
  path: string,
  lines: number[],
  status: ChangedFile["status"] = "modified",
): ChangedFile => ({
  path,
  status,
  binary: false,
  lines,
});

Deno.test("only changed lines that hold code count; deleted and unknown files do not", () => {
  const files = [
    fl("b.go", [[3, 1], [4, 0], [5, 2]]),
    fl("a.go", [[1, 0]]),
    fl("gone.go", [[1, 0]]),
  ];
  const diff = [
    cf("b.go", [1, 2, 3, 4, 5, 9]),
    cf("a.go", [1]),
    cf("gone.go", [], "deleted"),
    cf("README.md", [1, 2]),
    cf("c.go", [7]),
  ];
  assertEquals(changedOf(diff, files), {
    measured: 4,
    run: 2,
    notRun: 2,
    percent: 50,
    files: [
      { path: "a.go", changed: 1, measured: 1, run: [], notRun: [1], percent: 0 },
      {
        path: "b.go",
        changed: 6,
        measured: 3,
        run: [3, 5],
        notRun: [4],
        percent: 100 - 1 / 3 * 100,
      },
    ],
  });
  assertEquals(changedOf([cf("README.md", [1])], files).percent, null);
});

Deno.test("line ranges", () => {
  assertEquals(lineRanges([]), "");
  assertEquals(lineRanges([3, 4, 5, 9, 11, 12]), "3-5, 9, 11-12");
});

Deno.test("hostile file and binary names cannot forge rows or reach the terminal", () => {
  const evil = "x.go\nforged  row\x1b[2J\u202e";
  const c: ChangedCoverage = {
    diff: "d\x1b]0;t\x07",
    changedFiles: 1,
    changedLines: 2,
    binaries: [{
      binary: "b\r\nz",
      hash: "0".repeat(32),
      ...changedOf([cf(evil, [1, 2])], [fl(evil, [[1, 1], [2, 0]])]),
    }],
  };
  const out = renderChangedText(c);
  // deno-lint-ignore no-control-regex
  ok(!/[\x00-\x09\x0b-\x1f\x7f\u202e]/.test(out), JSON.stringify(out));
  assertEquals(out.split("\n").length, 5, out); // head, header, file row, total row, not-run line
});
