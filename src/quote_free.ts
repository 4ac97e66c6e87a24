/**
 * Parse errors without the input. JSON.parse's and the yaml package's messages quote the text
 * around the fault, and in a kubeconfig or an auth file that text can be a token or a key.
 */

/**
 * Where JSON.parse failed, never what it read: "at line 3, column 14" (or "at position 42").
 *
 * @example jsonErrorPlace(new SyntaxError(`Unexpected token 'x', "{x" is not valid JSON`)) // "invalid JSON"
 */
export function jsonErrorPlace(e: unknown): string {
  const msg = e instanceof Error ? e.message : "";
  const lc = /\(line (\d+) column (\d+)\)/.exec(msg);
  if (lc) return `invalid at line ${lc[1]}, column ${lc[2]}`;
  const pos = /at position (\d+)/.exec(msg);
  if (pos) return `invalid at position ${pos[1]}`;
  if (/end of JSON input/i.test(msg)) return "ends too early";
  return "invalid JSON";
}

/**
 * The yaml package's error as code and place, never the quoted source line:
 * "BAD_INDENT at line 3, column 5".
 *
 * @example yamlErrorPlace(e) // "BLOCK_AS_IMPLICIT_KEY at line 12, column 5"
 */
export function yamlErrorPlace(e: unknown): string {
  const err = e as { code?: unknown; linePos?: Array<{ line: number; col: number }> };
  const code = typeof err?.code === "string" && /^[A-Z_]{1,40}$/.test(err.code)
    ? err.code
    : "syntax error";
  const at = err?.linePos?.[0];
  return at ? `${code} at line ${at.line}, column ${at.col}` : code;
}
