/** Errors as text for logs, /status and messages. */

/**
 * The message of an error, or the value as text when something else was thrown.
 *
 * @example errorText(new Error("boom")) // "boom"
 */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
