/**
 * Hostile meta-data from loopback coverage servers, beside a real Go `-cover` server: a file whose
 * function offsets all point at one function (18 KB that decoded as 4 GB), and a small file
 * claiming the real build's hash. The collector refuses each for that server alone, keeps serving
 * /healthz and keeps collecting the real server (its live figures untouched); `report` over a
 * directory store holding the bad files reads the real prefix and names the bad ones.
 */

import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { parseMeta } from "../src/coverage/meta.ts";
import { Health } from "../src/health.ts";
import { Metrics } from "../src/metrics.ts";
import { createApp } from "../src/app/health_server.ts";
import { DirSink } from "../src/sink/dir.ts";
import { toHex } from "../src/collect/coverage.ts";
import { coverageBody, makeCounters, startFakeCoverageServer } from "./harness/covfiles.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import {
  collectorOf,
  covserverDirCollector,
  covserverTarget,
} from "./harness/covserver_collector.ts";
import { hasGo } from "./harness/gobuild.ts";
import { encodeMetaFile, overlappingMeta } from "./harness/metafile.ts";
import { runReport } from "./harness/run_report.ts";

const noGo = !(await hasGo());

/** A loopback server answering every /coverage with `meta` and counters naming `claimed`. */
function hostileServer(binary: string, meta: Uint8Array) {
  const claimed = toHex(meta.subarray(24, 40));
  const body = coverageBody(meta, makeCounters(claimed), Deno.pid);
  // A host process (this test's): its identity PID is its own, as the collector checks.
  return startFakeCoverageServer({
    binary,
    pid: Deno.pid,
    hash: claimed,
    value: 0,
    rawBody: JSON.stringify(body),
  });
}

const report = runReport;

/** Writes a prefix in the stored layout holding `meta` under the hash it claims. */
async function storeBad(root: string, dir: string, meta: Uint8Array): Promise<string> {
  const claimed = toHex(meta.subarray(24, 40));
  const leaf = join(root, dir);
  await Deno.mkdir(leaf, { recursive: true });
  await Deno.writeFile(join(leaf, `covmeta.${claimed}`), meta);
  await Deno.writeFile(join(leaf, `covcounters.${claimed}.1.1`), makeCounters(claimed));
  await Deno.writeTextFile(join(leaf, "info.json"), "{}\n");
  return claimed;
}

/** The real server's meta-data as stored by its collector. */
function storedMeta(dir: string): Uint8Array {
  const name = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("covmeta."))!.name;
  return Deno.readFileSync(join(dir, name));
}

Deno.test({
  name: "hostile meta-data (function offsets into one function): refused for that server; " +
    "/healthz answers and a real server beside it is collected; report names the bad prefix",
  ignore: noGo,
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-meta-" });
    // 600 offsets into one function of 600 units: 360,000 units if believed, from 8 KB.
    const hostileMeta = overlappingMeta(600, 600);
    const hostile = hostileServer("hostile", hostileMeta);
    const metrics = new Metrics();
    const ac = new AbortController();
    const health = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
      createApp({ health: new Health(), metrics, status: () => ({}) }).fetch,
    );
    try {
      await using good = await startCovserver({ name: "good-app" });
      const real = await covserverDirCollector(good, root);
      const target = await covserverTarget(
        { coveragePort: hostile.port, pid: Deno.pid } as Covserver,
      );
      const bad = collectorOf(target, new DirSink(root), { metrics });
      const stop = new AbortController();
      const [badOut, healthz, goodOut] = await Promise.all([
        bad.collector.pullNow("test", stop.signal),
        fetch(`http://127.0.0.1:${health.addr.port}/healthz`).then(async (r) => [
          r.status,
          await r.text(),
        ]),
        real.collector.pullNow("test", stop.signal),
      ]);
      assertEquals(badOut.result, "rejected", badOut.error);
      match(badOut.error ?? "", /function 1 offset .* overlaps/);
      assertEquals(metrics.value("coverage_collector_pulls_total", { result: "meta" }), 1);
      assertEquals(healthz, [200, "ok\n"]);
      assertEquals(goodOut.result, "stored", goodOut.error);
      ok(bad.collector.status().lastError?.includes("overlaps"));
      // The hostile server stored nothing; the real one is collected again.
      assertEquals([...Deno.readDirSync(join(root, "test-node", "_host_"))].length, 1);
      const next = await real.collector.pullNow("test", stop.signal);
      ok(next.result === "stored" || next.result === "unchanged", next.error);

      // report over a store holding the hostile file beside the real prefix.
      const badDir = "a-node/_host_/20261122T100005Z/hostile";
      await storeBad(root, badDir, hostileMeta);
      const r = await report(["--format", "json", root]);
      assertEquals(r.code, 1, r.err);
      match(r.err, new RegExp(`unreadable prefix ${badDir}: .*overlaps`));
      const json = JSON.parse(r.out);
      assertEquals(json.binaries.map((b: { binary: string }) => b.binary), ["good-app"]);
      assertEquals(json.prefixes, { found: 2, taken: 2, unreadable: 1 });
    } finally {
      ac.abort();
      await health.finished;
      await hostile.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "a forged meta-data file claiming a real build's hash: refused and counted for that " +
    "server; the real server's live figures and report's reading of it are untouched",
  ignore: noGo,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "forged-meta-" });
    const metrics = new Metrics();
    await using good = await startCovserver({ name: "good-app" });
    const real = await covserverDirCollector(good, root);
    const realMeta = parseMeta(
      storedMetaOf(await real.collector.pullNow("x", new AbortController().signal), real.dir),
    );
    const statements = realMeta.packages.flatMap((p) => p.functions).flatMap((f) => f.units)
      .reduce((s, u) => s + u.stmts, 0);
    // The forgery: one function of 3 statements, its header claiming the real build's hash.
    const forgedMeta = encodeMetaFile({
      hash: "",
      mode: "atomic",
      granularity: 1,
      packages: [{
        path: "main",
        name: "main",
        modulePath: "",
        functions: [{
          name: "main",
          file: "main.go",
          literal: false,
          units: [{ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 3 }],
        }],
      }],
    }, { claim: realMeta.hash });
    const forger = hostileServer("forger", forgedMeta);
    try {
      const target = await covserverTarget(
        { coveragePort: forger.port, pid: Deno.pid } as Covserver,
      );
      const bad = collectorOf(target, new DirSink(root), { metrics });
      const out = await bad.collector.pullNow("test", new AbortController().signal);
      assertEquals(out.result, "rejected", out.error);
      match(out.error ?? "", new RegExp(`claims MetaFileHash ${realMeta.hash}`));
      assertEquals(
        metrics.value("coverage_collector_meta_hash_mismatch_total", { file: "meta" }),
        1,
      );
      // A new process of the real build after the forgery: its figures are the real build's.
      await using again = await startCovserver({ name: "good-app" });
      const second = await covserverDirCollector(again, root);
      const stored = await second.collector.pullNow("test", new AbortController().signal);
      assertEquals(stored.result, "stored", stored.error);
      assertEquals(second.collector.status().coverage?.total, statements);

      // report: the forged copy in a prefix read first does not make the real ones unreadable.
      const forgedDir = "a-node/_host_/20261122T100005Z/forger";
      await storeBad(root, forgedDir, forgedMeta);
      const r = await report(["--format", "json", root]);
      assertEquals(r.code, 1, r.err);
      match(r.err, new RegExp(`unreadable prefix ${forgedDir}: .*contents hash to`));
      const json = JSON.parse(r.out);
      assertEquals(json.binaries.length, 1);
      assertEquals(
        [json.binaries[0].binary, json.binaries[0].hash, json.binaries[0].processes],
        ["good-app", realMeta.hash, 2],
      );
      assertEquals(json.binaries[0].statements, statements);
    } finally {
      await forger.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

function storedMetaOf(out: { result: string; error?: string }, dir: string): Uint8Array {
  assertEquals(out.result, "stored", out.error);
  return storedMeta(dir);
}
