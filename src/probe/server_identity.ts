/** The X-Art-Coverage-* identity headers of a coverage server. */

import type { Identity } from "../target.ts";

const PREFIX = "x-art-coverage-";

/** Why headers are not a coverage server's identity. */
export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityError";
  }
}

/**
 * Reads the identity from response headers. Returns null when `X-Art-Coverage-Server` is not `1`
 * (not a coverage server); throws IdentityError when it is one but the PID or binary is unusable.
 *
 * @example parseIdentity(new Headers({"x-art-coverage-server":"1","x-art-coverage-pid":"1",
 *   "x-art-coverage-binary":"kube-apiserver","x-art-coverage-source-commit":"abc"}))
 * // { binary: "kube-apiserver", pid: 1, extra: { source_commit: "abc" } }
 */
export function parseIdentity(headers: Headers): Identity | null {
  if (headers.get(`${PREFIX}server`)?.trim() !== "1") return null;
  const pidText = headers.get(`${PREFIX}pid`)?.trim() ?? "";
  if (!/^\d{1,10}$/.test(pidText)) {
    throw new IdentityError(`X-Art-Coverage-Pid "${pidText}" is not a PID`);
  }
  const binary = headers.get(`${PREFIX}binary`)?.trim() ?? "";
  if (binary === "") throw new IdentityError("X-Art-Coverage-Binary is missing");
  const extra: Record<string, string> = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(PREFIX)) continue;
    const key = lower.slice(PREFIX.length).replaceAll("-", "_");
    if (key === "server" || key === "pid" || key === "binary") continue;
    extra[key] = value;
  }
  return { binary, pid: Number(pidText), extra };
}

/** True when two identities are the same server program (binary and PID). */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.binary === b.binary && a.pid === b.pid;
}
