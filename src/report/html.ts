/**
 * The HTML report's page shell: one self-contained file (inline style and script, nothing
 * fetched). Per binary its figures, facts (info.json's source, owners, namespaces, nodes), the
 * coverage-over-time picture, its packages, and the places the script fills: a file table, the
 * search hits and the source view. Server-rendered text is escaped; the rest is data in
 * `<script type="application/json">` elements (src/report/html_data.ts) that the script
 * (src/report/html_client.ts) shows as text.
 */

import { percentText } from "../coverage/summary.ts";
import { esc } from "./html_escape.ts";
import { CLIENT_SCRIPT, LEVELS } from "./html_client.ts";
import { type PageData, scriptJson } from "./html_data.ts";
import { PAGE_STYLE } from "./html_style.ts";
import { renderTimelineHtml, TIMELINE_STYLE } from "./html_timeline.ts";
import type { CountedList, FactsJson } from "./info_summary.ts";
import type { Report } from "./model.ts";

function bar(covered: number, statements: number): string {
  const pct = statements === 0 ? 0 : (100 * covered) / statements;
  const text = percentText({ covered, statements });
  return `<span class="bar" title="${covered}/${statements}"><span style="width:${
    pct.toFixed(1)
  }%"></span></span> <span class="pct">${text}%</span> <span class="n">${covered}/${statements}</span>`;
}

function counted(l: CountedList): string {
  const items = l.values.map(([v, n]) =>
    `${esc(v)}${n > 1 ? ` <span class="n">×${n}</span>` : ""}`
  );
  if (l.others > 0) items.push(`<span class="n">and ${l.others} prefixes naming others</span>`);
  return items.length > 0 ? items.join(", ") : '<span class="n">none recorded</span>';
}

function facts(b: Report["binaries"][number], f: FactsJson | null): string {
  const rows: [string, string][] = [
    ["prefixes", `${b.prefixes} (${b.processes} processes, ${b.pods} pods, ${b.nodes} nodes)`],
  ];
  if (f) {
    rows.push(
      ["source", counted(f.sources)],
      ["owners", counted(f.owners)],
      ["namespaces", counted(f.namespaces)],
      ["nodes", counted(f.nodes)],
    );
    if (f.withoutInfo > 0) rows.push(["no info.json", `${f.withoutInfo} prefixes`]);
  }
  return `<dl class="facts">${
    rows.map(([k, v]) => `<dt>${k}</dt><dd class="fact-${k.replace(/ /g, "-")}">${v}</dd>`)
      .join("")
  }</dl>`;
}

/**
 * The page of `r`; `data` (pageData) adds the file tables, search and source views.
 *
 * @example await Deno.writeTextFile("report.html", renderHtml(report, await pageData(report, read.binaries, roots)));
 */
export function renderHtml(r: Report, data?: PageData): string {
  const out: string[] = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width">',
    `<title>Coverage report: ${esc(r.source)}</title>`,
    `<style>${PAGE_STYLE}${TIMELINE_STYLE}</style></head><body>`,
    `<h1>Coverage of ${esc(r.source)}</h1>`,
    `<p>${r.prefixes.taken} of ${r.prefixes.found} prefixes read; ${r.prefixes.unreadable} unreadable.</p>`,
  ];
  if (data) {
    out.push(
      '<div class="toolbar"><input id="cc-search" type="search" ' +
        'placeholder="Search files and functions" aria-label="search files and functions"> ' +
        `<select id="cc-level" aria-label="coverage level">${
          LEVELS.map(([v, label]) => `<option value="${v}">${label}</option>`).join("")
        }</select></div>`,
    );
  }
  r.binaries.forEach((b, i) => {
    out.push(
      `<section class="binary" data-hash="${b.hash}" data-index="${i}"><h2><span class="name"><b>${
        esc(b.binary)
      }</b> <code>${b.hash.slice(0, 12)}</code> (${b.mode}, ${b.prefixes} prefixes)</span> ${
        bar(b.covered, b.statements)
      }</h2>`,
      facts(b, data?.binaries[i]?.facts ?? null),
    );
    if (b.timeline) out.push(renderTimelineHtml(b.timeline, b.statements));
    out.push(
      `<details class="packages"><summary>${b.packages.length} packages</summary><table>`,
    );
    for (const p of b.packages) {
      out.push(
        `<tr class="package"><td><span class="name">${esc(p.path)}</span></td><td>${
          bar(p.covered, p.statements)
        }</td></tr>`,
      );
    }
    out.push("</table></details>");
    if (data) {
      out.push(`<div class="files" data-binary="${i}"></div>`);
      out.push(`<div class="viewer" data-binary="${i}"></div>`);
    }
    out.push("</section>");
  });
  if (r.errors.length > 0) {
    out.push("<h2>Unreadable prefixes</h2><ul>");
    for (const e of r.errors) {
      out.push(`<li class="err"><code>${esc(e.prefix)}</code>: ${esc(e.error)}</li>`);
    }
    out.push("</ul>");
  }
  if (data) {
    const { sources, ...main } = data;
    out.push(`<script type="application/json" id="cc-data">${scriptJson(main)}</script>`);
    sources.forEach((text, i) => {
      out.push(`<script type="application/json" id="cc-src-${i}">${scriptJson(text)}</script>`);
    });
    out.push(`<script>${CLIENT_SCRIPT}</script>`);
  }
  out.push("</body></html>");
  return out.join("\n") + "\n";
}
