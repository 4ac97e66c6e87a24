/** The command line: commands, flags, --help, exit codes. */

import { secrets } from "./secrets.ts";
import { safeLines } from "./terminal_text.ts";
import { errorText } from "./errors.ts";
import { parseArgs } from "node:util";
import { collectorEnv, type Config, ConfigError, envName, loadConfig, SETTINGS } from "./config.ts";
import type { SettingKey } from "./config.ts";
import { versionLine } from "./version.ts";

export const PROGRAM = "coverage-collector";

/** What a command gets: its validated config, extra flags, and where to write. */
export interface CommandContext {
  config: Config;
  /** Extra flag values; a `multiple` flag gives every value, in order. */
  extra: Record<string, string | boolean | string[] | undefined>;
  /** Arguments after the command that are not flags (only for commands with `positionals`). */
  positionals: string[];
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export interface Command {
  summary: string;
  /** Flags of this command only (besides the settings). */
  extraFlags?: Record<string, { type: "boolean" | "string"; help: string; multiple?: boolean }>;
  /** Arguments this command takes besides flags, e.g. `{ usage: "<source>", min: 1, max: 1 }`. */
  positionals?: { usage: string; min: number; max: number };
  /** Commands that do not take settings (version). */
  noSettings?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** A usage mistake: exit code 2 with one line. */
export class UsageError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function settingsHelp(): string {
  const rows = (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
    const s = SETTINGS[key];
    const flag = "boolean" in s ? `--${s.flag}` : `--${s.flag} <v>`;
    const def = s.default === "" ? "" : ` (default ${s.default})`;
    return `  ${flag.padEnd(26)} ${s.help}${def}\n  ${"".padEnd(26)} env ${envName(key)}`;
  });
  return rows.join("\n");
}

function commandHelp(name: string, cmd: Command): string {
  const extra = Object.entries(cmd.extraFlags ?? {}).map(([f, d]) =>
    `  ${(d.type === "boolean" ? `--${f}` : `--${f} <v>`).padEnd(26)} ${d.help}`
  );
  return [
    `${PROGRAM} ${name} — ${cmd.summary}`,
    "",
    `usage: ${PROGRAM} ${name}${cmd.noSettings ? "" : " [flags]"}${
      cmd.positionals ? ` ${cmd.positionals.usage}` : ""
    }`,
    ...(extra.length ? ["", "flags of this command:", ...extra] : []),
    ...(cmd.noSettings ? [] : ["", "settings (flag > environment > default):", settingsHelp()]),
    "",
  ].join("\n");
}

function topHelp(commands: Record<string, Command>): string {
  return [
    `${PROGRAM} — collects Go coverage from instrumented programs on this node`,
    "",
    `usage: ${PROGRAM} [command] [flags]`,
    "",
    "commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`),
    "",
    `'${PROGRAM} <command> --help' shows the flags; 'run' is the default command.`,
    "",
  ].join("\n");
}

/**
 * Parses `args` and runs the chosen command; returns the process exit code.
 *
 * @example await main(["version"], commands) // prints the version, returns 0
 */
export async function main(
  args: string[],
  commands: Record<string, Command>,
  io: { stdout?: (s: string) => void; stderr?: (s: string) => void; env?: Record<string, string> } =
    {},
): Promise<number> {
  // A command's report may quote a peer's error, and a peer may quote our credentials.
  const out = io.stdout ?? ((s: string) => console.log(s));
  const err = io.stderr ?? ((s: string) => console.error(s));
  // And no control a peer chose reaches the terminal (each command escapes its own text; this
  // is the backstop for any it missed).
  const stdout = (s: string) => out(safeLines(secrets.redact(s)));
  const stderr = (s: string) => err(safeLines(secrets.redact(s)));
  // `deno task start -- once` passes the `--` through: it separates nothing here.
  if (args[0] === "--") args = args.slice(1);
  let name = "run";
  let rest = args;
  if (args[0] === "help" || args[0] === "--help" || args[0] === "-h") {
    const about = args[1] && commands[args[1]];
    stdout(about ? commandHelp(args[1], about) : topHelp(commands));
    return 0;
  }
  if (args[0] === "--version") {
    stdout(versionLine());
    return 0;
  }
  if (args[0] !== undefined && !args[0].startsWith("-")) {
    name = args[0];
    rest = args.slice(1);
  }
  const cmd = commands[name];
  if (!cmd) {
    stderr(
      `${PROGRAM}: unknown command "${name}"; commands: ${
        Object.keys(commands).join(", ")
      } (see ${PROGRAM} --help)`,
    );
    return 2;
  }
  try {
    const { values, positionals } = parseFlags(rest, cmd, name);
    if (values.help) {
      stdout(commandHelp(name, cmd));
      return 0;
    }
    const want = cmd.positionals;
    if (want && (positionals.length < want.min || positionals.length > want.max)) {
      throw new UsageError(
        positionals.length < want.min
          ? `missing ${want.usage}`
          : `unexpected argument "${positionals[want.max]}"`,
        `usage: ${PROGRAM} ${name} [flags] ${want.usage}`,
      );
    }
    const extra: CommandContext["extra"] = {};
    for (const f of Object.keys(cmd.extraFlags ?? {})) extra[f] = values[f];
    // Settings are single-valued; only a command's own flags may be `multiple`.
    const settings: Record<string, string | boolean | undefined> = {};
    for (const [k, v] of Object.entries(values)) if (!Array.isArray(v)) settings[k] = v;
    const config = loadConfig(settings, io.env ?? collectorEnv());
    return await cmd.run({ config, extra, positionals, stdout, stderr });
  } catch (e) {
    if (e instanceof UsageError) {
      stderr(`${PROGRAM} ${name}: ${e.message} (${e.hint})`);
      return 2;
    }
    if (e instanceof ConfigError) {
      stderr(`${PROGRAM} ${name}: ${e.message} (see ${PROGRAM} ${name} --help)`);
      return 2;
    }
    throw e;
  }
}

function parseFlags(args: string[], cmd: Command, name: string) {
  type Opt = { type: "boolean" | "string"; short?: string; multiple?: boolean };
  const options: Record<string, Opt> = { help: { type: "boolean", short: "h" } };
  if (!cmd.noSettings) {
    for (const s of Object.values(SETTINGS)) {
      options[s.flag] = { type: "boolean" in s ? "boolean" : "string" };
    }
  }
  for (const [f, d] of Object.entries(cmd.extraFlags ?? {})) {
    options[f] = d.multiple ? { type: d.type, multiple: true } : { type: d.type };
  }
  const hint = `see ${PROGRAM} ${name} --help`;
  try {
    return parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: cmd.positionals !== undefined,
    }) as {
      values: Record<string, string | boolean | string[] | undefined>;
      positionals: string[];
    };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = errorText(e);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const flag = /'([^']+)'/.exec(msg)?.[1] ?? msg;
      throw new UsageError(`unknown flag ${flag}`, hint);
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const arg = /'([^']+)'/.exec(msg)?.[1] ?? msg;
      throw new UsageError(`unexpected argument "${arg}"`, hint);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError(msg.split("\n")[0].replace(/^Option /, "flag "), hint);
    }
    throw new UsageError(msg, hint);
  }
}
