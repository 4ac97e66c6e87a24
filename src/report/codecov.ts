/**
 * `report --format codecov --out DIR`: one Go profile (textfmt) per source repository and commit,
 * and a `manifest.json` a CI step loops over to upload each with its repository and commit.
 * Binaries are grouped by the `source_url`/`source_commit` their prefixes' info.json give; one
 * without both (or whose prefixes disagree) goes to the group `unknown-source`, and the manifest
 * says why. Paths are relative to the repository: the path flags, or else each group's module path
 * stripped when the group holds one module. Nothing is sent anywhere.
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import type { CounterMode } from "../coverage/meta.ts";
import type { Profile } from "../coverage/profile.ts";
import { type PathFlags, pathMapper } from "./paths.ts";
import type { MergedBinary } from "./read.ts";
import { type RefusedFile, textfmtOf } from "./textfmt.ts";

/** The file of the binaries with no (or conflicting) source facts. */
export const UNKNOWN_SOURCE_FILE = "unknown-source.coverprofile";

export interface ManifestBinary {
  binary: string;
  hash: string;
  /** Why it is in the unknown group. */
  why?: string;
}

export interface ManifestEntry {
  /** The source URL as info.json gave it; null for the unknown group. */
  repo: string | null;
  commit: string | null;
  /** File name inside the output directory. */
  file: string;
  /** True for the group of binaries without source facts. */
  unknownSource: boolean;
  binaries: ManifestBinary[];
}

export interface CodecovManifest {
  format: "go-coverprofile";
  uploads: ManifestEntry[];
}

export interface CodecovOutput {
  manifest: CodecovManifest;
  /** File name → profile text. */
  files: Map<string, string>;
  refused: RefusedFile[];
}

const names = (b: MergedBinary) => [...b.names].sort().join(",");

/**
 * A file name for a repository and commit: a bounded slug of each (lower-case `[a-z0-9._-]`, no
 * leading dot), and a hash of both, so two sources never share a file and no name leaves DIR.
 *
 * @example profileFileName("https://github.com/org/repo", "0123abcd") // "github.com-org-repo-0123abcd-5f3c1a2b.coverprofile"
 */
export function profileFileName(repo: string, commit: string): string {
  const slug = (s: string, max: number) =>
    s.toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, "").replace(/\.git$/, "")
      .replace(/[^a-z0-9._-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, max)
      .replace(/[-.]+$/, "") || "x";
  const h = createHash("sha256").update(`${repo}\0${commit}`).digest("hex").slice(0, 8);
  return `${slug(repo, 80)}-${slug(commit, 40)}-${h}.coverprofile`;
}

/** Where a binary belongs: its one source, or why it has none. */
function sourceOf(b: MergedBinary): { repo: string; commit: string } | { why: string } {
  const all = [...(b.sources ?? new Map()).values()];
  if (all.length === 0) return { why: "no info.json read" };
  // A prefix without facts (an older server or collector) does not contradict one with them:
  // the meta hash says it is the same build.
  const named = all.filter((f) => f.url !== undefined || f.commit !== undefined);
  const s = named.length > 0 ? named : all;
  if (s.length > 1) return { why: `its prefixes name ${s.length} different sources` };
  const { url, commit } = s[0];
  if (url === undefined && commit === undefined) {
    return { why: "info.json has no source_url and no source_commit" };
  }
  if (url === undefined) return { why: "info.json has no source_url" };
  if (commit === undefined) return { why: "info.json has no source_commit" };
  return { repo: url, commit };
}

/** `b` with each function's file mapped to its repository path (excluded files dropped). */
function mappedBinary(b: MergedBinary, map: (file: string, mod: string) => string | undefined) {
  const p = b.profile;
  const funcs: Profile["funcs"] = [];
  const packages = p.meta.packages.map((pkg, pi) => {
    const kept: Profile["funcs"][number] = [];
    const functions = [];
    for (let fi = 0; fi < pkg.functions.length; fi++) {
      const file = map(pkg.functions[fi].file, pkg.modulePath);
      if (file === undefined) continue;
      functions.push({ ...pkg.functions[fi], file });
      kept.push(p.funcs[pi][fi]);
    }
    funcs.push(kept);
    return { ...pkg, functions };
  });
  return { ...b, profile: { ...p, meta: { ...p.meta, packages }, funcs } };
}

function modeOf(bs: MergedBinary[]): CounterMode {
  const modes = new Set(bs.map((b) => b.profile.meta.mode));
  if (modes.size === 1) return [...modes][0];
  return [...modes].every((m) => m === "set") ? "set" : "count";
}

/**
 * The profiles and manifest of `binaries` (read with `sourceFacts`), paths mapped by `flags`.
 *
 * @example const { manifest, files } = codecovOutput(read.binaries, {});
 */
export function codecovOutput(binaries: MergedBinary[], flags: PathFlags): CodecovOutput {
  const groups = new Map<string, ManifestEntry & { members: MergedBinary[] }>();
  for (const b of binaries) {
    const s = sourceOf(b);
    const key = "why" in s ? "" : `${s.repo}\0${s.commit}`;
    let g = groups.get(key);
    if (!g) {
      g = "why" in s
        ? {
          repo: null,
          commit: null,
          file: UNKNOWN_SOURCE_FILE,
          unknownSource: true,
          binaries: [],
          members: [],
        }
        : {
          repo: s.repo,
          commit: s.commit,
          file: profileFileName(s.repo, s.commit),
          unknownSource: false,
          binaries: [],
          members: [],
        };
      groups.set(key, g);
    }
    g.binaries.push({ binary: names(b), hash: b.hash, ...("why" in s ? { why: s.why } : {}) });
    g.members.push(b);
  }
  const files = new Map<string, string>();
  const refused: RefusedFile[] = [];
  const uploads: ManifestEntry[] = [];
  const order = [...groups.values()].sort((a, b) =>
    a.unknownSource !== b.unknownSource ? (a.unknownSource ? 1 : -1) : a.file < b.file ? -1 : 1
  );
  for (const { members, ...entry } of order) {
    const modules = members.flatMap((b) => b.profile.meta.packages.map((p) => p.modulePath));
    const mapper = pathMapper(flags, modules);
    const mapped = members.map((b) => mappedBinary(b, (f, m) => mapper.map(f, m)));
    const { text, refused: r } = textfmtOf(mapped, modeOf(members));
    refused.push(...r);
    files.set(entry.file, text);
    uploads.push(entry);
  }
  return { manifest: { format: "go-coverprofile", uploads }, files, refused };
}

/**
 * Writes the profiles and `manifest.json` into `dir` (created when missing).
 *
 * @example await writeCodecov("codecov-out", codecovOutput(read.binaries, {}));
 */
export async function writeCodecov(dir: string, out: CodecovOutput): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of out.files) await Deno.writeTextFile(join(dir, name), text);
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify(out.manifest, null, 2) + "\n",
  );
}
