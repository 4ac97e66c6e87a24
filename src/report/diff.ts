/** `report --diff`: per binary and package, what one run covers that the other does not. */

import type { MergedBinary, ReadResult } from "./read.ts";
import { table, tableOf } from "./model.ts";
import { safeText } from "../terminal_text.ts";

export interface PackageDiff {
  path: string;
  /** Statements covered by the source and not by the other. */
  onlyHere: number;
  /** Statements covered by the other and not by the source. */
  onlyThere: number;
}

export interface BinaryDiff {
  binary: string;
  hash: string;
  /** "both", or the one side that has this binary. */
  in: "both" | "source" | "other";
  packages: PackageDiff[];
}

function names(b: MergedBinary): string {
  return [...b.names].sort().join(",");
}

function sum(m: Map<string, number> | undefined, not: Map<string, number> | undefined): number {
  let n = 0;
  for (const [k, v] of m ?? []) if (!not?.has(k)) n += v;
  return n;
}

/**
 * Compares two reads binary by binary (same meta hash: the same build) and package by package.
 *
 * @example diffReads(await readStore(a), await readStore(b))[0].packages
 */
export function diffReads(here: ReadResult, there: ReadResult): BinaryDiff[] {
  const other = new Map(there.binaries.map((b) => [b.hash, b]));
  const out: BinaryDiff[] = [];
  for (const b of here.binaries) {
    const o = other.get(b.hash);
    other.delete(b.hash);
    const a = tableOf(b).coveredUnits();
    const z = o ? tableOf(o).coveredUnits() : new Map<string, Map<string, number>>();
    const paths = [...new Set([...a.keys(), ...z.keys()])].sort();
    out.push({
      binary: names(b),
      hash: b.hash,
      in: o ? "both" : "source",
      packages: paths.map((path) => ({
        path,
        onlyHere: sum(a.get(path), z.get(path)),
        onlyThere: sum(z.get(path), a.get(path)),
      })),
    });
  }
  for (const o of other.values()) {
    out.push({ binary: names(o), hash: o.hash, in: "other", packages: [] });
  }
  return out;
}

/**
 * The diff as a text table: rows where the runs differ, per binary and package.
 *
 * @example renderDiffText(diffs, "runA", "runB")
 */
export function renderDiffText(diffs: BinaryDiff[], here: string, there: string): string {
  const rows = [["BINARY", "HASH", "PACKAGE", `ONLY IN ${here}`, `ONLY IN ${there}`]];
  const notes: string[] = [];
  for (const d of diffs) {
    if (d.in !== "both") {
      notes.push(safeText(
        `${d.binary} (${d.hash.slice(0, 12)}) is only in ${d.in === "source" ? here : there}`,
      ));
      continue;
    }
    for (const p of d.packages) {
      if (p.onlyHere === 0 && p.onlyThere === 0) continue;
      rows.push([d.binary, d.hash.slice(0, 12), p.path, String(p.onlyHere), String(p.onlyThere)]);
    }
  }
  const body = rows.length > 1
    ? table(rows, new Set([3, 4]))
    : "no difference in covered statements";
  return [body, ...notes].join("\n");
}
