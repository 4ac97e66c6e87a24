/**
 * Other test runs on this shared machine start coverage servers as host processes, and the
 * collector rightly stores any host process listening in its port range under `_host_`. These
 * helpers tell such foreign servers from a test's own: a `_host_` prefix or summary row is
 * foreign only when its process is not one this test's SimNode started (a host process, a
 * container, or a descendant of either). Anything of ours, misfiled or not, stays ours.
 */

import type { SimNode } from "../harness/node.ts";

/** The PIDs and coverage ports of every process `node` started (host processes, containers). */
export interface OwnProcesses {
  roots: Set<number>;
  ports: Set<number>;
}

/**
 * What `node` started, read now.
 * @example const own = ownProcesses(node); own.roots.has(host.proc.hostPid) // true
 */
export function ownProcesses(node: SimNode): OwnProcesses {
  const roots = new Set<number>();
  const ports = new Set<number>();
  const addPorts = (lines: string[]) => {
    for (const l of lines) {
      const m = l.match(/^coverage-port=(\d+)$/);
      if (m) ports.add(Number(m[1]));
    }
  };
  for (const p of node.hostProcesses) {
    roots.add(p.pid);
    addPorts(p.stdoutLines);
  }
  for (const pod of node.pods) {
    for (const c of pod.containers) {
      if (c.hostPid > 0) roots.add(c.hostPid);
      addPorts(c.stdoutLines);
    }
  }
  return { roots, ports };
}

/**
 * True when `pid` or one of its ancestors is in `roots` (read from /proc; a process already gone
 * is not ours unless it is a root itself).
 * @example await descendsFrom(Deno.pid, new Set([1])) // true
 */
export async function descendsFrom(pid: number, roots: Set<number>): Promise<boolean> {
  let p = pid;
  for (let depth = 0; depth < 128 && p > 0; depth++) {
    if (roots.has(p)) return true;
    const status = await Deno.readTextFile(`/proc/${p}/status`).catch(() => "");
    const m = status.match(/^PPid:\s+(\d+)$/m);
    if (!m) return false;
    p = Number(m[1]);
  }
  return false;
}

/**
 * True when the stored `prefix` (`<node>/_host_/...`) with info.json text `info` belongs to a
 * host process this test did not start. Prefixes outside `_host_` are never foreign.
 * @example await isForeignHostPrefix("testnode/_host_/20260101T000000Z/x", info, own)
 */
export async function isForeignHostPrefix(
  prefix: string,
  info: string,
  own: OwnProcesses,
): Promise<boolean> {
  if (prefix.split("/")[1] !== "_host_") return false;
  let parsed: { hostPid?: unknown; pid?: unknown };
  try {
    parsed = JSON.parse(info);
  } catch {
    return false; // unreadable: left for the test's checks to fail on
  }
  const pid = typeof parsed.hostPid === "number" ? parsed.hostPid : parsed.pid;
  if (typeof pid !== "number") return false;
  return !await descendsFrom(pid, own.roots);
}

/**
 * Splits stored prefixes into ours and foreign `_host_` ones; `info` reads a prefix's info.json.
 * @example const { ours, foreign } = await splitForeign(all, (p) => read(p), ownProcesses(node));
 */
export async function splitForeign<T>(
  all: Map<string, T>,
  info: (prefix: string, value: T) => Promise<string>,
  own: OwnProcesses,
): Promise<{ ours: Map<string, T>; foreign: Map<string, T> }> {
  const ours = new Map<string, T>();
  const foreign = new Map<string, T>();
  for (const [prefix, value] of all) {
    const text = await info(prefix, value).catch(() => "");
    (await isForeignHostPrefix(prefix, text, own) ? foreign : ours).set(prefix, value);
  }
  return { ours, foreign };
}

/** One row of `once`'s summary table. */
export interface SummaryRow {
  namespace: string;
  binary: string;
  address: string;
  result: string;
  detail: string;
  line: string;
}

/**
 * The rows of `once`'s summary table in `stdout` (the header and other lines left out).
 * @example summaryRows(stdout).filter((r) => r.result !== "stored")
 */
export function summaryRows(stdout: string): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const line of stdout.split("\n")) {
    const f = line.split(/ {2,}/);
    if (f.length < 6 || f[0] === "NAMESPACE") continue;
    const [namespace, , , binary, address, result, ...rest] = f;
    rows.push({ namespace, binary, address, result, detail: rest.join("  "), line });
  }
  return rows;
}

/**
 * True when a summary row is a foreign host server's: `_host_`, and stored under a foreign
 * prefix, or not stored and on a port none of this test's processes printed.
 * @example isForeignRow(row, foreignPrefixes, own)
 */
export function isForeignRow(
  row: SummaryRow,
  foreignPrefixes: Map<string, unknown>,
  own: OwnProcesses,
): boolean {
  if (row.namespace !== "_host_") return false;
  if (row.result === "stored") return foreignPrefixes.has(row.detail.trim());
  const port = Number(row.address.split(":").at(-1));
  return !own.ports.has(port);
}

/**
 * The stored prefixes of `node`'s own servers in a dir sink's `out` (`byPrefix` of its files):
 * foreign `_host_` ones left out.
 * @example const all = await oursUnder(out, byPrefix(await filesUnder(out)), node);
 */
export async function oursUnder(
  out: string,
  all: Map<string, string[]>,
  node: SimNode,
): Promise<Map<string, string[]>> {
  const read = (p: string) => Deno.readTextFile(`${out}/${p}/info.json`);
  return (await splitForeign(all, read, ownProcesses(node))).ours;
}

/**
 * The prefixes of `node`'s own servers among S3 prefixes (`s3Prefixes`): foreign `_host_` ones
 * left out.
 * @example const all = await oursInS3(await s3Prefixes(s3, BASE), node);
 */
export async function oursInS3(
  all: Map<string, Map<string, Uint8Array>>,
  node: SimNode,
): Promise<Map<string, Map<string, Uint8Array>>> {
  const read = (_p: string, files: Map<string, Uint8Array>) =>
    Promise.resolve(new TextDecoder().decode(files.get("info.json") ?? new Uint8Array()));
  return (await splitForeign(all, read, ownProcesses(node))).ours;
}
