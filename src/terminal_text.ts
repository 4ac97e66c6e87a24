/**
 * Text that leaves the program (terminal, logs, /metrics, /status, reports) without the characters
 * a terminal or a line reader acts on. Names a pod or a stored file chose can hold anything: a
 * newline forges a line, ESC and C1 controls (U+009B is CSI) drive the terminal, U+2028/2029 end a
 * line in JavaScript readers, bidi overrides make text show other than it is.
 */

/**
 * True for a character that is escaped on output: C0 controls, DEL, C1 controls, the line and
 * paragraph separators, and the bidi embedding, override and isolate controls.
 *
 * @example isUnsafeChar(0x1b) // true
 */
export function isUnsafeChar(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/**
 * The index of the first unsafe character of `s`, or -1.
 *
 * @example firstUnsafe("a\nb") // 1
 */
export function firstUnsafe(s: string): number {
  for (let i = 0; i < s.length; i++) if (isUnsafeChar(s.charCodeAt(i))) return i;
  return -1;
}

function escapeAll(s: string, from: number, keep: (code: number) => boolean): string {
  let out = s.slice(0, from);
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isUnsafeChar(c) || keep(c)) out += s[i];
    else if (c < 0x100) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return out;
}

/**
 * `s` with every unsafe character written as `\xNN` or `\u{NNNN}` (visible, one line).
 *
 * @example safeText("bin\x1b[31m\n") // "bin\\x1b[31m\\x0a"
 */
export function safeText(s: string): string {
  const at = firstUnsafe(s);
  return at < 0 ? s : escapeAll(s, at, () => false);
}

/**
 * As safeText, but newlines stay (for messages of several lines written by the program itself).
 *
 * @example safeLines("a\nb\x9b2J") // "a\nb\\x9b2J"
 */
export function safeLines(s: string): string {
  const at = firstUnsafe(s);
  return at < 0 ? s : escapeAll(s, at, (c) => c === 0x0a);
}

/**
 * JSON.stringify, with the unsafe characters it leaves raw (DEL, C1, U+2028/2029, bidi controls)
 * written as `\uNNNN`: the same value to a JSON reader, no control byte to a terminal.
 *
 * @example safeJson({ name: "a\u009b2J" }) // '{"name":"a\\u009b2J"}'
 */
export function safeJson(
  value: unknown,
  replacer?: (this: unknown, key: string, value: unknown) => unknown,
  space?: number,
): string {
  const s = JSON.stringify(value, replacer, space);
  if (s === undefined) return s;
  const at = firstUnsafe(s);
  if (at < 0) return s;
  // Outside strings JSON has only ASCII structure and the whitespace of `space`: keep that.
  let out = s.slice(0, at);
  for (let i = at; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += isUnsafeChar(c) && c !== 0x0a ? `\\u${c.toString(16).padStart(4, "0")}` : s[i];
  }
  return out;
}
