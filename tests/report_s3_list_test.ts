/**
 * `report` over S3 ends: a store whose ListObjectsV2 pagination loops (the same continuation
 * token again, or a cycle), claims more without a token, or pages on for ever is stopped with an
 * error naming bucket, prefix and token. The fault-injecting store is a small server on loopback
 * that answers as the real one does: its pages are checked against versitygw's, and the same
 * reader pages through versitygw one key at a time.
 */

import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { main } from "../src/app/cli.ts";
import { COMMANDS } from "../src/app/commands.ts";
import { S3ListError, S3Reader } from "../src/report/store.ts";
import { S3Sink } from "../src/sink/s3.ts";
import { canRunS3, s3SinkOf, startS3, writeRegistryAuth } from "./harness/s3.ts";

const BUCKET = "cov";
const PREFIX = "ci/run-1";
const KEYS = ["n/ns/p/c/20261122T100005Z/img/app/covmeta.x", "n/ns/p/c/20261122T100005Z/img/app/y"];

type Fault = "none" | "same-token" | "cycle" | "no-token" | "endless";

/** A ListObjectsV2 answer shaped as AWS's (and versitygw's). */
function listXml(keys: string[], truncated: boolean, token: string | undefined, next?: string) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${BUCKET}</Name><Prefix>${PREFIX}/</Prefix>${
    token ? `<ContinuationToken>${token}</ContinuationToken>` : ""
  }<KeyCount>${keys.length}</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>${truncated}</IsTruncated>${
    next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ""
  }${
    keys.map((k) =>
      `<Contents><Key>${PREFIX}/${k}</Key><LastModified>2026-11-22T10:00:05.000Z</LastModified><ETag>&quot;0&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>`
    ).join("")
  }</ListBucketResult>`;
}

/**
 * A store on loopback listing KEYS one per page, with `fault` in its pagination. It gives up
 * after 200 calls (answering "not truncated"), so a reader that does not stop ends anyway and
 * the test fails on the count instead of hanging.
 */
function faultyStore(fault: Fault) {
  const calls: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const q = new URL(req.url).searchParams;
    const token = q.get("continuation-token");
    calls.push(token);
    const n = calls.length;
    const at = token === null ? 0 : Number(token.replace(/\D/g, "")) || 0;
    const keys = fault === "endless" ? [`n/more-${n}`] : KEYS.slice(at, at + 1);
    let truncated = at + 1 < KEYS.length, next: string | undefined = `t${at + 1}`;
    if (fault === "same-token") [truncated, next] = [true, "t1"];
    if (fault === "cycle") {
      [truncated, next] = [true, token === "tB" ? "tA" : token === "tA" ? "tB" : "tA"];
    }
    if (fault === "no-token" && n >= 2) [truncated, next] = [true, undefined];
    if (fault === "endless") [truncated, next] = [true, `t${n}`];
    if (n >= 200) truncated = false;
    return new Response(
      listXml(keys, truncated, token ?? undefined, truncated ? next : undefined),
      {
        headers: { "content-type": "application/xml" },
      },
    );
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  const sink = new S3Sink({
    accessKey: "test",
    secretKey: "test-secret",
    region: "us-east-1",
    bucket: BUCKET,
    basePath: PREFIX,
    endpoint,
    pathStyle: true,
    retry: { attempts: 1 },
  });
  return { calls, endpoint, sink, close: () => server.shutdown() };
}

async function listAll(reader: S3Reader): Promise<string[]> {
  const out: string[] = [];
  for await (const page of reader.list(new AbortController().signal)) out.push(...page.keys);
  return out;
}

Deno.test("the fault-free fake store lists every key one page at a time", async () => {
  const s = faultyStore("none");
  try {
    assertEquals(await listAll(new S3Reader(s.sink, 1)), KEYS);
    assertEquals(s.calls, [null, "t1"]);
  } finally {
    await s.close();
  }
});

Deno.test("a store that repeats its continuation token is stopped at the repeat, naming bucket, prefix and token", async () => {
  for (const fault of ["same-token", "cycle"] as const) {
    const s = faultyStore(fault);
    try {
      await rejects(listAll(new S3Reader(s.sink, 1)), (e: Error) => {
        ok(e instanceof S3ListError, String(e));
        ok(e.message.includes(`s3://${BUCKET}/${PREFIX}`), e.message);
        ok(/token "t[1AB]" again/.test(e.message), e.message);
        return true;
      });
      assertEquals(s.calls.length, fault === "same-token" ? 2 : 3, `${fault}: ${s.calls}`);
    } finally {
      await s.close();
    }
  }
});

Deno.test("IsTruncated=true without a NextContinuationToken is an error, not a short listing", async () => {
  const s = faultyStore("no-token");
  try {
    await rejects(listAll(new S3Reader(s.sink, 1)), (e: Error) => {
      ok(e instanceof S3ListError, String(e));
      ok(/IsTruncated=true without a NextContinuationToken.*token "t1"/.test(e.message), e.message);
      return true;
    });
    assertEquals(s.calls.length, 2);
  } finally {
    await s.close();
  }
});

Deno.test("a store that pages on with fresh tokens is stopped at the page bound", async () => {
  const s = faultyStore("endless");
  try {
    await rejects(listAll(new S3Reader(s.sink, 1, { maxPages: 50 })), /after 50 list calls/);
    assertEquals(s.calls.length, 50);
    await rejects(listAll(new S3Reader(s.sink, 1, { maxKeys: 10 })), /more than 10 keys/);
  } finally {
    await s.close();
  }
});

Deno.test("report s3://... over a looping store exits 1 with the error on stderr", async () => {
  const s = faultyStore("same-token");
  const tmp = await Deno.makeTempDir({ prefix: "report-s3-loop-" });
  try {
    const auth = join(tmp, "auth.json");
    await writeRegistryAuth(auth, {
      accessKey: "test",
      secretKey: "test-secret",
      bucket: "other",
      region: "us-east-1",
    });
    const err: string[] = [];
    const code = await main(
      [
        "report",
        "--credentials-file",
        auth,
        "--s3-endpoint",
        s.endpoint,
        "--s3-path-style",
        `s3://${BUCKET}/${PREFIX}`,
      ],
      COMMANDS,
      { stdout: () => {}, stderr: (l) => err.push(l), env: {} },
    );
    assertEquals(code, 1, err.join("\n"));
    ok(
      err.some((l) => l.includes(`listing s3://${BUCKET}/${PREFIX}: `) && l.includes('"t1" again')),
      err.join("\n"),
    );
    assertEquals(s.calls.length, 2);
  } finally {
    await s.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test({
  name: "the real store (versitygw) pages as the fake does and lists through, one key a page",
  ignore: !await canRunS3(),
  async fn() {
    const s3 = await startS3();
    const fake = faultyStore("none");
    try {
      const pages: string[] = [];
      const sink = s3SinkOf(s3, {
        basePath: PREFIX,
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          if ((input instanceof Request ? input.url : String(input)).includes("list-type=2")) {
            pages.push(await res.clone().text());
          }
          return res;
        },
      });
      const keys = [...KEYS, "n/ns/p/c/20261122T100005Z/img/app/z"];
      for (const k of keys) await sink.put(k, new Uint8Array([1]));
      const reader = new S3Reader(sink, 1);
      assertEquals((await listAll(reader)).sort(), [...keys].sort());
      ok(reader.pages >= keys.length, `${reader.pages} pages`);
      // The fake's truncated page uses only elements the real one has, with the same meaning.
      const tags = (xml: string) =>
        new Set([...xml.matchAll(/<([A-Za-z]+)[ >]/g)].map((m) => m[1]));
      const real = pages.find((p) => /<IsTruncated>true<\/IsTruncated>/.test(p));
      ok(real && /<NextContinuationToken>[^<]+<\/NextContinuationToken>/.test(real), real);
      const realTags = tags(real), fakeTags = tags(listXml([KEYS[0]], true, undefined, "t1"));
      assertEquals([...fakeTags].filter((t) => !realTags.has(t)), []);
      assertEquals(await listAll(new S3Reader(fake.sink, 1)), KEYS);
    } finally {
      await fake.close();
      await s3.close();
    }
  },
});
