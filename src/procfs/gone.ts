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
  if (e instanceof Error && "code" in e) {
    const code = (e as { code?: unknown }).code;
    return code === "ESRCH" || code === "ENOENT" || code === "EACCES" || code === "EINVAL" ||
      code === "ENOTDIR";
  }
  return false;
}
