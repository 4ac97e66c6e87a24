/**
 * `report --shard K/N` and a source of partials: N shards, each written as a partial in covdata
 * form, read back as one source give the unsharded report figure for figure (text and json), on
 * a store of real `-cover` data with several processes, nodes and pods, a process stored twice
 * (a collector restart: merged by max, so both prefixes must land in one shard), a server
 * restarted under the same path (another process: added), and an unreadable prefix.
 * `go tool covdata merge` of the partials is judged against the unsharded report too.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { decodeCoverage } from "../src/collect/coverage.ts";
import { encodeTimeline } from "../src/coverage/timeline.ts";
import { flatUnits } from "../src/coverage/flat_units.ts";
import { parseMeta } from "../src/coverage/meta.ts";
import { PARTIAL_FILE } from "../src/report/partial.ts";
import { fnv1a32, shardOf } from "../src/report/shard.ts";
import { groupPrefixes } from "../src/report/prefixes.ts";
import { type ReadResult, readStore } from "../src/report/read.ts";
import { DirReader, S3_LIST_LIMITS, type S3Reader, type StoreReader } from "../src/report/store.ts";
import { openStore } from "../src/report/open_store.ts";
import { loadConfig } from "../src/config.ts";
import { startCovserver } from "./harness/covserver.ts";
import { hasGo } from "./harness/gobuild.ts";
import { go } from "./harness/stored.ts";
import { canRunS3, startS3, writeRegistryAuth } from "./harness/s3.ts";
import { S3Sink } from "../src/sink/s3.ts";
import { runReport } from "./harness/run_report.ts";

const noGo = !(await hasGo());

interface Snapshot {
  hash: string;
  meta: Uint8Array;
  counters: Uint8Array;
  pid: number;
}

async function call(port: number, route: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`);
  await res.body?.cancel();
  if (!res.ok) throw new Error(`GET ${route}: HTTP ${res.status}`);
}

async function snapshot(coveragePort: number, pid: number): Promise<Snapshot> {
  const res = await fetch(`http://127.0.0.1:${coveragePort}/coverage`);
  const d = decodeCoverage(await res.text(), { expectMeta: true });
  return { hash: d.meta!.hash, meta: d.meta!.bytes, counters: d.counters.bytes, pid };
}

const IMG = "quay.io-x-sha256-1";
const BOOT = "0b5e1d2c-3a4f-4e5d-8c7b-6a5f4e3d2c1b";
const ROUTES = ["/run/alpha", "/run/beta?n=3", "/run/gamma", "/run/beta?n=-1", "/run/gamma?s="];

async function put(base: string, segs: string[], s: Snapshot, info: Record<string, unknown>) {
  const leaf = join(base, ...segs);
  await Deno.mkdir(leaf, { recursive: true });
  await Deno.writeFile(join(leaf, `covmeta.${s.hash}`), s.meta);
  await Deno.writeFile(join(leaf, `covcounters.${s.hash}.1.1`), s.counters);
  await Deno.writeTextFile(join(leaf, "info.json"), JSON.stringify({ pid: 1, ...info }));
}

let shared: Promise<string> | undefined;
/** The store: 24 pods over 3 nodes, one process stored twice, one restart, a host server. */
function store(): Promise<string> {
  shared ??= (async () => {
    const base = await Deno.makeTempDir({ prefix: "report-shard-" });
    const snaps: Snapshot[] = [];
    for (let i = 0; i < 4; i++) {
      await using srv = await startCovserver();
      await call(srv.appPort, ROUTES[i]);
      snaps.push(await snapshot(srv.coveragePort, srv.pid));
      if (i === 0) {
        // The same process again after more work: the later snapshot of a collector restart.
        await call(srv.appPort, ROUTES[4]);
        snaps.push(await snapshot(srv.coveragePort, srv.pid));
      }
    }
    const [early, late, ...others] = snaps;
    const c = (node: string, ns: string, pod: string, t: string, bin = "covserver") => [
      node,
      ns,
      pod,
      "app",
      t,
      IMG,
      bin,
    ];
    const facts = (s: Snapshot, start: string) => ({
      hostPid: s.pid,
      hostStartTime: start,
      bootId: BOOT,
      containerId: `c-${s.pid}`,
    });
    // One process in two prefixes (merged by max) and a restart under the same path (added).
    await put(base, c("node-1", "ns-a", "pod-0", "20261122T100005Z"), early, facts(early, "10"));
    await put(base, c("node-1", "ns-a", "pod-0", "20261122T110000Z"), late, facts(late, "10"));
    await put(
      base,
      c("node-1", "ns-a", "pod-0", "20261122T120000Z"),
      others[0],
      facts(others[0], "99"),
    );
    for (let i = 1; i < 24; i++) {
      const s = others[i % others.length];
      const bin = i % 7 === 0 ? "covserver-b" : "covserver";
      await put(
        base,
        c(`node-${i % 3}`, `ns-${i % 4}`, `pod-${i}`, "20261123T000000Z", bin),
        s,
        facts(s, String(i)),
      );
    }
    await put(base, ["node-2", "_host_", "20261123T010000Z", "covserver"], others[1], {
      hostPid: others[1].pid,
    });
    // Counters without their covmeta: an unreadable prefix, in whichever shard it falls.
    const bad = join(base, ...c("node-2", "ns-x", "pod-bad", "20261123T020000Z"));
    await Deno.mkdir(bad, { recursive: true });
    await Deno.writeFile(join(bad, `covcounters.${early.hash}.1.1`), early.counters);
    return base;
  })();
  return shared;
}

/** A report's json without its source (the one figure a partials source names differently). */
function figures(json: string) {
  const r = JSON.parse(json);
  delete r.source;
  return r;
}
const textFigures = (t: string) => t.replace(/ in \S+;/, " in SOURCE;");

async function shards(base: string, n: number): Promise<string> {
  const parts = await Deno.makeTempDir({ prefix: "report-shard-parts-" });
  for (let k = 0; k < n; k++) {
    const r = await runReport(
      ["--shard", `${k}/${n}`, "--format", "covdata", "--out", join(parts, `shard-${k}`), base],
    );
    assertEquals(r.code, 0, r.err);
  }
  return parts;
}

Deno.test({
  name: "report over N shards' partials equals the unsharded report, text and json",
  ignore: noGo,
  async fn() {
    const base = await store();
    const one = await runReport(["--format", "json", base]);
    assertEquals(one.code, 1, one.err); // the unreadable prefix
    const want = figures(one.out);
    assertEquals([want.binaries.length, want.prefixes.unreadable], [1, 1]);
    assertEquals(want.binaries[0].binary, "covserver,covserver-b");
    // 27 readable prefixes and 26 processes: the process stored twice is one.
    const sum = (k: string) => want.binaries.reduce((s: number, b: never) => s + b[k], 0);
    assertEquals([sum("prefixes"), sum("processes")], [27, 26]);
    const text = await runReport([base]);
    for (const n of [1, 3, 5]) {
      const parts = await shards(base, n);
      const listed = [...Deno.readDirSync(parts)].length;
      assertEquals(listed, n);
      const got = await runReport(["--format", "json", parts]);
      assertEquals(got.code, 1, got.err);
      assertEquals(figures(got.out), want, `${n} shards`);
      const gotText = await runReport([parts]);
      assertEquals(textFigures(gotText.out), textFigures(text.out), `${n} shards, text`);
      assertEquals(gotText.errLines, text.errLines);
    }
  },
});

Deno.test({
  name: "a shard reads only its share; all prefixes of one process land in one shard",
  ignore: noGo,
  async fn() {
    const base = await store();
    const parts = await shards(base, 3);
    const taken: number[] = [];
    for (let k = 0; k < 3; k++) {
      const f = JSON.parse(await Deno.readTextFile(join(parts, `shard-${k}`, PARTIAL_FILE)));
      assertEquals([f.shard, f.found], [{ k, n: 3 }, 28]);
      taken.push(f.taken);
    }
    assertEquals(taken.reduce((a, b) => a + b), 28);
    ok(taken.filter((t) => t > 0).length >= 2, `one shard took all: ${taken}`);
    // The twins rule: paths that differ only by discovery time share a shard, whatever N.
    const keys = (t: string) => [`n/ns/pod/app/${t}/img/bin/covmeta.${"0".repeat(32)}`];
    for (const n of [2, 3, 7, 64, 1000]) {
      const a = groupPrefixes(keys("20261122T100005Z")).values().next().value!;
      const b = groupPrefixes(keys("20261122T110000Z")).values().next().value!;
      assertEquals(shardOf(a, n), shardOf(b, n));
    }
    // FNV-1a's published test vectors: the rule is stable across machines and versions.
    assertEquals([fnv1a32(""), fnv1a32("a"), fnv1a32("foobar")], [
      0x811c9dc5,
      0xe40c292c,
      0xbf9cf968,
    ]);
  },
});

Deno.test({
  name: "go tool covdata merge combines the partials into what the unsharded report counts",
  ignore: noGo,
  async fn() {
    const base = await store();
    const parts = await shards(base, 3);
    const merged = await Deno.makeTempDir({ prefix: "report-shard-merged-" });
    const dirs = [0, 1, 2].map((k) => join(parts, `shard-${k}`))
      .filter((d) => [...Deno.readDirSync(d)].some((e) => e.name.startsWith("covmeta.")));
    await go(["tool", "covdata", "merge", "-i", dirs.join(","), "-o", merged]);
    const goText = join(merged, "go.txt");
    await go(["tool", "covdata", "textfmt", "-i", merged, "-o", goText]);
    const ours = join(merged, "ours.txt");
    const r = await runReport(["--format", "textfmt", "--out", ours, base]);
    assertEquals(r.code, 1, r.err);
    assertEquals(await Deno.readTextFile(goText), await Deno.readTextFile(ours));
  },
});

Deno.test({
  name: "a hostile partial is that partial's error, naming its file; the others are read",
  ignore: noGo,
  async fn() {
    const base = await store();
    const parts = await shards(base, 3);
    const whole = figures((await runReport(["--format", "json", parts])).out);
    const cases: [string, RegExp][] = [
      ["{not json", /not JSON/],
      ['{"kind":"coverage-collector/report-partial","version":1,"found":-1}', /found/],
      [
        JSON.stringify({
          kind: "coverage-collector/report-partial",
          version: 1,
          found: 1,
          taken: 1,
          binaries: [],
          errors: [],
        }),
        /not among its binaries/,
      ],
    ];
    const victim = whole.binaries.length > 0
      ? [0, 1, 2].find((k) =>
        [...Deno.readDirSync(join(parts, `shard-${k}`))].some((e) => e.name.startsWith("covmeta."))
      )!
      : 0;
    const file = join(parts, `shard-${victim}`, PARTIAL_FILE);
    const good = await Deno.readTextFile(file);
    for (const [bytes, want] of cases) {
      await Deno.writeTextFile(file, bytes);
      const r = await runReport(["--format", "json", parts]);
      assertEquals(r.code, 1, r.err);
      const errs = JSON.parse(r.out).errors as { prefix: string; error: string }[];
      const mine = errs.find((e) => e.prefix === `shard-${victim}`);
      ok(mine && want.test(mine.error) && mine.error.includes(PARTIAL_FILE), JSON.stringify(errs));
    }
    await Deno.writeTextFile(file, good);
    // A plain prefix among partials is named, not added.
    const stray = join(parts, "stray");
    await Deno.mkdir(stray);
    for (const e of Deno.readDirSync(join(parts, `shard-${victim}`))) {
      if (e.name.startsWith("cov")) {
        await Deno.copyFile(join(parts, `shard-${victim}`, e.name), join(stray, e.name));
      }
    }
    const mixed = await runReport(["--format", "json", parts]);
    assertEquals(mixed.code, 1, mixed.err);
    const m = JSON.parse(mixed.out);
    ok(
      m.errors.some((e: { prefix: string; error: string }) =>
        e.prefix === "stray" && /among report partials/.test(e.error)
      ),
      JSON.stringify(m.errors),
    );
    assertEquals(m.binaries, whole.binaries);
    await Deno.remove(stray, { recursive: true });
    // Filters and shards apply when partials are made, not to a source of them.
    const f = await runReport(["--namespace", "ns-a", parts]);
    assertEquals(f.code, 2, f.err);
    ok(/holds report partials: --namespace/.test(f.err), f.err);
    const s = await runReport(["--shard", "3/3", "--format", "covdata", "--out", parts, base]);
    assertEquals(s.code, 2, s.err);
  },
});

Deno.test({
  name: "shards read s3:// and write their partials to s3://; the S3 prefix of partials merges",
  ignore: noGo || !await canRunS3(),
  async fn() {
    const base = await store();
    const s3 = await startS3();
    try {
      const tmp = await Deno.makeTempDir({ prefix: "report-shard-s3-" });
      const sink = new S3Sink({ ...s3, basePath: "ci/run-1", pathStyle: true });
      for await (const file of walk(base)) {
        await sink.put(relative(base, file), await Deno.readFile(file));
      }
      const auth = join(tmp, "auth.json");
      await writeRegistryAuth(auth, { ...s3, bucket: "not-this-one" });
      const flags = ["--credentials-file", auth, "--s3-endpoint", s3.endpoint, "--s3-path-style"];
      const url = (p: string) => `s3://${s3.bucket}/${p}`;
      for (let k = 0; k < 3; k++) {
        const r = await runReport([
          ...flags,
          "--shard",
          `${k}/3`,
          "--format",
          "covdata",
          "--out",
          url(`reports/run-1/partials/shard-${k}`),
          url("ci/run-1"),
        ]);
        assertEquals(r.code, 0, r.err);
      }
      const want = figures((await runReport(["--format", "json", base])).out);
      const got = await runReport([...flags, "--format", "json", url("reports/run-1/partials")]);
      assertEquals(got.code, 1, got.err);
      assertEquals(figures(got.out), want);
    } finally {
      await s3.close();
    }
  },
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else yield p;
  }
}

Deno.test({
  name: "a shard's listing filter holds over pages that split a prefix's keys (S3 paging)",
  ignore: noGo,
  async fn() {
    const base = await store();
    const dir = new DirReader(base);
    // One key a page: every prefix's keys arrive over several pages, as S3 may give them.
    const paged: StoreReader = {
      description: dir.description,
      leafName: dir.leafName,
      read: (k, s, m) => dir.read(k, s, m),
      async *list(signal) {
        for await (const p of dir.list(signal)) for (const k of p.keys) yield { keys: [k] };
      },
    };
    const sum = (r: ReadResult) => r.binaries.map((b) => [b.prefixes, b.processes]);
    for (let k = 0; k < 3; k++) {
      const want = await readStore(dir, { shard: { k, n: 3 } });
      const got = await readStore(paged, { shard: { k, n: 3 } });
      assertEquals([got.found, got.taken, sum(got)], [want.found, want.taken, sum(want)]);
      assertEquals(got.found, 28);
    }
  },
});

Deno.test("a shard of N may list N times the keys one report holds (it keeps 1/N of them)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "report-shard-limits-" });
  const auth = join(tmp, "auth.json");
  const s3 = { accessKey: "a", secretKey: "s", bucket: "b", region: "us-east-1" };
  await writeRegistryAuth(auth, s3);
  const config = loadConfig({ "credentials-file": auth }, {});
  const one = await openStore("s3://b/run", config) as S3Reader;
  const four = await openStore("s3://b/run", config, 4) as S3Reader;
  assertEquals(one.limits, S3_LIST_LIMITS);
  assertEquals(four.limits, {
    maxKeys: 4 * S3_LIST_LIMITS.maxKeys,
    maxPages: 4 * S3_LIST_LIMITS.maxPages,
  });
});

Deno.test({
  name: "partials carry the timelines: --covered-since and --windows over shards equal unsharded",
  ignore: noGo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-shard-tl-" });
    await new Deno.Command("cp", { args: ["-a", `${await store()}/.`, base] }).output();
    const leaves: string[] = [];
    for await (const f of walk(base)) if (f.includes("/covcounters.")) leaves.push(f);
    const hash = /covcounters\.([0-9a-f]{32})\./.exec(leaves[0])![1];
    const units = flatUnits(
      parseMeta(await Deno.readFile(join(leaves[0], "..", `covmeta.${hash}`))),
    );
    const T = Date.UTC(2026, 10, 22, 10);
    const lines = [
      { after: null, at: T, units: [0, 1, 2] },
      { after: T, at: T + 60_000, units: [5, 6, 9] },
    ];
    for (const [i, leaf] of leaves.slice(0, 12).entries()) {
      const steps = i % 2 === 0
        ? lines
        : [{ after: T, at: T + 120_000 + i, units: [3, 4, 20 + i] }];
      const dir = leaf.slice(0, leaf.lastIndexOf("/"));
      await Deno.writeFile(join(dir, `covtimeline.${hash}.1`), encodeTimeline({ steps }, units));
    }
    const windows = join(base, "..", `windows-${crypto.randomUUID()}.txt`);
    await Deno.writeTextFile(
      windows,
      "early 2026-11-22T09:00:00Z 2026-11-22T10:00:30Z\nlate 2026-11-22T10:00:30Z 2026-11-22T11:00:00Z\n",
    );
    const since = ["--covered-since", "2026-11-22T10:00:30Z"];
    const parts = await shards(base, 3);
    for (
      const args of [["--format", "json", ...since], ["--format", "json", "--windows", windows]]
    ) {
      const want = await runReport([...args, base]);
      const got = await runReport([...args, parts]);
      assertEquals(figures(got.out), figures(want.out), args.join(" "));
    }
    const all = figures((await runReport(["--format", "json", base])).out);
    const later = figures((await runReport(["--format", "json", ...since, base])).out);
    assertEquals(all.errors.length, 1, JSON.stringify(all.errors)); // the one unreadable prefix
    const kept = later.binaries[0].covered;
    ok(kept > 0 && kept < all.binaries[0].covered, `--covered-since kept ${kept}`);
  },
});
