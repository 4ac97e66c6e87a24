/**
 * `scripts/bench --compare <ref>`: another tree's collector (a git ref's export, e.g. today's
 * main) run beside this tree's on the same simulated node at the same time, each with its own
 * output and state folder, so both idle CPU figures come from one run under one machine load.
 */

import { join } from "node:path";
import { repoRoot } from "../tests/harness/collector.ts";
import { cpuTimes, threadCpu } from "./bench_lib.ts";

/** A git ref exported into a fresh folder (`git archive`), removed by `remove()`. */
export interface ExportedTree {
  ref: string;
  dir: string;
  remove(): Promise<void>;
}

/**
 * Exports `ref` of this repository into a temporary folder.
 * @example const t = await exportRef("main"); spawnCollector(args, { root: t.dir })
 */
export async function exportRef(ref: string): Promise<ExportedTree> {
  if (!/^[\w./-]{1,200}$/.test(ref) || ref.startsWith("-")) {
    throw new Error(`bench: --compare ${JSON.stringify(ref)} is not a plain git ref`);
  }
  const dir = await Deno.makeTempDir({ prefix: "bench-compare-" });
  const tar = join(dir, "tree.tar");
  const archive = await new Deno.Command("git", {
    args: ["-C", repoRoot, "archive", "--format=tar", "-o", tar, ref],
    stderr: "piped",
  }).output();
  if (!archive.success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `bench: git archive ${ref} failed: ${new TextDecoder().decode(archive.stderr).trim()}`,
    );
  }
  const untar = await new Deno.Command("tar", { args: ["-xf", tar, "-C", dir] }).output();
  await Deno.remove(tar);
  if (!untar.success) throw new Error(`bench: unpacking the export of ${ref} failed`);
  return { ref, dir, remove: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * The scenario's collector flags with `--output-dir` and `--state-dir` moved under `dir`.
 * @example withFolders(["--output-dir", "/a", "--sink", "dir"], "/b") // ["--output-dir", "/b/out", ...]
 */
export function withFolders(flags: string[], dir: string): string[] {
  const out = [...flags];
  for (const [flag, name] of [["--output-dir", "out"], ["--state-dir", "state"]]) {
    const i = out.indexOf(flag);
    if (i >= 0) out[i + 1] = join(dir, name);
  }
  return out;
}

/** CPU of a process and of its threads at one moment. */
export interface CpuSnapshot {
  own: number;
  /** Reaped children's (crictl runs). */
  children: number;
  threads: Map<string, number>;
}

/** Reads a CpuSnapshot of `pid`. */
export async function cpuSnapshot(pid: number): Promise<CpuSnapshot> {
  const [t, threads] = await Promise.all([cpuTimes(pid), threadCpu(pid)]);
  return { own: t.own, children: t.children, threads };
}

/**
 * CPU seconds per thread name between two snapshots; what the process spent beyond its living
 * threads (threads that ended: Deno's blocking pool lets idle ones go) is "ended threads".
 * @example threadDelta(a, b) // { deno: 3.1, "tokio-runtime-w": 1.2, "children (crictl)": 0.1 }
 */
export function threadDelta(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  let sum = 0;
  for (const [name, cpu] of b.threads) {
    // a thread name first seen in b started during the window: all its CPU is in it
    const d = Math.max(0, cpu - (a.threads.get(name) ?? 0));
    out[name] = Number(d.toFixed(2));
    sum += d;
  }
  const ended = b.own - a.own - sum;
  if (ended > 0.005) out["ended threads"] = Number(ended.toFixed(2));
  out["children (crictl)"] = Number((b.children - a.children).toFixed(2));
  return out;
}
