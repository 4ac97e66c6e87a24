/**
 * Secret values the process holds (bearer token, client key, S3 keys), so that text leaving the
 * process (log lines, the health endpoint's answers) never carries one, even when a peer quotes
 * it back in an error message. Parsers already never quote their input; this is the last net.
 */

/** Shorter values are not tracked: hiding every "t" would garble the log and protect nothing. */
const MIN_LENGTH = 8;
const MASK = "[redacted]";

/** A set of secret values and a redactor for them. */
export class Secrets {
  #values = new Set<string>();

  /**
   * Remembers a secret. PEM text is remembered line by line too (a quote may hold one line).
   *
   * @example secrets.add(creds.token)
   */
  add(value: string | undefined): void {
    if (value === undefined) return;
    const trimmed = value.trim();
    if (trimmed.length >= MIN_LENGTH) this.#values.add(trimmed);
    if (!trimmed.includes("\n")) return;
    for (const line of trimmed.split(/\r?\n/)) {
      const l = line.trim();
      if (l.length >= MIN_LENGTH && !l.startsWith("-----")) this.#values.add(l);
    }
  }

  /**
   * `text` with every known secret replaced by `[redacted]`.
   *
   * @example secrets.redact("HTTP 401: bad token abcdefgh123") // "HTTP 401: bad token [redacted]"
   */
  redact(text: string): string {
    let out = text;
    for (const v of this.#values) if (out.includes(v)) out = out.replaceAll(v, MASK);
    return out;
  }

  get size(): number {
    return this.#values.size;
  }
}

/** The process's secrets: one set, filled where credentials are loaded, read where text leaves. */
export const secrets: Secrets = new Secrets();
