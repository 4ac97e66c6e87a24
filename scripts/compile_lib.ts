/**
 * Pure helpers of scripts/compile.ts: targets, arguments, the version stamp, reading deno's
 * failure text and the compiled binary's embedded metadata. No I/O here.
 */

import { permissionFlagsOf } from "./permissions.ts";

/** The architectures we build, by short name. */
export const TARGETS = {
  x86_64: { triple: "x86_64-unknown-linux-gnu", elfMachine: 62 },
  aarch64: { triple: "aarch64-unknown-linux-gnu", elfMachine: 183 },
} as const;
export type Arch = keyof typeof TARGETS;

/** What the command line of compile.ts asked for. */
export interface CompileArgs {
  archs: Arch[];
  outDir: string;
  commit?: string;
  help: boolean;
}

/** A wrong command line of compile.ts; the message names the argument. */
export class CompileUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompileUsageError";
  }
}

/**
 * Turns `x86_64`, `amd64` or `x86_64-unknown-linux-gnu` into an Arch.
 *
 * @example archOf("aarch64-unknown-linux-gnu") // "aarch64"
 */
export function archOf(text: string): Arch {
  const t = text.trim();
  for (const [arch, target] of Object.entries(TARGETS) as [Arch, typeof TARGETS[Arch]][]) {
    if (t === arch || t === target.triple) return arch;
  }
  if (t === "amd64") return "x86_64";
  if (t === "arm64") return "aarch64";
  throw new CompileUsageError(
    `unknown target "${text}"; use one of ${
      Object.values(TARGETS).map((t) => t.triple).join(", ")
    }`,
  );
}

/**
 * Parses compile.ts arguments: `[--target T]... [--out-dir DIR] [--commit SHA] [--help]`.
 *
 * @example parseCompileArgs(["--target", "x86_64"]).archs // ["x86_64"]
 */
export function parseCompileArgs(args: string[]): CompileArgs {
  const out: CompileArgs = { archs: [], outDir: "dist", help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [name, inline] = a.startsWith("--") && a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new CompileUsageError(`${name} needs a value`);
      return v;
    };
    if (name === "--help" || name === "-h") out.help = true;
    else if (name === "--target") out.archs.push(archOf(value()));
    else if (name === "--out-dir") out.outDir = value();
    else if (name === "--commit") out.commit = value();
    else throw new CompileUsageError(`unknown argument "${a}" (see --help)`);
  }
  if (out.archs.length === 0) out.archs = Object.keys(TARGETS) as Arch[];
  out.archs = [...new Set(out.archs)];
  return out;
}

/** The output file name for an architecture. @example binaryName("aarch64") // "coverage-collector-aarch64" */
export function binaryName(arch: Arch): string {
  return `coverage-collector-${arch}`;
}

const COMMIT_LINE = /export const BUILD_COMMIT: string = "dev";/;

/**
 * Rewrites src/version.ts so BUILD_COMMIT is `commit`; throws when the line to stamp is missing.
 *
 * @example stampVersion('export const BUILD_COMMIT: string = "dev";', "abc") // '... = "abc";'
 */
export function stampVersion(source: string, commit: string): string {
  if (!/^[0-9A-Za-z._+-]{1,64}$/.test(commit)) {
    throw new CompileUsageError(`commit "${commit}" is not a plain revision name`);
  }
  if (!COMMIT_LINE.test(source)) {
    throw new Error(
      'src/version.ts has no line `export const BUILD_COMMIT: string = "dev";` to stamp',
    );
  }
  return source.replace(COMMIT_LINE, `export const BUILD_COMMIT: string = "${commit}";`);
}

/**
 * When deno compile failed because it could not fetch the runtime base, the reason in one line
 * (the URL and the innermost cause); otherwise null.
 *
 * @example baseDownloadFailure("0: Setting up base binary.\n1: error sending request for url (https://dl.deno.land/x.zip): c\n2: refused") // "https://dl.deno.land/x.zip: refused"
 */
export function baseDownloadFailure(stderr: string): string | null {
  // deno prints an error chain: "Caused by:\n    0: Setting up base binary.\n    1: ...".
  const text = stderr.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), "").split(
    /^\s*Stack backtrace:/m,
  )[0];
  if (!/Setting up base binary|denort/i.test(text)) return null;
  const causes = [...text.matchAll(/^\s*\d+: (.+)$/gm)].map((m) => m[1].trim());
  const url = /(https?:\/\/\S*denort\S*?\.zip)/.exec(text)?.[1];
  const last = causes.at(-1) ?? text.trim().split("\n").at(-1) ?? "unknown error";
  return url ? `${url}: ${last}` : last;
}

/**
 * The line printed when the runtime base cannot be had for a target.
 *
 * @example denortHelp("x86_64", "2.9.6", "no network").startsWith("compile: cannot download") // true
 */
export function denortHelp(arch: Arch, denoVersion: string, reason: string): string {
  const triple = TARGETS[arch].triple;
  return `compile: cannot download the Deno runtime base (denort) for ${triple}: ${reason}; ` +
    `set DENORT_BIN=/path/to/denort-${denoVersion}-${arch} (the binary inside ` +
    `denort-${triple}.zip of the Deno ${denoVersion} release) and run again`;
}

/**
 * The architecture of an ELF executable from its first 20 bytes, or null when it is not one we build.
 *
 * @example elfArch(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...Array(14).fill(0), 62, 0])) // "x86_64"
 */
export function elfArch(head: Uint8Array): Arch | null {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c) return null;
  if (head[3] !== 0x46) return null;
  const machine = head[18] | (head[19] << 8);
  for (const [arch, t] of Object.entries(TARGETS) as [Arch, typeof TARGETS[Arch]][]) {
    if (t.elfMachine === machine) return arch;
  }
  return null;
}

/** The permission fields deno compile embeds (`[]` = allowed for all, null = not allowed). */
export type EmbeddedPermissions = Record<string, string[] | boolean | null>;

/**
 * Finds the `"permissions":{...}` object in the metadata deno compile appends to a binary.
 *
 * @example embeddedPermissions('x{"argv":[],"permissions":{"allow_read":[]},"y":1}')?.allow_read // []
 */
export function embeddedPermissions(text: string): EmbeddedPermissions | null {
  const at = text.indexOf('"permissions":{"allow_');
  if (at < 0) return null;
  const start = at + '"permissions":'.length;
  const end = text.indexOf("}", start);
  if (end < 0) return null;
  try {
    return JSON.parse(text.slice(start, end + 1)) as EmbeddedPermissions;
  } catch {
    return null;
  }
}

/**
 * Compares a permission set of deno.json with what was embedded; returns the differences.
 *
 * @example permissionMismatch({ read: true }, { allow_read: [] }) // []
 */
export function permissionMismatch(
  wanted: Record<string, unknown>,
  embedded: EmbeddedPermissions,
): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(wanted)) {
    const got = embedded[`allow_${name}`];
    if (value === true && !(Array.isArray(got) && got.length === 0)) {
      problems.push(`${name}: wanted all, binary has ${JSON.stringify(got)}`);
    }
    if (Array.isArray(value) && JSON.stringify(got) !== JSON.stringify(value)) {
      problems.push(`${name}: wanted ${JSON.stringify(value)}, binary has ${JSON.stringify(got)}`);
    }
  }
  if (embedded.prompt !== false) problems.push("prompt: wanted false (--no-prompt)");
  return problems;
}

/** What `-A`/`--allow-all` grants, as deno compile embeds it (`allow_<name>: []`). */
const ALL_PERMISSIONS = ["read", "write", "net", "env", "run", "sys", "ffi", "import"] as const;

/** The permission flags for deno compile and what they should embed, from deno.json. */
export interface PermissionPlan {
  flags: string[];
  /** `read: true` = all, `read: ["a"]` = those only; as deno.json's permission sets write them. */
  wanted: Record<string, true | string[]>;
}

/**
 * The `--v8-flags=…` of deno.json's `start` task: the binary is compiled with the same V8 flags
 * the start task runs with (deno compile bakes them in).
 *
 * @example v8FlagsOf({ tasks: { start: "deno run --v8-flags=--max-semi-space-size=1 m.ts" } })
 * // ["--v8-flags=--max-semi-space-size=1"]
 */
export function v8FlagsOf(denoJson: unknown): string[] {
  const tasks = (denoJson as { tasks?: Record<string, string | { command?: string }> })?.tasks;
  const start = typeof tasks?.start === "string" ? tasks.start : tasks?.start?.command ?? "";
  return start.split(/\s+/).filter((t) => t.startsWith("--v8-flags="));
}

/**
 * The same permissions `deno task start` runs with: the permission set it names with
 * `-P=<set>` (or `permissions.collector`), else its `--allow-*` flags.
 *
 * @example permissionPlan({ tasks: { start: "deno run --allow-net main.ts" } }).flags // ["--allow-net"]
 */
export function permissionPlan(denoJson: unknown): PermissionPlan {
  const json = (denoJson ?? {}) as {
    tasks?: Record<string, string | { command?: string }>;
    permissions?: Record<string, Record<string, unknown>>;
  };
  const startTask = json.tasks?.start;
  const start = typeof startTask === "string" ? startTask : startTask?.command ?? "";
  const tokens = start.split(/\s+/).filter((t) => t !== "");
  const setName = tokens.map((t) => /^(?:-P|--permission-set)=(.+)$/.exec(t)?.[1]).find(Boolean);
  const set = json.permissions?.[setName ?? "collector"];
  if (set && (setName || !tokens.some((t) => t.startsWith("--allow-")))) {
    const wanted: Record<string, true | string[]> = {};
    for (const [k, v] of Object.entries(set)) {
      if (v === true) wanted[k] = true;
      else if (Array.isArray(v)) wanted[k] = v.map(String);
    }
    return { flags: [`-P=${setName ?? "collector"}`], wanted };
  }
  // --no-prompt is added by compile.ts itself.
  const flags = permissionFlagsOf(start).filter((f) => f !== "--no-prompt");
  if (flags.length === 0) {
    throw new Error(
      'deno.json: the "start" task has no -P=<set> and no --allow-* flags to build with',
    );
  }
  const wanted: Record<string, true | string[]> = {};
  if (flags.includes("-A") || flags.includes("--allow-all")) {
    for (const name of ALL_PERMISSIONS) wanted[name] = true;
    return { flags, wanted };
  }
  for (const f of flags) {
    const m = /^--allow-([a-z]+)(?:=(.*))?$/.exec(f);
    if (m) wanted[m[1]] = m[2] === undefined ? true : m[2].split(",");
  }
  return { flags, wanted };
}
