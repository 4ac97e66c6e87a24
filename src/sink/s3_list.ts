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
 * (`next` is its continuation token, absent when the store gave none). `etags[i]` is the ETag
 * the store gave for `keys[i]` (undefined when it gave none, or one past MAX_ETAG_CHARS). */
export interface ListPage {
  keys: string[];
  etags: (string | undefined)[];
  next?: string;
  truncated: boolean;
}

/** Longest ETag kept (a plain MD5 one is 34 characters, a multipart one a few more); a longer
 * one is the store's nonsense and dropped, so the key is read as if it had none. */
export const MAX_ETAG_CHARS = 128;

/**
 * Keys (relative to `prefix`), their ETags and the continuation token of a ListObjectsV2 answer.
 * An ETag belongs to the key of its `<Contents>` element; both are read in one linear pass.
 *
 * @example parseListPage("<Contents><Key>b/x</Key><ETag>&quot;0&quot;</ETag></Contents>", "b/")
 * // { keys: ["x"], etags: ['"0"'], next: undefined, truncated: false }
 */
export function parseListPage(xml: string, prefix: string): ListPage {
  const keys: string[] = [];
  const etags: (string | undefined)[] = [];
  // Per <Contents>: whether its key was taken (and at which index), and an ETag seen before it.
  let at = -1, keySeen = false, early: string | undefined;
  for (const m of xml.matchAll(/<Contents>|<(Key|ETag)>([^<]*)<\/\1>/g)) {
    if (m[1] === undefined) {
      [at, keySeen, early] = [-1, false, undefined];
    } else if (m[1] === "Key") {
      const key = xmlText(m[2]);
      keySeen = true;
      at = -1;
      if (key.startsWith(prefix) && key.length > prefix.length) {
        at = keys.push(key.slice(prefix.length)) - 1;
        etags.push(early);
      }
      early = undefined;
    } else {
      const tag = m[2].length <= MAX_ETAG_CHARS * 6 ? xmlText(m[2]) : undefined;
      const etag = tag !== undefined && tag.length <= MAX_ETAG_CHARS ? tag : undefined;
      if (!keySeen) early = etag;
      else if (at >= 0 && etags[at] === undefined) etags[at] = etag;
    }
  }
  const truncated = /<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml);
  const token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
  return { keys, etags, next: truncated && token ? xmlText(token) : undefined, truncated };
}
