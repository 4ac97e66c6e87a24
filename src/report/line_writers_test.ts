import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { renderCobertura } from "./cobertura.ts";
import { renderLcov } from "./lcov.ts";
import type { FileLines } from "./lines.ts";
import { renderSonar } from "./sonar.ts";
import { xmlText } from "./xml_text.ts";

const FILES: FileLines[] = [
  {
    path: "a/a.go",
    importPath: "m/a/a.go",
    lines: [{ line: 1, hits: 2, statements: 0 }, { line: 2, hits: 2, statements: 2 }, {
      line: 3,
      hits: 0,
      statements: 1,
    }],
  },
  { path: "main.go", importPath: "m/main.go", lines: [{ line: 5, hits: 0, statements: 1 }] },
];

Deno.test("xmlText escapes markup and attribute whitespace, and replaces what XML cannot hold", () => {
  assertEquals(xmlText(`a<b>&"c'\t\n\r`), "a&#60;b&#62;&#38;&#34;c&#39;&#9;&#10;&#13;");
  assertEquals(
    xmlText("x\x00\x1b\ufffe\uffff\ud800y\udc00"),
    "x\ufffd\ufffd\ufffd\ufffd\ufffdy\ufffd",
  );
  // a surrogate pair is one character, kept
  assertEquals(xmlText("\ud83d\ude00"), "\ud83d\ude00");
});

Deno.test("cobertura: a package per directory, a class per file, statement rates, line counts", () => {
  const xml = renderCobertura(FILES, { timestamp: 1700000000123, version: "0.1.0" });
  ok(
    xml.includes(
      '<coverage line-rate="0.5" branch-rate="0" lines-covered="2" lines-valid="4" branches-covered="0" branches-valid="0" complexity="0" version="0.1.0" timestamp="1700000000123">',
    ),
    xml,
  );
  ok(xml.includes('<package name="a" line-rate="0.6667"'), xml);
  ok(xml.includes('<package name="." line-rate="0"'), xml);
  ok(xml.includes('<class name="a.go" filename="a/a.go" line-rate="0.6667"'), xml);
  ok(xml.includes('<line number="3" hits="0" branch="false"/>'), xml);
  // nothing to cover is a rate of 1
  ok(renderCobertura([], { timestamp: 0, version: "v" }).includes('line-rate="1"'));
});

Deno.test("lcov: one record per file with every line, LF and LH", () => {
  assertEquals(
    renderLcov(FILES),
    "TN:\nSF:a/a.go\nDA:1,2\nDA:2,2\nDA:3,0\nLF:3\nLH:2\nend_of_record\n" +
      "TN:\nSF:main.go\nDA:5,0\nLF:1\nLH:0\nend_of_record\n",
  );
  assertEquals(renderLcov([]), "");
});

Deno.test("sonar: lines holding statements are lines to cover; names escaped", () => {
  assertEquals(
    renderSonar([...FILES, {
      path: 'q/"<x>".go',
      importPath: "",
      lines: [{ line: 1, hits: 1, statements: 1 }],
    }]),
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<coverage version="1">',
      '  <file path="a/a.go">',
      '    <lineToCover lineNumber="2" covered="true"/>',
      '    <lineToCover lineNumber="3" covered="false"/>',
      "  </file>",
      '  <file path="main.go">',
      '    <lineToCover lineNumber="5" covered="false"/>',
      "  </file>",
      '  <file path="q/&#34;&#60;x&#62;&#34;.go">',
      '    <lineToCover lineNumber="1" covered="true"/>',
      "  </file>",
      "</coverage>",
      "",
    ].join("\n"),
  );
});
