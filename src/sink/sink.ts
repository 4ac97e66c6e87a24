/** Where coverage files go: one interface for S3 and a local directory. */

/** A stored object could not be written. `permanent` faults (S3 403, a bad bucket) are configuration
 * errors that retrying will not fix. */
export class SinkError extends Error {
  constructor(message: string, readonly permanent: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "SinkError";
  }
}

/**
 * The store refused this one object for itself (a 4xx that is not about credentials, the bucket
 * or throttling: a key too long, a name the store cannot hold...). Other objects can still be
 * stored: the object is dropped and reported, never retried in a loop.
 *
 * @example new KeyRejectedError("S3 PUT .../k answered 400 KeyTooLongError", "a/k")
 */
export class KeyRejectedError extends SinkError {
  constructor(message: string, readonly key: string, options?: ErrorOptions) {
    super(message, true, options);
    this.name = "KeyRejectedError";
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
  /**
   * True (once per drop) when `key` was accepted earlier (spooled) and then dropped without being
   * stored: evicted from a full spool, or refused by the store. The caller writes it again.
   */
  dropped?(key: string): boolean;
  /** Entries of the sink's in-memory maps (the soak benchmark watches them). */
  sizes?(): Record<string, number>;
  /** Facts for /status (bytes spooled, last error...). */
  status?(): Record<string, unknown>;
}
