import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { MAX_ETAG_CHARS, parseListPage } from "./s3_list.ts";

const MD5 = "8763c4c248a72f72e8982b14bd46d8c4";

function contents(inner: string[]): string {
  return `<ListBucketResult><IsTruncated>false</IsTruncated>${
    inner.map((x) => `<Contents>${x}</Contents>`).join("")
  }</ListBucketResult>`;
}

Deno.test("parseListPage gives each key the ETag of its own <Contents>, entities decoded", () => {
  const page = parseListPage(
    contents([
      `<Key>b/x</Key><LastModified>2026-11-22T10:00:05.000Z</LastModified><ETag>&quot;${MD5}&quot;</ETag>`,
      `<Key>b/no-etag</Key><Size>1</Size>`,
      `<ETag>&#34;${MD5}-3&#34;</ETag><Key>b/etag-first</Key>`,
      `<Key>other/y</Key><ETag>"${MD5}"</ETag>`,
      `<Key>b/z</Key><ETag>"1"</ETag><ETag>"2"</ETag>`,
    ]),
    "b/",
  );
  assertEquals(page.keys, ["x", "no-etag", "etag-first", "z"]);
  assertEquals(page.etags, [`"${MD5}"`, undefined, `"${MD5}-3"`, '"1"']);
});

Deno.test("parseListPage drops an ETag past MAX_ETAG_CHARS (the key stays, as without one)", () => {
  const long = `"${"a".repeat(MAX_ETAG_CHARS)}"`;
  const entity = "&amp;".repeat(MAX_ETAG_CHARS * 2);
  const page = parseListPage(
    contents([
      `<Key>b/long</Key><ETag>${long}</ETag>`,
      `<Key>b/entities</Key><ETag>${entity}</ETag>`,
      `<Key>b/ok</Key><ETag>"${"a".repeat(MAX_ETAG_CHARS - 2)}"</ETag>`,
    ]),
    "b/",
  );
  assertEquals(page.keys, ["long", "entities", "ok"]);
  assertEquals(page.etags, [undefined, undefined, `"${"a".repeat(MAX_ETAG_CHARS - 2)}"`]);
});
