/**
 * `report` over S3 reads each build's meta-data once, not once per prefix: the listing's ETag of
 * a covmeta copy equal to that of a copy already read and verified stands for the same bytes. A
 * forged copy (claiming the real hash with other bytes, so another ETag) is still read and is
 * that prefix's error. GETs are counted on the wire (the S3Sink's fetch) against versitygw.
 */

import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { readStore } from "../src/report/read.ts";
import { S3Reader } from "../src/report/store.ts";
import type { S3Sink } from "../src/sink/s3.ts";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { encodeMetaFile, ONE_BLOCK_BUILD, realHash } from "./harness/metafile.ts";
import { canRunS3, type S3Server, s3SinkOf, startS3 } from "./harness/s3.ts";

const BUILD = ONE_BLOCK_BUILD;
const META = encodeMetaFile(BUILD);
const HASH = realHash(BUILD);
/** One function of 3 statements, its header claiming BUILD's hash. */
const FORGED = encodeMetaFile({
  ...BUILD,
  packages: [{
    ...BUILD.packages[0],
    functions: [{
      ...BUILD.packages[0].functions[0],
      units: [{ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 3 }],
    }],
  }],
}, { claim: HASH });
const N = 40;
const BASE = "ci/etag";

/** An S3Sink of `s3` under BASE counting the GETs of covmeta objects it sends. */
function countingSink(s3: S3Server): { sink: S3Sink; metaGets: () => number } {
  let gets = 0;
  const sink = s3SinkOf(s3, {
    basePath: BASE,
    retry: { attempts: 1 },
    fetch: (input, init) => {
      const req = input instanceof Request ? input : undefined;
      const url = req?.url ?? String(input);
      const method = init?.method ?? req?.method ?? "GET";
      if (method === "GET" && /\/covmeta\.[0-9a-f]{32}$/.test(new URL(url).pathname)) gets++;
      return fetch(input, init);
    },
  });
  return { sink, metaGets: () => gets };
}

async function storePrefix(sink: S3Sink, dir: string, meta: Uint8Array, pid: number) {
  await sink.put(`${dir}/covmeta.${HASH}`, meta);
  await sink.put(
    `${dir}/covcounters.${HASH}.${pid}.1`,
    encodeCounterFile({ hash: HASH, functions: [{ pkgIdx: 0, funcIdx: 0, counters: [1] }] }),
  );
  await sink.put(`${dir}/info.json`, new TextEncoder().encode("{}\n"));
}

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

Deno.test({
  name: "report over S3: one GET of a build's covmeta for N prefixes; a forged copy is " +
    "still read and named, the real prefixes read fine",
  ignore: !await canRunS3(),
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    const s3 = await startS3();
    try {
      const { sink, metaGets } = countingSink(s3);
      for (let i = 0; i < N; i++) {
        await storePrefix(sink, `node/ns/pod-${i}/c/20261122T100005Z/img/app`, META, i + 1);
      }
      // versitygw lists each object's ETag, the quoted MD5 of what was PUT.
      const page = await sink.listPage(undefined, new AbortController().signal);
      const metaAt = page.keys.findIndex((k) => k.endsWith(`covmeta.${HASH}`));
      ok(metaAt >= 0, page.keys.join(", "));
      assertEquals(page.etags?.[metaAt], `"${md5(META)}"`);

      const r = await readStore(new S3Reader(sink), { concurrency: 8 });
      assertEquals([r.found, r.taken, r.errors], [N, N, []]);
      assertEquals([r.binaries.length, r.binaries[0].prefixes], [1, N]);
      assertEquals([...r.binaries[0].profile.funcs[0][0]!], [N]);
      assertEquals(metaGets(), 1, `${metaGets()} GETs of covmeta for ${N} prefixes`);

      // A forged copy claiming the real hash, in a prefix that sorts (and is read) first.
      const forgedDir = "a-node/_host_/20261122T100005Z/forger";
      await storePrefix(sink, forgedDir, FORGED, 9999);
      const before = metaGets();
      const again = await readStore(new S3Reader(sink), { concurrency: 8 });
      assertEquals(again.errors.map((e) => e.prefix), [forgedDir]);
      match(again.errors[0].error, /contents hash to/);
      assertEquals([again.binaries.length, again.binaries[0].prefixes], [1, N]);
      assertEquals(again.binaries[0].profile.meta.hash, HASH);
      assertEquals([...again.binaries[0].profile.funcs[0][0]!], [N]);
      // The real build once, the forgery once.
      assertEquals(metaGets() - before, 2);
    } finally {
      await s3.close();
    }
  },
});
