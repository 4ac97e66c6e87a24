/** Structured logging: one line per event, logfmt or JSON, with bound fields. */

import { secrets } from "./secrets.ts";
import { firstUnsafe, safeJson, safeText } from "./terminal_text.ts";

export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Longest text a log field keeps: what a pod calls itself (a 64 KB binary header) is its choice. */
export const MAX_FIELD_CHARS = 1024;

/**
 * A field's text bounded to MAX_FIELD_CHARS, with how much was cut. A text to be cut has its known
 * secrets masked first, so a cut never leaves the start of one behind.
 *
 * @example boundedText("x".repeat(1100)) // 1024 x, then "…(+76 chars)"
 */
export function boundedText(text: string): string {
  if (text.length <= MAX_FIELD_CHARS) return text; // the whole line is redacted when written
  const s = secrets.redact(text);
  return s.length <= MAX_FIELD_CHARS
    ? s
    : `${s.slice(0, MAX_FIELD_CHARS)}…(+${s.length - MAX_FIELD_CHARS} chars)`;
}

function boundedField(v: unknown): unknown {
  if (typeof v === "string") return boundedText(v);
  if (v instanceof Error) return boundedText(v.message);
  return v;
}

/** Keys whose values are never written, whatever a caller passes. */
const SECRET_KEY = /secret|password|token|authorization|credential|private|^auth$|^key$/i;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line (e.g. the target of a collector). */
  with(fields: Fields): Logger;
}

export interface LoggerOptions {
  level?: Level;
  format?: "logfmt" | "json";
  /** Leave out the time stamp (journald stamps lines itself). */
  timestamps?: boolean;
  write?: (line: string) => void;
  now?: () => Date;
}

/**
 * Creates a logger.
 *
 * @example createLogger({ write: console.log }).info("scan done", { servers: 3 })
 * // ts=2026-11-22T10:00:00.000Z level=info msg="scan done" servers=3
 */
export function createLogger(opts: LoggerOptions = {}, bound: Fields = {}): Logger {
  const {
    level = "info",
    format = "logfmt",
    timestamps = true,
    write = (line: string) => console.error(line),
    now = () => new Date(),
  } = opts;
  const emit = (lvl: Level, msg: string, fields: Fields = {}) => {
    if (RANK[lvl] < RANK[level]) return;
    const record: Fields = {};
    if (timestamps) record.ts = now().toISOString();
    record.level = lvl;
    record.msg = msg;
    for (const [k, v] of Object.entries({ ...bound, ...fields })) {
      if (v === undefined) continue;
      record[k] = SECRET_KEY.test(k) ? "[redacted]" : boundedField(v);
    }
    // Known secret values never leave, whatever a field or a peer's quoted message holds.
    write(secrets.redact(format === "json" ? safeJson(record, jsonValue) : toLogfmt(record)));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

function jsonValue(_key: string, v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === "bigint") return v.toString();
  return v;
}

function logfmtValue(v: unknown): string {
  const s = v instanceof Error
    ? v.message
    : typeof v === "string"
    ? v
    : typeof v === "object" && v !== null
    ? JSON.stringify(v, jsonValue)
    : String(v);
  // A control (C0, DEL, C1, U+2028/2029) is quoted and escaped: never a raw byte to a terminal.
  return s === "" || /[\s"=\\]/.test(s) || firstUnsafe(s) >= 0 ? safeJson(s) : s;
}

/** Renders a record as `k=v k2="v 2"`. @example toLogfmt({a: 1, b: "x y"}) // 'a=1 b="x y"' */
export function toLogfmt(record: Fields): string {
  return Object.entries(record).map(([k, v]) => `${safeText(k)}=${logfmtValue(v)}`).join(" ");
}

/** A logger that writes nothing, for tests and library defaults. */
export const silentLogger: Logger = createLogger({ write: () => {} });

/**
 * Remembers which errors were already logged, so a fault that repeats every scan is logged once
 * and again only when it changes or clears.
 */
export class OnceLog {
  #last = new Map<string, string>();

  /** True when `message` differs from the last one logged under `key`. */
  changed(key: string, message: string): boolean {
    if (this.#last.get(key) === message) return false;
    this.#last.set(key, message);
    return true;
  }

  /** True when `key` had a problem that has now cleared. */
  cleared(key: string): boolean {
    return this.#last.delete(key);
  }
}
