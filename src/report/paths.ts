/**
 * From Go import-path file names (`example.com/mod/pkg/a.go`, as the meta-data names them) to the
 * repository paths a consumer matches against a checkout (`pkg/a.go`).
 *
 * Rules, longest prefix first, at a path-segment boundary only:
 * - `--path-map FROM=TO` puts TO in place of FROM (`k8s.io/api=staging/src/k8s.io/api`);
 * - `--strip-prefix P` is `--path-map P=` (the rest is the path);
 * - with neither flag, each package's module path (meta-data) is stripped when the report covers
 *   exactly one module; with several, names stay import paths (the README says what to pass).
 *
 * `--exclude-file GLOB` leaves a file out: `*` and `?` stay inside one segment, `**` spans
 * segments; a glob without `/` is matched against the base name, else against the whole repository
 * path or the whole import path.
 */

/** A bad path flag, naming the flag and what was wrong (the command turns it into a usage error). */
export class PathFlagError extends Error {
  constructor(readonly flag: string, message: string) {
    super(message);
    this.name = "PathFlagError";
  }
}

/** The path flags as given on the command line (each repeatable). */
export interface PathFlags {
  stripPrefix?: string[];
  pathMap?: string[];
  excludeFile?: string[];
}

/** Turns an import-path file name into a repository path, or undefined when it is excluded. */
export interface PathMapper {
  map(importPathFile: string, modulePath: string): string | undefined;
}

interface Rule {
  from: string;
  to: string;
}

/** Longest glob accepted, and most wildcards (keeps matching cost small and bounded). */
const MAX_FLAG_CHARS = 4096;
const MAX_GLOB_WILDCARDS = 32;

function checkText(flag: string, v: string): void {
  if (v.length > MAX_FLAG_CHARS) {
    throw new PathFlagError(
      flag,
      `--${flag} is ${v.length} characters (at most ${MAX_FLAG_CHARS})`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) {
    throw new PathFlagError(flag, `--${flag} ${JSON.stringify(v)} holds a control character`);
  }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

function ruleOf(flag: string, from: string, to: string): Rule {
  const f = trimSlash(from);
  if (f === "") throw new PathFlagError(flag, `--${flag} ${JSON.stringify(from)}: empty prefix`);
  return { from: f, to: trimSlash(to) };
}

function rulesOf(flags: PathFlags): Rule[] {
  const rules: Rule[] = [];
  for (const p of flags.stripPrefix ?? []) {
    checkText("strip-prefix", p);
    rules.push(ruleOf("strip-prefix", p, ""));
  }
  for (const m of flags.pathMap ?? []) {
    checkText("path-map", m);
    const eq = m.indexOf("=");
    if (eq < 0) {
      throw new PathFlagError("path-map", `--path-map ${JSON.stringify(m)} is not FROM=TO`);
    }
    rules.push(ruleOf("path-map", m.slice(0, eq), m.slice(eq + 1)));
  }
  const seen = new Map<string, string>();
  for (const r of rules) {
    const had = seen.get(r.from);
    if (had !== undefined && had !== r.to) {
      throw new PathFlagError(
        "path-map",
        `prefix ${JSON.stringify(r.from)} is mapped twice (to ${JSON.stringify(had)} and ${
          JSON.stringify(r.to)
        })`,
      );
    }
    seen.set(r.from, r.to);
  }
  return rules.sort((a, b) => b.from.length - a.from.length);
}

function applyRule(file: string, r: Rule): string | undefined {
  if (!file.startsWith(r.from + "/")) return undefined;
  const rest = file.slice(r.from.length + 1);
  return r.to === "" ? rest : `${r.to}/${rest}`;
}

/**
 * A matcher of one `--exclude-file` glob.
 *
 * @example globMatcher("**\/coverage_server.go")("a/b/coverage_server.go") // true
 */
export function globMatcher(glob: string): (path: string) => boolean {
  checkText("exclude-file", glob);
  if (glob === "") throw new PathFlagError("exclude-file", "--exclude-file: empty glob");
  const wild = (glob.match(/[*?]/g) ?? []).length;
  if (wild > MAX_GLOB_WILDCARDS) {
    throw new PathFlagError(
      "exclude-file",
      `--exclude-file ${
        JSON.stringify(glob)
      } has ${wild} wildcards (at most ${MAX_GLOB_WILDCARDS})`,
    );
  }
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        re += "(?:[^/]*/)*";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const rx = new RegExp(`^${re}$`, "su");
  if (!glob.includes("/")) return (path) => rx.test(path.slice(path.lastIndexOf("/") + 1));
  return (path) => rx.test(path);
}

/**
 * The one mapper of a report: validates the flags (PathFlagError names the bad one) and, without
 * strip or map flags, strips the module path when `modules` (the non-empty module paths of the
 * report's packages) holds exactly one.
 *
 * @example pathMapper({}, ["example.test/m"]).map("example.test/m/a/a.go", "example.test/m") // "a/a.go"
 */
export function pathMapper(flags: PathFlags, modules: Iterable<string>): PathMapper {
  const rules = rulesOf(flags);
  const excludes = (flags.excludeFile ?? []).map(globMatcher);
  const mods = new Set([...modules].filter((m) => m !== ""));
  const stripModule = rules.length === 0 && mods.size === 1;
  return {
    map(file: string, modulePath: string): string | undefined {
      let out = file;
      if (stripModule) {
        if (modulePath !== "") out = applyRule(file, { from: modulePath, to: "" }) ?? file;
      } else {
        for (const r of rules) {
          const m = applyRule(file, r);
          if (m !== undefined) {
            out = m;
            break;
          }
        }
      }
      if (excludes.some((x) => x(out) || x(file))) return undefined;
      return out;
    },
  };
}
