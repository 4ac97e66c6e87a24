/**
 * The windows file of `report --windows FILE`: one named window a line, `name start end`, times
 * in RFC 3339 (`2026-12-02T10:00:00Z`, `2026-12-02T11:00:00.250+01:00`); `#` starts a comment,
 * blank lines are skipped. Windows may overlap. The file is what a user (or a CI script) wrote:
 * every line is checked, and a bad one is a WindowsError naming file:line and what was wrong.
 */

import { firstUnsafe, safeText } from "../terminal_text.ts";

/** A named time window: first coverage at a pull `at` with `start < at <= end` is in it. */
export interface Window {
  name: string;
  /** Milliseconds since the epoch. */
  start: number;
  end: number;
}

/** Largest windows file read (bytes). */
export const MAX_WINDOWS_BYTES = 1 << 20;
/** Windows a file may list at most. */
export const MAX_WINDOWS = 10_000;
/** Longest window name (characters). */
export const MAX_WINDOW_NAME = 200;

/** A windows file is malformed: `file:line: what`. */
export class WindowsError extends Error {
  constructor(readonly file: string, readonly line: number, what: string) {
    super(`${safeText(file)}${line > 0 ? `:${line}` : ""}: ${what}`);
    this.name = "WindowsError";
  }
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function quoted(s: string): string {
  return JSON.stringify(safeText(s.length > 80 ? `${s.slice(0, 80)}…` : s));
}

/**
 * Milliseconds since the epoch of an RFC 3339 date-time, or a reason it is not one (fields out of
 * range, such as February 30 or hour 24, are refused rather than rolled over).
 *
 * @example rfc3339("2026-12-02T10:00:00Z") // 1796205600000
 */
export function rfc3339(s: string): number | string {
  const m = RFC3339.exec(s);
  if (!m) return "is not an RFC 3339 time (like 2026-12-02T10:00:00Z)";
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12) return `has month ${mo}`;
  if (d < 1 || d > days) return `has day ${d} (month ${mo} of ${y} has ${days})`;
  if (h > 23 || mi > 59 || se > 59) {
    return `has time ${m[4]}:${m[5]}:${m[6]} (leap seconds not taken)`;
  }
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]), om = Number(m[11]);
    if (oh > 23 || om > 59) return `has offset ${m[9]}${m[10]}:${m[11]}`;
    offset = (m[9] === "+" ? 1 : -1) * (oh * 60 + om) * 60_000;
  }
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  return Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset;
}

/**
 * The windows of a file's text; `file` names it in errors.
 *
 * @example parseWindows("install 2026-12-02T10:00:00Z 2026-12-02T10:05:00Z\n", "w.txt")[0].name // "install"
 */
export function parseWindows(text: string, file: string): Window[] {
  const out: Window[] = [];
  const names = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].replace(/\r$/, "");
    const hash = line.indexOf("#");
    const body = (hash < 0 ? line : line.slice(0, hash)).trim();
    if (body === "") continue;
    const fields = body.split(/[ \t]+/);
    if (fields.length !== 3) {
      throw new WindowsError(
        file,
        n,
        `${fields.length} fields, want 3: name start end (RFC 3339 times)`,
      );
    }
    const [name, from, to] = fields;
    const bad = firstUnsafe(name);
    if (bad >= 0) {
      throw new WindowsError(file, n, `window name ${quoted(name)} holds a control character`);
    }
    if (name.length > MAX_WINDOW_NAME) {
      throw new WindowsError(
        file,
        n,
        `window name ${quoted(name)} is ${name.length} characters (at most ${MAX_WINDOW_NAME})`,
      );
    }
    const first = names.get(name);
    if (first !== undefined) {
      throw new WindowsError(file, n, `window ${quoted(name)} is listed already at line ${first}`);
    }
    const start = rfc3339(from), end = rfc3339(to);
    if (typeof start === "string") {
      throw new WindowsError(file, n, `start ${quoted(from)} of ${quoted(name)} ${start}`);
    }
    if (typeof end === "string") {
      throw new WindowsError(file, n, `end ${quoted(to)} of ${quoted(name)} ${end}`);
    }
    if (end <= start) {
      throw new WindowsError(file, n, `window ${quoted(name)} ends at or before it starts`);
    }
    if (out.length >= MAX_WINDOWS) {
      throw new WindowsError(file, n, `more than ${MAX_WINDOWS} windows`);
    }
    names.set(name, n);
    out.push({ name, start, end });
  }
  return out;
}

/**
 * Reads and parses a windows file (at most MAX_WINDOWS_BYTES, UTF-8).
 *
 * @example const windows = await readWindows("phases.txt");
 */
export async function readWindows(file: string): Promise<Window[]> {
  let bytes: Uint8Array;
  try {
    using f = await Deno.open(file);
    const size = (await f.stat()).size;
    if (size > MAX_WINDOWS_BYTES) {
      throw new WindowsError(file, 0, `${size} bytes, over the ${MAX_WINDOWS_BYTES}-byte limit`);
    }
    bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = await f.read(bytes.subarray(at));
      if (n === null) break;
      at += n;
    }
    bytes = bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof WindowsError) throw e;
    throw new WindowsError(file, 0, e instanceof Error ? e.message : String(e));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new WindowsError(file, 0, "is not UTF-8 text");
  }
  return parseWindows(text, file);
}
