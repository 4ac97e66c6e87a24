/**
 * The HTML report's picture of one binary's coverage over time: covered statements as a step
 * curve (inline SVG, nothing fetched, no script), the windows as bands under it, and the windows'
 * figures as a table. Every name is escaped; the figures sit in data attributes for tests.
 */

import { esc } from "./html_escape.ts";
import type { BinaryTimeline, FunctionPlace } from "./timeline_report.ts";
import { edgeText } from "./timeline_text.ts";

const W = 720, H = 200, PAD = { l: 56, r: 12, t: 10, b: 28 };
/** Points of the curve drawn with a marker (and its figures) at most. */
export const MAX_MARKERS = 2000;
/** Functions listed per window at most (the JSON form has them all). */
export const HTML_FUNCTIONS = 50;
const BANDS = ["#4a90d9", "#e5a50a", "#26a269", "#c061cb", "#e66100", "#865e3c"];

/** Styles of the picture, added to the page's. */
export const TIMELINE_STYLE = `
.timeline svg{background:#fafafa;border:1px solid #ddd}.timeline .curve{fill:none;stroke:#1a5fb4;stroke-width:2}
.timeline .axis{stroke:#999}.timeline text{font:11px system-ui,sans-serif;fill:#444}
.windows td{white-space:nowrap}.windows td.num{text-align:right;font-variant-numeric:tabular-nums}
`;

function fnList(fns: FunctionPlace[]): string {
  const items = fns.slice(0, HTML_FUNCTIONS).map((f) =>
    `<li>${f.statements} <code>${esc(f.name)}</code> <span class="n">${esc(f.file)}</span></li>`
  );
  if (fns.length > HTML_FUNCTIONS) items.push(`<li>… ${fns.length - HTML_FUNCTIONS} more</li>`);
  return `<ul>${items.join("")}</ul>`;
}

/**
 * The SVG curve of `t` with its windows as bands; `statements` is the binary's total (the y axis).
 *
 * @example timelineSvg(t, 120) // "<svg ...>...</svg>"
 */
export function timelineSvg(t: BinaryTimeline, statements: number): string {
  const times = [
    ...t.curve.map((p) => p.ms),
    ...t.windows.flatMap((w) => [Date.parse(w.start), Date.parse(w.end)]),
  ];
  if (times.length === 0) return "";
  let t0 = Math.min(...times), t1 = Math.max(...times);
  if (t1 === t0) t1 = t0 + 1000;
  const span = t1 - t0;
  t0 -= span * 0.02;
  t1 += span * 0.02;
  const top = Math.max(1, statements);
  const x = (ms: number) => (PAD.l + ((ms - t0) / (t1 - t0)) * (W - PAD.l - PAD.r)).toFixed(1);
  const y = (n: number) => (H - PAD.b - (n / top) * (H - PAD.t - PAD.b)).toFixed(1);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`,
  ];
  t.windows.forEach((w, i) => {
    const a = Date.parse(w.start), b = Date.parse(w.end);
    out.push(
      `<rect class="band" data-window="${esc(w.name)}" x="${x(a)}" y="${PAD.t}" width="${
        (Number(x(b)) - Number(x(a))).toFixed(1)
      }" height="${H - PAD.t - PAD.b}" fill="${BANDS[i % BANDS.length]}" fill-opacity="0.18">` +
        `<title>${esc(w.name)}: ${w.statements} statements</title></rect>`,
    );
  });
  out.push(
    `<line class="axis" x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}"/>`,
    `<line class="axis" x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}"/>`,
    `<text x="4" y="${PAD.t + 10}">${top}</text><text x="4" y="${H - PAD.b}">0</text>`,
    `<text x="${PAD.l}" y="${H - 8}">${esc(new Date(t0).toISOString())}</text>`,
    `<text x="${W - PAD.r}" y="${H - 8}" text-anchor="end">${
      esc(new Date(t1).toISOString())
    }</text>`,
  );
  if (t.curve.length > 0) {
    const pts = [`${x(t0)},${y(0)}`];
    let prev = 0;
    for (const p of t.curve) {
      pts.push(`${x(p.ms)},${y(prev)}`, `${x(p.ms)},${y(p.covered)}`);
      prev = p.covered;
    }
    pts.push(`${x(t1)},${y(prev)}`);
    out.push(`<polyline class="curve" points="${pts.join(" ")}"/>`);
    // A marker per point while they can be told apart; past that, the last one only.
    const marked = t.curve.length <= MAX_MARKERS ? t.curve : t.curve.slice(-1);
    for (const p of marked) {
      out.push(
        `<circle class="point" data-at="${p.at}" data-covered="${p.covered}" cx="${x(p.ms)}" cy="${
          y(p.covered)
        }" r="2.5" fill="#1a5fb4"><title>${p.at}: ${p.covered}</title></circle>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("");
}

/**
 * The timeline section of one binary: curve, then the windows' table with their functions.
 *
 * @example renderTimelineHtml(t, b.statements)
 */
export function renderTimelineHtml(t: BinaryTimeline, statements: number): string {
  const out = [
    `<div class="timeline" data-covered="${t.covered}" data-timed="${t.timed}" data-untimed="${t.untimed}">`,
    `<p>Covered over time: ${t.timed} of ${t.covered} covered statements have a time ` +
    `(${t.firstPull} seen at the collector's first pull), ${t.untimed} untimed, ${t.outside} in no window.</p>`,
    timelineSvg(t, statements),
  ];
  if (t.windows.length > 0) {
    out.push(
      '<table class="windows"><tr><th>window</th><th>start</th><th>end</th><th>statements</th>' +
        "<th>only</th><th>shared</th><th>start edge</th><th>end edge</th></tr>",
    );
    t.windows.forEach((w, i) => {
      const cells = [esc(w.name), w.start, w.end];
      const nums = [w.statements, w.only, w.shared].map((n) => `<td class="num">${n}</td>`);
      const edges = [w.precision.start, w.precision.end].map((e) => `<td>${esc(edgeText(e))}</td>`);
      out.push(
        `<tr class="window" data-index="${i}" data-statements="${w.statements}" ` +
          `data-only="${w.only}" data-shared="${w.shared}" data-first-pull="${w.firstPull}">` +
          cells.map((c) => `<td>${c}</td>`).join("") + nums.join("") + edges.join("") + "</tr>",
      );
    });
    out.push("</table>");
    for (const w of t.windows) {
      if (w.statements === 0) continue;
      out.push(
        `<details class="window-places"><summary>${
          esc(w.name)
        }: ${w.statements} statements in ${w.files.length} files</summary>${
          fnList(w.functions)
        }</details>`,
      );
    }
    for (const s of t.shared) {
      out.push(
        `<details class="shared" data-windows="${
          esc(s.windows.join(" "))
        }" data-statements="${s.statements}">` +
          `<summary>shared by ${
            s.windows.map(esc).join(" + ")
          }: ${s.statements} statements</summary>${fnList(s.functions)}</details>`,
      );
    }
  }
  out.push("</div>");
  return out.join("\n");
}
