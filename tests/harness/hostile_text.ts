/** Names a hostile pod or store may choose, and the check that none of their controls got out. */

/** A newline, ESC CSI, an OSC 8 hyperlink, a C1 CSI (U+009B), a line separator, a bidi override. */
export const HOSTILE = {
  newline: "a\nb",
  esc: "\x1b[31mred\x1b[0m",
  osc8: "\x1b]8;;file:evil\x07click\x1b]8;;\x07", // no "/": it also names directories
  c1: "\u009b2J\u0085",
  lineSep: "l\u2028p\u2029",
  bidi: "\u202egnp.exe",
  del: "d\u007f",
} as const;

/** All of HOSTILE in one string. */
export const ALL_HOSTILE: string = Object.values(HOSTILE).join("|");

/**
 * Where `text` holds a character a terminal or line reader acts on (C0 but `\n` when
 * `newlines`, DEL, C1, U+2028/2029, bidi controls), as "U+001B at 12"; empty when none.
 */
export function rawControls(text: string, newlines = true): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a && newlines) continue;
    if (
      c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 ||
      (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
    ) out.push(`U+${c.toString(16).padStart(4, "0")} at ${i}`);
  }
  return out;
}
