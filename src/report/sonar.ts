/**
 * `report --format sonar`: SonarQube's generic test coverage XML
 * (`sonar.coverageReportPaths`): `<coverage version="1"><file path><lineToCover lineNumber
 * covered/>`. Only lines that hold statements are lines to cover (a `{` or `}` line is not).
 */

import type { FileLines } from "./lines.ts";
import { xmlText } from "./xml_text.ts";

/**
 * The generic coverage document of `files`.
 *
 * @example renderSonar(files) // '<coverage version="1">\n  <file path="a.go">\n ...'
 */
export function renderSonar(files: FileLines[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<coverage version="1">'];
  for (const f of files) {
    const lines = f.lines.filter((l) => l.statements > 0);
    if (lines.length === 0) continue;
    out.push(`  <file path="${xmlText(f.path)}">`);
    for (const l of lines) {
      out.push(`    <lineToCover lineNumber="${l.line}" covered="${l.hits > 0}"/>`);
    }
    out.push("  </file>");
  }
  out.push("</coverage>");
  return out.join("\n") + "\n";
}
