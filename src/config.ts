/**
 * Every setting of the collector: one zod schema, one table of flags and environment variables.
 * Precedence: command-line flag > environment (`COVERAGE_COLLECTOR_*`) > default.
 */

import { errorText } from "./errors.ts";
import { z } from "zod";
import { parseBytes, parseDuration, parseIdleRule, parseSchedule } from "./units.ts";

/** Turns a text into a typed value or throws a RangeError saying what was wrong. */
type Parser<T> = (text: string) => T;

const text = (v: string) => v;
const nonEmpty = (v: string) => {
  if (v.trim() === "") throw new RangeError("must not be empty");
  return v;
};
const integer = (min: number, max: number) => (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new RangeError(`"${v}" is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new RangeError(`${n} is outside ${min}..${max}`);
  return n;
};
const duration = (minMs: number) => (v: string) => {
  const ms = parseDuration(v);
  if (ms < minMs) throw new RangeError(`"${v}" is shorter than ${minMs}ms`);
  return ms;
};
const bytes = (min: number) => (v: string) => {
  const n = parseBytes(v);
  if (n < min) throw new RangeError(`"${v}" is smaller than ${min} bytes`);
  return n;
};
const boolean = (v: string) => {
  const t = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off", ""].includes(t)) return false;
  throw new RangeError(`"${v}" is not true or false`);
};
const oneOf = <T extends string>(...choices: T[]) => (v: string): T => {
  if (!(choices as string[]).includes(v)) {
    throw new RangeError(`"${v}" is not one of ${choices.join(", ")}`);
  }
  return v as T;
};
const listenAddress = (v: string) => {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) > 65535) {
    throw new RangeError(`"${v}" is not host:port (e.g. 127.0.0.1:9797)`);
  }
  return { hostname: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
};

interface Setting<T> {
  flag: string;
  parse: Parser<T>;
  default: string;
  /** Shown in --help and the README; the value's form in angle brackets when not obvious. */
  help: string;
  boolean?: true;
}

function setting<T>(
  flag: string,
  parse: Parser<T>,
  defaultText: string,
  help: string,
): Setting<T> {
  return { flag, parse, default: defaultText, help };
}

/** The table of settings. The order is the order of --help and the README. */
export const SETTINGS = {
  hostRoot: setting(
    "host-root",
    nonEmpty,
    "/",
    "Root of the host filesystem; /host in a debug pod",
  ),
  hostname: setting("hostname", text, "", "Node host name in stored paths (default: the host's)"),
  kubeconfig: setting("kubeconfig", text, "", "Kubeconfig path (default: found from the kubelet)"),
  kubeconfigWait: setting(
    "kubeconfig-wait",
    duration(0),
    "5m",
    "How long to wait for a kubeconfig before running host-only (it keeps looking every 30 s)",
  ),
  kubeInsecure: {
    ...setting(
      "kube-insecure",
      boolean,
      "false",
      "Ask to skip API server certificate checks (warns; Deno still verifies per client)",
    ),
    boolean: true,
  },
  kubeAllowHttp: {
    ...setting(
      "kube-allow-http",
      boolean,
      "false",
      "Allow an http:// API server (the node's credentials would cross the network in clear)",
    ),
    boolean: true,
  },
  nodeName: setting("node-name", text, "", "Node name (default: learned from the API server)"),
  crictl: setting("crictl", nonEmpty, "crictl", "crictl executable"),
  runtimeEndpoint: setting("runtime-endpoint", text, "", "CRI endpoint passed to crictl"),
  crictlTimeout: setting("crictl-timeout", duration(100), "10s", "Kill a crictl run after this"),
  portStart: setting("port-start", integer(1, 65535), "53700", "First coverage server port"),
  portSpan: setting("port-span", integer(1, 1000), "100", "How many ports from --port-start"),
  scanInterval: setting("scan-interval", duration(500), "10s", "Time between discovery scans"),
  pullSchedule: setting(
    "pull-schedule",
    parseSchedule,
    "1s@10s,5s@5m,10s",
    "Pull intervals by server age: <every>@<until>,...,<every>",
  ),
  pullIdle: setting(
    "pull-idle",
    parseIdleRule,
    "off",
    "<every>@<after>: a server that covered nothing new for <after> is pulled every <every>",
  ),
  storeRefresh: setting(
    "store-refresh",
    duration(0),
    "20m",
    "Store counters that only counted more on covered code at most this often (0: every change)",
  ),
  probeTimeout: setting("probe-timeout", duration(50), "2s", "Timeout of a HEAD identity probe"),
  pullTimeout: setting("pull-timeout", duration(100), "30s", "Timeout of one coverage pull"),
  maxBody: setting("max-body", bytes(1024), "64MiB", "Largest coverage response accepted"),
  maxPulls: setting(
    "max-pulls",
    integer(1, 1000),
    "8",
    "Most coverage pulls in flight at once, node-wide",
  ),
  pullMemory: setting(
    "pull-memory",
    bytes(65536),
    "32MiB",
    "Most coverage body bytes held at once, node-wide (taken as they arrive)",
  ),
  sink: setting(
    "sink",
    oneOf("auto", "s3", "dir"),
    "auto",
    "auto (S3 when credentials exist) | s3 | dir",
  ),
  outputDir: setting("output-dir", nonEmpty, "coverage-data", "Directory of the dir sink"),
  stateDir: setting(
    "state-dir",
    nonEmpty,
    "coverage-state",
    "Directory for the S3 spool and state",
  ),
  spoolMax: setting("spool-max", bytes(0), "256MiB", "Most bytes kept in the S3 spool"),
  spoolPodMax: setting(
    "spool-pod-max",
    bytes(0),
    "64MiB",
    "Most bytes one pod (or host binary) keeps in the S3 spool (0: --spool-max alone bounds it)",
  ),
  credentialsFile: setting(
    "credentials-file",
    text,
    "",
    "Registry auth file with the S3 entry (default: the node's)",
  ),
  s3Endpoint: setting("s3-endpoint", text, "", "S3-compatible endpoint URL (default: AWS)"),
  s3PathStyle: {
    ...setting("s3-path-style", boolean, "false", "Path-style S3 URLs (with --s3-endpoint)"),
    boolean: true,
  },
  healthAddr: setting(
    "health-addr",
    listenAddress,
    "127.0.0.1:9797",
    "Listen address of /healthz /readyz /metrics /status",
  ),
  shutdownTimeout: setting(
    "shutdown-timeout",
    duration(0),
    "10s",
    "Deadline for the final pull and exit",
  ),
  logLevel: setting("log-level", oneOf("debug", "info", "warn", "error"), "info", "Log level"),
  logFormat: setting(
    "log-format",
    oneOf("logfmt", "json"),
    "logfmt",
    "Log line format: logfmt | json",
  ),
} as const;

export type SettingKey = keyof typeof SETTINGS;

/** `port-start` → `COVERAGE_COLLECTOR_PORT_START`. */
export function envName(key: SettingKey): string {
  return `COVERAGE_COLLECTOR_${SETTINGS[key].flag.toUpperCase().replaceAll("-", "_")}`;
}

type Parsed = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]["parse"]> };

/** The validated configuration: its shape comes from the settings table. */
export const Config = z.custom<Parsed>().superRefine((c, ctx) => {
  if (c.portStart + c.portSpan - 1 > 65535) {
    ctx.addIssue({
      code: "custom",
      message: `--port-start ${c.portStart} with --port-span ${c.portSpan} goes past port 65535`,
    });
  }
  if (c.s3PathStyle && c.s3Endpoint === "") {
    ctx.addIssue({ code: "custom", message: "--s3-path-style needs --s3-endpoint" });
  }
  if (c.s3Endpoint !== "" && !/^https?:\/\/[^/]+/.test(c.s3Endpoint)) {
    ctx.addIssue({
      code: "custom",
      message: `--s3-endpoint "${c.s3Endpoint}" is not an http(s) URL`,
    });
  }
});
export type Config = z.infer<typeof Config>;

/** A setting's value could not be used; names the flag or variable and the value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Where a raw value came from, for error messages. */
export type Source = "flag" | "env" | "default";

/**
 * Builds the configuration from raw flag values and the environment.
 * Throws ConfigError naming every bad value with its source.
 *
 * @example loadConfig({ "port-start": "53800" }, {}).portStart // 53800
 */
export function loadConfig(
  flags: Record<string, string | boolean | undefined>,
  env: Record<string, string | undefined>,
): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const s = SETTINGS[key];
    const flagValue = flags[s.flag];
    const envValue = env[envName(key)];
    const [raw, where] = flagValue !== undefined
      ? [String(flagValue), `flag --${s.flag}`]
      : envValue !== undefined
      ? [envValue, `environment variable ${envName(key)}`]
      : [s.default, `default of --${s.flag}`];
    try {
      out[key] = s.parse(raw);
    } catch (e) {
      problems.push(`${where}: ${errorText(e)}`);
    }
  }
  if (problems.length === 0) {
    const checked = Config.safeParse(out);
    if (!checked.success) problems.push(...checked.error.issues.map((i) => i.message));
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  return out as Config;
}

/** The environment as the config wants it: only our variables. */
export function collectorEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k.startsWith("COVERAGE_COLLECTOR_")) env[k] = v;
  }
  return env;
}
