/** Where coverage files go: one interface for S3 and a local directory. */

/** A stored object could not be written. `permanent` faults (S3 403, a bad bucket) are configuration
 * errors that retrying will not fix. */
export class SinkError extends Error {
  constructor(message: string, readonly permanent: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "SinkError";
  }
}

export interface Sink {
  /** `s3://bucket/base` or `dir:/path`, for logs and /status (never a secret). */
  readonly description: string;
  /**
   * Stores `data` under `key`, a relative path of safe segments joined by `/`
   * (`host/ns/pod/container/time/image/binary/file`). Resolves when the bytes are durable
   * (stored, or spooled to local disk to be retried). Throws SinkError otherwise.
   */
  put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Background work (spool drain); resolves when `signal` aborts. */
  run?(signal: AbortSignal): Promise<void>;
  /** Objects kept locally, not yet in the store (a spool); 0 or absent when none. */
  pending?(): number;
  /** Tries to send what is kept locally, now; resolves with how many objects are left. */
  flush?(signal: AbortSignal): Promise<number>;
  /** Facts for /status (bytes spooled, last error...). */
  status?(): Record<string, unknown>;
}
