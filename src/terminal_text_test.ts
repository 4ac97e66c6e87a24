import { deepStrictEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import { fuzzRuns } from "../tests/harness/fuzz.ts";
import { firstUnsafe, safeJson, safeLines, safeText } from "./terminal_text.ts";

Deno.test("safeText writes C0, DEL, C1, U+2028/2029 and bidi controls visibly; the rest stays", () => {
  assertEquals(safeText("kube-apiserver é ü 日本"), "kube-apiserver é ü 日本");
  assertEquals(safeText("a\nb\tc\x1b[31m\x7f"), "a\\x0ab\\x09c\\x1b[31m\\x7f");
  assertEquals(safeText("\u009b2J\u0085"), "\\x9b2J\\x85");
  assertEquals(safeText("l\u2028p\u2029\u202eR\u2066"), "l\\u{2028}p\\u{2029}\\u{202e}R\\u{2066}");
  assertEquals(safeLines("one\ntwo\x1b]8;;x\x07"), "one\ntwo\\x1b]8;;x\\x07");
  assertEquals([firstUnsafe("abc"), firstUnsafe("ab\u0085")], [-1, 2]);
});

Deno.test("safeJson is JSON.stringify with the controls it leaves raw escaped: the same value", () => {
  const value = { name: "a\u009b2J\u2028\u202e\x7f\x1b", n: 1, list: ["\u0085"] };
  for (const space of [undefined, 2]) {
    const s = safeJson(value, undefined, space);
    assertEquals(firstUnsafe(s.replaceAll("\n", "")), -1, s);
    assertEquals(JSON.parse(s), value);
  }
  assertEquals(safeJson("\u2028"), '"\\u2028"');
});

/** Any UTF-16 text, weighted to the ranges that matter here. */
const text = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 0xa0 }),
    fc.integer({ min: 0x2020, max: 0x2070 }),
    fc.integer({ min: 0, max: 0xffff }),
  ),
  { maxLength: 40 },
).map((codes) => String.fromCharCode(...codes));

Deno.test("fuzz: safeText and safeLines leave no unsafe character; safeJson round-trips", () => {
  fc.assert(
    fc.property(text, (s) => {
      assertEquals(firstUnsafe(safeText(s)), -1);
      assertEquals(firstUnsafe(safeLines(s).replaceAll("\n", "")), -1);
      assertEquals(safeLines(s).split("\n").length, s.split("\n").length);
      const j = safeJson({ s, list: [s] }, undefined, 1);
      assertEquals(firstUnsafe(j.replaceAll("\n", "")), -1);
      assertEquals(JSON.parse(j), { s, list: [s] });
    }),
    fuzzRuns(500),
  );
});
