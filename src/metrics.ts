/** Counters and gauges, rendered in the Prometheus text exposition format (version 0.0.4). */

import { safeText } from "./terminal_text.ts";

export type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, { labels: Labels; value: number }>;
  collect?: () => Array<{ labels?: Labels; value: number }>;
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * A label value: controls (newline too) written visibly by safeText, then the exposition escapes
 * of backslash and quote, so a scraper reads `\x1b` as text and no control reaches its terminal.
 */
function escapeLabel(v: string): string {
  return safeText(v).replaceAll("\\", "\\\\").replaceAll('"', '\\"');
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function renderNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** The metrics of one process. One registry is made by the composition root and passed around. */
export class Metrics {
  #families = new Map<string, Family>();

  #family(name: string, type: Family["type"], help: string): Family {
    let f = this.#families.get(name);
    if (!f) {
      f = { help, type, values: new Map() };
      this.#families.set(name, f);
    } else if (f.type !== type) {
      throw new Error(`metric ${name} is a ${f.type}, not a ${type}`);
    }
    return f;
  }

  /** Declares a counter so it shows (at 0) before its first increment. */
  counter(name: string, help: string): void {
    this.#family(name, "counter", help);
  }

  /** Adds `by` (default 1) to a counter. @example m.inc("pulls_total", "Pulls", { result: "ok" }) */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.#family(name, "counter", help);
    const key = labelKey(labels);
    const cur = f.values.get(key);
    if (cur) cur.value += by;
    else f.values.set(key, { labels, value: by });
  }

  /** Sets a gauge. */
  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.#family(name, "gauge", help).values.set(labelKey(labels), { labels, value });
  }

  /** A family whose samples are computed at every scrape. */
  computed(name: string, type: Family["type"], help: string, collect: Family["collect"]): void {
    this.#family(name, type, help).collect = collect;
  }

  /** How many series are kept (labelled values; computed families not counted). */
  series(): number {
    let n = 0;
    for (const f of this.#families.values()) n += f.values.size;
    return n;
  }

  /** The current value of one series (0 when absent); for tests and /status. */
  value(name: string, labels: Labels = {}): number {
    return this.#families.get(name)?.values.get(labelKey(labels))?.value ?? 0;
  }

  /** The sum over every series of a family. */
  total(name: string): number {
    let sum = 0;
    for (const v of this.#families.get(name)?.values.values() ?? []) sum += v.value;
    return sum;
  }

  /** Renders every family in the text exposition format. */
  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.#families) {
      lines.push(`# HELP ${name} ${safeText(f.help).replaceAll("\\", "\\\\")}`);
      lines.push(`# TYPE ${name} ${f.type}`);
      const samples = f.collect ? f.collect() : [...f.values.values()];
      for (const s of samples) {
        lines.push(`${name}${renderLabels(s.labels ?? {})} ${renderNumber(s.value)}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}
