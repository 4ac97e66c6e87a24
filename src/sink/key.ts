/** Object keys: relative paths of safe segments, shared by the S3 and directory sinks. */

import { SinkError } from "./sink.ts";

/**
 * Splits a key into its segments, or throws a permanent SinkError when it is not a relative path
 * of safe single segments (no empty segment, no `.` or `..`, no leading `/`, no NUL or `\`).
 *
 * @example keySegments("host/ns/pod/covmeta.ab") // ["host", "ns", "pod", "covmeta.ab"]
 */
export function keySegments(key: string): string[] {
  const bad = (why: string) =>
    new SinkError(`unsafe object key ${JSON.stringify(key)}: ${why}`, true);
  if (key === "") throw bad("empty");
  if (key.startsWith("/")) throw bad("absolute (leading /)");
  const segments = key.split("/");
  for (const s of segments) {
    if (s === "") throw bad("empty segment");
    if (s === "." || s === "..") throw bad(`segment "${s}"`);
    if (s.includes("\0") || s.includes("\\")) throw bad("NUL or backslash in a segment");
  }
  return segments;
}

/** encodeURIComponent plus the marks it leaves alone, as SigV4's canonical URI wants (RFC 3986). */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * URI-encodes a key per segment (RFC 3986), keeping the `/` between segments.
 *
 * @example encodeKey("h/img:1@sha256/x") // "h/img%3A1%40sha256/x"
 */
export function encodeKey(key: string): string {
  return keySegments(key).map(encodeSegment).join("/");
}
