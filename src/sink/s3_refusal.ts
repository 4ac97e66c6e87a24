/**
 * What an S3 error answer means for a write: retried (5xx, 429, 408, RequestTimeout), a refusal
 * of the store as a whole (credentials, bucket, region, policy: no write can succeed), or a
 * refusal of one object for itself (a key the store cannot hold).
 */

/**
 * The `<Code>` of an S3 XML error body, if any.
 *
 * @example s3ErrorCode("<Error><Code>NoSuchBucket</Code></Error>") // "NoSuchBucket"
 */
export function s3ErrorCode(body: string): string | undefined {
  return /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
}

/** S3 error codes about the store as a whole (credentials, signature, bucket, region). */
const STORE_CODES = new Set([
  "AccessDenied",
  "AccountProblem",
  "AllAccessDisabled",
  "AuthorizationHeaderMalformed",
  "ExpiredToken",
  "IllegalLocationConstraintException",
  "InvalidAccessKeyId",
  "InvalidBucketName",
  "InvalidBucketState",
  "InvalidToken",
  "MissingSecurityHeader",
  "NoSuchBucket",
  "PermanentRedirect",
  "Redirect",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
  "TemporaryRedirect",
]);

/**
 * Whom a non-retryable answer to a PUT is about: `store` (credentials, bucket, region, policy:
 * no write can succeed) or `key` (this object only: a key too long, an argument the store
 * refuses for this name). 401, 403, 405, redirects and the codes above are the store's.
 *
 * @example refusalScope(400, "KeyTooLongError") // "key"
 * @example refusalScope(403, "AccessDenied") // "store"
 */
export function refusalScope(status: number, code: string | undefined): "store" | "key" {
  if (status < 400 || status >= 500) return "store";
  if (status === 401 || status === 403 || status === 405) return "store";
  if (code !== undefined && STORE_CODES.has(code)) return "store";
  return "key";
}

/**
 * True for an answer worth trying again: the store is busy or failing, not refusing.
 *
 * @example retryableAnswer(503, undefined) // true
 * @example retryableAnswer(400, "RequestTimeout") // true
 */
export function retryableAnswer(status: number, code: string | undefined): boolean {
  return status >= 500 || status === 429 || status === 408 || code === "RequestTimeout";
}
