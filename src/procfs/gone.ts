/** Errors that mean "the process or file is gone": normal while scanning /proc. */

/**
 * True when `e` says a /proc entry vanished (process exited: ENOENT, ESRCH) or cannot be read
 * for a reason that only affects that one entry (EACCES on another user's process, EINVAL on
 * a zombie's link).
 *
 * @example isGone(new Deno.errors.NotFound("x")) // true
 */
export function isGone(e: unknown): boolean {
  if (e instanceof Deno.errors.NotFound) return true;
  if (e instanceof Deno.errors.PermissionDenied) return true;
  const code = osErrorCode(e);
  return code === "ESRCH" || code === "ENOENT" || code === "EACCES" || code === "EINVAL" ||
    code === "ENOTDIR";
}

/** The errno names that reading /proc can meet, by number (Linux). */
const ERRNO: Record<string, string> = {
  "2": "ENOENT",
  "3": "ESRCH",
  "13": "EACCES",
  "20": "ENOTDIR",
  "22": "EINVAL",
};

/**
 * The errno name of a failed file operation: its `code`, or the `(os error N)` of its message —
 * Deno 2.9 throws a plain Error without a code for some, e.g. ESRCH when reading a zombie's
 * /proc/<pid>/environ.
 *
 * @example osErrorCode(new Error("No such process (os error 3): readfile '/proc/7/environ'")) // "ESRCH"
 */
export function osErrorCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const n = /\(os error (\d+)\)/.exec(e.message)?.[1];
  return n === undefined ? undefined : ERRNO[n];
}
