/** Errors as text for logs, /status and messages; the usage mistake every command may throw. */

/**
 * The message of an error, or the value as text when something else was thrown.
 *
 * @example errorText(new Error("boom")) // "boom"
 */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A usage mistake: exit code 2 with one line. */
export class UsageError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = "UsageError";
  }
}
