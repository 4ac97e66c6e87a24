/**
 * The answer to a ListObjectsV2 request: its keys and continuation token, read from the XML
 * with the entities S3 uses decoded.
 */

function xmlText(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    if (e in named) return named[e];
    const code = e.startsWith("#x") ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : "\uFFFD";
  });
}

/** One page of a listing: keys relative to the prefix; `truncated` when the store says more follow
 * (`next` is its continuation token, absent when the store gave none). */
export interface ListPage {
  keys: string[];
  next?: string;
  truncated: boolean;
}

/**
 * Keys (relative to `prefix`) and the continuation token of a ListObjectsV2 answer.
 *
 * @example parseListPage("<Key>b/x</Key>", "b/") // { keys: ["x"], next: undefined, truncated: false }
 */
export function parseListPage(xml: string, prefix: string): ListPage {
  const keys: string[] = [];
  for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) {
    const key = xmlText(m[1]);
    if (key.startsWith(prefix) && key.length > prefix.length) keys.push(key.slice(prefix.length));
  }
  const truncated = /<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml);
  const token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
  return { keys, next: truncated && token ? xmlText(token) : undefined, truncated };
}
