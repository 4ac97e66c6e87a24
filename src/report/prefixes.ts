/** Stored prefixes: grouping listed keys by directory, what a prefix's path says, and filters. */

/** One stored prefix (the directory of one server's files). */
export interface StoredPrefix {
  /** Directory key relative to the source ("" for the source itself). */
  dir: string;
  /** Meta hash → the key of its covmeta file, and the ETag the listing gave for it (S3). */
  metas: Map<string, { key: string; etag?: string }>;
  /** `hash.pid` → keys of its counter slots. */
  counters: Map<string, string[]>;
  /** `hash.pid` → the key of its coverage timeline (`covtimeline.<hash>.<pid>`). */
  timelines: Map<string, string>;
  binary: string;
  node?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  /** Discovery time from the path. */
  discovered?: Date;
  /** The key of its report-partial.json: the directory is a report partial (partial.ts). */
  partial?: string;
}

const TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * The time of a discovery-time segment, or undefined.
 *
 * @example segmentTime("20261122T100005Z") // 2026-11-22T10:00:05.000Z
 */
export function segmentTime(s: string | undefined): Date | undefined {
  const m = s === undefined ? null : TIME.exec(s);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** What the layout says of a directory (matched from its end, so a deeper source works). */
function describe(dir: string): Omit<StoredPrefix, "dir" | "metas" | "counters" | "timelines"> {
  const s = dir === "" ? [] : dir.split("/");
  const n = s.length;
  if (n >= 4 && s[n - 3] === "_host_" && segmentTime(s[n - 2])) {
    return { binary: s[n - 1], node: s[n - 4], discovered: segmentTime(s[n - 2]) };
  }
  if (n >= 7 && segmentTime(s[n - 3])) {
    return {
      binary: s[n - 1],
      node: s[n - 7],
      namespace: s[n - 6],
      pod: s[n - 5],
      container: s[n - 4],
      discovered: segmentTime(s[n - 3]),
    };
  }
  return { binary: n > 0 ? s[n - 1] : "unknown" };
}

const META = /^covmeta\.([0-9a-f]{32})$/;
const COUNTERS = /^covcounters\.([0-9a-f]{32})\.(\d+)\.\d+$/;
const TIMELINE = /^covtimeline\.([0-9a-f]{32})\.(\d+)$/;
/** A report partial's facts file (partial.ts's PARTIAL_FILE). */
const PARTIAL = "report-partial.json";

/**
 * Groups keys into prefixes (directories holding coverage files); other files are ignored.
 * `etags[i]`, when given, is the listing's ETag of `keys[i]` (kept for covmeta files).
 *
 * @example groupPrefixes(["n/_host_/20261122T100005Z/app/covmeta.<hash>"]).get("n/_host_/20261122T100005Z/app")
 */
export function groupPrefixes(
  keys: readonly string[],
  into = new Map<string, StoredPrefix>(),
  etags?: readonly (string | undefined)[],
) {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const cut = key.lastIndexOf("/");
    const dir = cut < 0 ? "" : key.slice(0, cut);
    const name = key.slice(cut + 1);
    const meta = META.exec(name);
    const ctr = meta ? null : COUNTERS.exec(name);
    const tl = meta || ctr ? null : TIMELINE.exec(name);
    const partial = name === PARTIAL;
    if (!meta && !ctr && !tl && !partial) continue;
    let p = into.get(dir);
    if (!p) {
      into.set(
        dir,
        p = { dir, metas: new Map(), counters: new Map(), timelines: new Map(), ...describe(dir) },
      );
    }
    if (partial) p.partial = key;
    else if (tl) p.timelines.set(`${tl[1]}.${tl[2]}`, key);
    else if (meta) {
      const etag = etags?.[i];
      p.metas.set(meta[1], etag === undefined ? { key } : { key, etag });
    } else {
      const id = `${ctr![1]}.${ctr![2]}`;
      const list = p.counters.get(id) ?? [];
      list.push(key);
      p.counters.set(id, list.sort());
    }
  }
  return into;
}

/** Which prefixes a report takes. */
export interface PrefixFilter {
  binary?: string;
  namespace?: string;
  node?: string;
  since?: Date;
  until?: Date;
}

/**
 * True when the prefix passes every filter given (a filter on a fact the path does not carry
 * excludes it).
 *
 * @example matches(prefix, { namespace: "openshift-etcd" })
 */
export function matches(p: StoredPrefix, f: PrefixFilter): boolean {
  if (f.binary !== undefined && p.binary !== f.binary) return false;
  if (f.namespace !== undefined && p.namespace !== f.namespace) return false;
  if (f.node !== undefined && p.node !== f.node) return false;
  if (f.since !== undefined && !(p.discovered && p.discovered >= f.since)) return false;
  if (f.until !== undefined && !(p.discovered && p.discovered <= f.until)) return false;
  return true;
}

/** How read.ts groups prefixes (`report --group-by`): whether it must read info.json, and the
 * group of a prefix. */
export interface PrefixGrouping {
  needsInfo: boolean;
  groupOf(p: StoredPrefix, info: Uint8Array | null): string;
}
