/**
 * How a Kubernetes API request fails: the server answered with an error status (with its own
 * words, read from a `Status` body when it sent one), or it could not be reached in time.
 */

import { z } from "zod";

/** The API server answered with an error status. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    /** The API server's own words (`Status.message`) or the start of the body. */
    readonly apiMessage: string,
    readonly reason?: string,
  ) {
    super(`${method} ${url}: HTTP ${status}${reason ? ` ${reason}` : ""}: ${apiMessage}`);
    this.name = "KubeApiError";
  }
}

/** The API server could not be reached, or did not answer in time. */
export class KubeNetworkError extends Error {
  constructor(readonly method: string, readonly url: string, detail: string) {
    super(`${method} ${url}: ${detail}`);
    this.name = "KubeNetworkError";
  }
}

/** True for errors worth retrying: network trouble, 5xx, 429. @example isRetryable(new KubeApiError(503, "GET", u, "")) // true */
export function isRetryable(e: unknown): boolean {
  if (e instanceof KubeNetworkError) return true;
  return e instanceof KubeApiError && (e.status >= 500 || e.status === 429);
}

const Status = z.looseObject({
  kind: z.literal("Status"),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

/**
 * The KubeApiError of an error answer: the API's `Status.message` and `reason` when the body is
 * a Status, else the start of the body. Reads at most 4 KiB of it.
 *
 * @example throw await apiErrorOf(res, "GET", url) // KubeApiError: GET …: HTTP 403 Forbidden: …
 */
export async function apiErrorOf(
  res: Response,
  method: string,
  url: string,
): Promise<KubeApiError> {
  const text = (await res.text()).slice(0, 4096);
  let message = text.trim().slice(0, 300);
  let reason: string | undefined;
  try {
    const st = Status.safeParse(JSON.parse(text));
    if (st.success) [message, reason] = [st.data.message ?? message, st.data.reason];
  } catch { /* not JSON: keep the text */ }
  return new KubeApiError(res.status, method, url, message, reason);
}

/**
 * An error's message and its causes', joined (a fetch failure's own message says little).
 *
 * @example causeText(new TypeError("fetch failed", { cause: new Error("refused") })) // "fetch failed: refused"
 */
export function causeText(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 4; c = c.cause) {
    parts.push(c.message);
  }
  return parts.join(": ") || String(e);
}
