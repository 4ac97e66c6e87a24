/** The HTML report: one self-contained page (no external assets, no script). */

import { percentText } from "../coverage/summary.ts";
import { esc } from "./html_escape.ts";
import { renderTimelineHtml, TIMELINE_STYLE } from "./html_timeline.ts";
import type { Report } from "./model.ts";

function bar(covered: number, statements: number): string {
  const pct = statements === 0 ? 0 : (100 * covered) / statements;
  const text = percentText({ covered, statements });
  return `<span class="bar" title="${covered}/${statements}"><span style="width:${
    pct.toFixed(1)
  }%"></span></span> <span class="pct">${text}%</span> <span class="n">${covered}/${statements}</span>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}summary{cursor:pointer;padding:2px 0}
.bar{display:inline-block;width:160px;height:10px;background:#e66;vertical-align:middle}
.bar span{display:block;height:100%;background:#3a3}
.pct{display:inline-block;width:4em;text-align:right;font-variant-numeric:tabular-nums}
.n{color:#666;font-size:.9em}.name{display:inline-block;min-width:28em}
table{border-collapse:collapse;margin:.3em 0 .6em 2em}td{padding:1px 8px}
.err{color:#a00}details details{margin-left:1.5em}
`;

/**
 * The page: binaries, then their packages, then functions, each with a bar.
 *
 * @example await Deno.writeTextFile("report.html", renderHtml(report));
 */
export function renderHtml(r: Report): string {
  const out: string[] = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>Coverage report: ${esc(r.source)}</title>`,
    `<style>${STYLE}${TIMELINE_STYLE}</style></head><body>`,
    `<h1>Coverage of ${esc(r.source)}</h1>`,
    `<p>${r.prefixes.taken} of ${r.prefixes.found} prefixes read; ${r.prefixes.unreadable} unreadable.</p>`,
  ];
  for (const b of r.binaries) {
    out.push(
      `<details open class="binary" data-hash="${b.hash}"><summary><span class="name"><b>${
        esc(b.binary)
      }</b> <code>${b.hash.slice(0, 12)}</code> (${b.mode}, ${b.prefixes} prefixes)</span> ${
        bar(b.covered, b.statements)
      }</summary>`,
    );
    if (b.timeline) out.push(renderTimelineHtml(b.timeline, b.statements));
    for (const p of b.packages) {
      out.push(
        `<details class="package"><summary><span class="name">${esc(p.path)}</span> ${
          bar(p.covered, p.statements)
        }</summary><table>`,
      );
      for (const f of p.functions) {
        out.push(
          `<tr><td>${esc(f.name)}</td><td class="n">${esc(f.file)}:${f.line}</td><td>${
            bar(f.covered, f.statements)
          }</td></tr>`,
        );
      }
      out.push("</table></details>");
    }
    out.push("</details>");
  }
  if (r.errors.length > 0) {
    out.push("<h2>Unreadable prefixes</h2><ul>");
    for (const e of r.errors) {
      out.push(`<li class="err"><code>${esc(e.prefix)}</code>: ${esc(e.error)}</li>`);
    }
    out.push("</ul>");
  }
  out.push("</body></html>");
  return out.join("\n") + "\n";
}
