/**
 * `report --group-by binary|owner|namespace|node`: which group each stored prefix's counters are
 * merged in. `binary` (the default) is one group, today's report; `namespace` and `node` come
 * from the stored path; `owner` from info.json's workload (`workloadKind`/`workloadName`, written
 * from the pod watch: src/kube/workload.ts), so the pods of one Deployment, StatefulSet,
 * DaemonSet or Job merge. A prefix whose info.json names no workload (an older collector, or a
 * pod the watch did not know) is its pod's own group; a server outside any container is `_host_`.
 */

import { z } from "zod";
import { UsageError } from "../errors.ts";
import { safeJson } from "../terminal_text.ts";
import { Kind, Name } from "../kube/workload.ts";
import type { BinaryReport, Report } from "./model.ts";
import { table } from "./model.ts";
import type { PrefixGrouping, StoredPrefix } from "./prefixes.ts";
import { safeText } from "../terminal_text.ts";

export const GROUP_BY = ["binary", "owner", "namespace", "node"] as const;
export type GroupBy = typeof GROUP_BY[number];

/** The workload an info.json names; malformed or hostile values count as none. */
const InfoWorkload = z.object({
  workloadKind: Kind.optional().catch(undefined),
  workloadName: Name.optional().catch(undefined),
});

/** The owner an info.json's bytes name, or undefined. @example workloadIn(bytes) // "Deployment/web" */
export function workloadIn(bytes: Uint8Array | null): string | undefined {
  if (bytes === null) return undefined;
  try {
    const r = InfoWorkload.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!r.success || !r.data.workloadKind || !r.data.workloadName) return undefined;
    return `${r.data.workloadKind}/${r.data.workloadName}`;
  } catch {
    return undefined;
  }
}

/** A grouping of `--group-by`, and which one it is. */
export interface Grouping extends PrefixGrouping {
  by: GroupBy;
}

/**
 * The grouping of `--group-by`; undefined for `binary` (one group: the report as it always was).
 *
 * @example groupingFor("namespace")?.groupOf(prefix, null) // "demo"
 */
export function groupingFor(by: GroupBy): Grouping | undefined {
  if (by === "binary") return undefined;
  const host = (p: StoredPrefix) => p.namespace === undefined;
  return {
    by,
    needsInfo: by === "owner",
    groupOf(p, info) {
      if (by === "node") return p.node ?? "(unknown)";
      if (host(p)) return "_host_";
      if (by === "namespace") return p.namespace!;
      return `${p.namespace}/${workloadIn(info) ?? `Pod/${p.pod}`}`;
    },
  };
}

/** The report's groups in order, each with its binaries and summed figures. */
export function groupsOf(r: Report): { group: string; binaries: BinaryReport[] }[] {
  const by = new Map<string, BinaryReport[]>();
  for (const b of r.binaries) {
    const g = b.group ?? "";
    by.set(g, [...(by.get(g) ?? []), b]);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, binaries]) => ({ group, binaries }));
}

/**
 * The text table of a grouped report: one row per group and binary (names pass safeText).
 *
 * @example renderGroupedText(report, "owner") // "OWNER  BINARY  HASH ...\ndemo/Deployment/web  app ..."
 */
export function renderGroupedText(r: Report, by: GroupBy): string {
  const rows = [[
    by.toUpperCase(),
    "BINARY",
    "HASH",
    "PREFIXES",
    "PODS",
    "STATEMENTS",
    "COVERED",
    "COVERAGE",
  ]];
  for (const { group, binaries } of groupsOf(r)) {
    for (const b of binaries) {
      rows.push([
        group,
        b.binary,
        b.hash.slice(0, 12),
        String(b.prefixes),
        String(b.pods),
        String(b.statements),
        String(b.covered),
        `${b.percent}%`,
      ]);
    }
  }
  return [
    r.binaries.length > 0 ? table(rows, new Set([3, 4, 5, 6, 7])) : "no coverage data found",
    "",
    `${r.prefixes.taken} of ${r.prefixes.found} prefixes in ${
      safeText(r.source)
    }; ${r.prefixes.unreadable} unreadable; grouped by ${by}`,
  ].join("\n");
}

/**
 * The grouping `--group-by` asks for (undefined: binary, the default); a bad value, or one with a
 * format or `--diff` it does not apply to, is a usage error naming the flag.
 *
 * @example groupByFlag("owner", "text", false)?.by // "owner"
 */
export function groupByFlag(
  v: string | boolean | string[] | undefined,
  format: string,
  diff: boolean,
): Grouping | undefined {
  if (v === undefined) return undefined;
  const hint = "see coverage-collector report --help";
  if (typeof v !== "string" || !(GROUP_BY as readonly string[]).includes(v)) {
    throw new UsageError(
      `--group-by ${JSON.stringify(v)} is not one of ${GROUP_BY.join(", ")}`,
      hint,
    );
  }
  const g = groupingFor(v as GroupBy);
  if (g && format !== "text" && format !== "json") {
    throw new UsageError(`--group-by ${v} writes text or json, not ${format}`, hint);
  }
  if (g && diff) throw new UsageError(`--group-by ${v} does not go with --diff`, hint);
  return g;
}

/** The grouped report: json for `json`, else the text table (groupByFlag allows no other). */
export function groupedOutput(r: Report, by: GroupBy, format: string): string {
  if (format === "json") return safeJson({ ...r, groupBy: by }, undefined, 2) + "\n";
  return renderGroupedText(r, by) + "\n";
}
