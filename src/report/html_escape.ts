/** Escaping of text for the HTML report (content and attributes). */

import { safeText } from "../terminal_text.ts";

/**
 * Escapes text for HTML content and attributes, controls written visibly first (the page may be
 * read with `cat`).
 *
 * @example esc("<a>") // "&#60;a&#62;"
 */
export function esc(s: string): string {
  return safeText(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
