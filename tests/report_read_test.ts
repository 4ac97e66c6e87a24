/**
 * readStore's reading discipline with a store that records what it is asked: bounded
 * concurrency, a progress line on long reads, every prefix's meta-data checked (decoded once per
 * hash), and a stop.
 */

import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { readStore } from "../src/report/read.ts";
import type { StorePage, StoreReader } from "../src/report/store.ts";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { encodeMetaFile, ONE_BLOCK_BUILD, realHash } from "./harness/metafile.ts";

const BUILD = ONE_BLOCK_BUILD;
const META = encodeMetaFile(BUILD);
const HASH = realHash(BUILD);

/**
 * n prefixes in pages of 100 keys; reads resolve on the next macrotask, in-flight counted. With
 * `etag`, the listing gives it for every covmeta copy (as S3's does: they are the same bytes).
 */
class MemoryStore implements StoreReader {
  readonly description = "mem:test";
  readonly leafName = "mem";
  inFlight = 0;
  maxInFlight = 0;
  metaReads = 0;
  readonly files = new Map<string, Uint8Array>();
  constructor(n: number, readonly etag?: string) {
    for (let i = 0; i < n; i++) {
      const dir = `node/ns/pod-${i}/c/20261122T100005Z/img/app`;
      this.files.set(`${dir}/covmeta.${HASH}`, META);
      const counters = [i % 2];
      this.files.set(
        `${dir}/covcounters.${HASH}.${i}.1`,
        encodeCounterFile({ hash: HASH, functions: [{ pkgIdx: 0, funcIdx: 0, counters }] }),
      );
      this.files.set(`${dir}/info.json`, new Uint8Array());
    }
  }
  async *list(): AsyncIterable<StorePage> {
    const all = [...this.files.keys()];
    for (let i = 0; i < all.length; i += 100) {
      const keys = all.slice(i, i + 100);
      if (this.etag === undefined) yield { keys };
      else yield { keys, etags: keys.map((k) => k.includes("covmeta") ? this.etag : undefined) };
    }
  }
  async read(key: string): Promise<Uint8Array> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (key.includes("covmeta")) this.metaReads++;
    await new Promise((r) => setTimeout(r, 0));
    this.inFlight--;
    return this.files.get(key)!;
  }
}

Deno.test("readStore reads at most `concurrency` objects at once and each prefix's meta-data", async () => {
  const store = new MemoryStore(300);
  const r = await readStore(store, { concurrency: 7 });
  assertEquals([r.found, r.taken, r.errors.length], [300, 300, 0]);
  ok(store.maxInFlight <= 7 && store.maxInFlight >= 2, `max in flight ${store.maxInFlight}`);
  // No ETags (a dir store): each prefix's copy is read and compared with the one decoded (a
  // forged copy is its error).
  assertEquals(store.metaReads, 300);
  assertEquals(r.binaries[0].processes, 300);
  assertEquals([...r.binaries[0].profile.funcs[0][0]!], [150]);
});

Deno.test("readStore reads a build's meta-data once when the listing gives every copy one plain ETag", async () => {
  const store = new MemoryStore(300, `"${"ab".repeat(16)}"`);
  const r = await readStore(store, { concurrency: 7 });
  assertEquals([r.found, r.taken, r.errors.length], [300, 300, 0]);
  // The first copy is read and verified; the others (same ETag, so same bytes) wait for it.
  assertEquals(store.metaReads, 1);
  assertEquals(r.binaries[0].processes, 300);
  assertEquals([...r.binaries[0].profile.funcs[0][0]!], [150]);
});

for (
  const [what, etag] of [["a multipart", `"${"ab".repeat(16)}-2"`], [
    "an unquoted",
    "ab".repeat(16),
  ]]
) {
  Deno.test(`readStore reads every copy whose ETag is ${what} one`, async () => {
    const store = new MemoryStore(40, etag);
    const r = await readStore(store, { concurrency: 7 });
    assertEquals([r.taken, r.errors.length, store.metaReads], [40, 0, 40]);
  });
}

Deno.test("readStore: when the first read of an ETag fails, each copy sharing it reads its own", async () => {
  const store = new MemoryStore(30, `"${"cd".repeat(16)}"`);
  const read = store.read.bind(store);
  let failed = false;
  store.read = (key: string) => {
    if (key.includes("covmeta") && !failed) {
      failed = true;
      store.metaReads++;
      return Promise.reject(new Error(`${key}: connection reset`));
    }
    return read(key);
  };
  const r = await readStore(store, { concurrency: 5 });
  assertEquals(r.errors.length, 1);
  assertEquals(r.binaries[0].prefixes, 29);
  // The failed read, then the 4 copies that waited on it read theirs (one of them verifies the
  // ETag again for the rest): at most 1 + 4 + 1.
  ok(store.metaReads >= 2 && store.metaReads <= 6, `${store.metaReads} meta reads`);
});

Deno.test("readStore reports progress while listing and reading", async () => {
  const calls: string[] = [];
  await readStore(new MemoryStore(50), {
    progressEveryMs: 0,
    progress: (done, total, phase) => calls.push(`${phase} ${done}/${total}`),
  });
  ok(calls.includes("listing 100/0"), calls.join(", "));
  ok(calls.includes("reading 50/50"), calls.join(", "));
});

Deno.test("readStore stops when its signal aborts", async () => {
  const stop = new AbortController();
  const store = new MemoryStore(200);
  const read = store.read.bind(store);
  let n = 0;
  store.read = (key: string) => {
    if (++n === 20) stop.abort();
    return read(key);
  };
  await rejects(readStore(store, { signal: stop.signal, concurrency: 4 }));
  ok(n < 60, `${n} reads after the abort`);
});
