/**
 * parseCounters on real counter files from the Go fixture, checked against `go tool covdata
 * debugdump`; and the collector's store rule against the fixture (idle pulls skipped, new code
 * stored, readable by `go tool covdata func`).
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { Collector } from "../src/collect/collector.ts";
import { decodeCoverage } from "../src/collect/coverage.ts";
import { coveredSet, parseCounters } from "../src/coverage/counters.ts";
import { parseSchedule } from "../src/units.ts";
import { SCHEDULE_REASON } from "../src/collect/store_rule.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { DirSink } from "../src/sink/dir.ts";
import { createSystem } from "../src/system.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";

const noGo = !(await hasGo());

async function go(args: string[]): Promise<string> {
  const out = await new Deno.Command("go", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`go ${args.join(" ")} exited ${out.code}: ${text}`);
  return text;
}

async function get(url: string): Promise<string> {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return text;
}

/**
 * debugdump's counters per "pkgIdx:funcIdx": packages and functions are listed in meta-data
 * order, which is what the indices of the counter file count.
 */
function dumpCounters(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let pkg = -1;
  let fn = -1;
  for (const line of text.split("\n")) {
    if (line.startsWith("Package path:")) [pkg, fn] = [pkg + 1, -1];
    else if (line.startsWith("Func:")) out.set(`${pkg}:${++fn}`, []);
    const m = /^(\d+): L\d+:C\d+ -- L\d+:C\d+ NS=\d+ = (\d+)$/.exec(line.trim());
    if (m) out.get(`${pkg}:${fn}`)![Number(m[1])] = Number(m[2]);
  }
  return out;
}

async function pullFiles(srv: Covserver, dir: string): Promise<Uint8Array> {
  const body = await get(`http://127.0.0.1:${srv.coveragePort}/coverage`);
  const d = decodeCoverage(body, { expectMeta: true });
  await Deno.writeFile(join(dir, `covmeta.${d.meta!.hash}`), d.meta!.bytes);
  await Deno.writeFile(join(dir, `covcounters.${d.meta!.hash}.${srv.pid}.1`), d.counters.bytes);
  return d.counters.bytes;
}

Deno.test({
  name: "parseCounters reads the fixture's counter files as go tool covdata debugdump does",
  ignore: noGo,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "counters-covserver-" });
    await using srv = await startCovserver({ name: "parse-app" });
    try {
      await get(`http://127.0.0.1:${srv.appPort}/run/alpha`);
      await get(`http://127.0.0.1:${srv.appPort}/run/gamma`);
      const parsed = parseCounters(await pullFiles(srv, dir));
      assertEquals([parsed.flavor, parsed.segments], [2, 1]);
      const dump = dumpCounters(await go(["tool", "covdata", "debugdump", "-i", dir]));
      ok(parsed.functions.length >= 3, `only ${parsed.functions.length} functions`);
      for (const f of parsed.functions) {
        const want = dump.get(`${f.pkgIdx}:${f.funcIdx}`);
        assertEquals(f.counters, want, `function ${f.pkgIdx}:${f.funcIdx}`);
      }
      // Every nonzero counter of the dump is in the covered set, and nothing else.
      const fromDump = [...dump].flatMap(([k, cs]) =>
        cs.flatMap((v, i) => v !== 0 ? [`${k}:${i}`] : [])
      );
      assertEquals([...coveredSet(parsed)].sort(), fromDump.sort());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "fixture with no app traffic: pulls skipped, store count constant; /run/beta is stored",
  ignore: noGo,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "counters-covserver-" });
    await using srv = await startCovserver({ name: "idle-app" });
    try {
      const metrics = new Metrics();
      const collector = new Collector({
        key: `_host_:${srv.coveragePort}`,
        owner: { kind: "host" },
        host: "127.0.0.1",
        port: srv.coveragePort,
        identity: { binary: "idle-app", pid: srv.pid, extra: {} },
        hostPid: srv.pid,
        discoveredAt: new Date(),
      }, {
        sink: new DirSink(root),
        system: createSystem("/"),
        log: silentLogger,
        metrics,
        config: { pullSchedule: parseSchedule("1s"), pullTimeout: 5000, maxBody: 64 << 20 },
        hostname: "test-node",
      });
      const signal = new AbortController().signal;
      const pull = async () => (await collector.pullNow(SCHEDULE_REASON, signal)).result;
      // The first two pulls may each cover server code run for the first time (full, nometa).
      for (let i = 0; i < 3; i++) await pull();
      const stores = collector.status().stores;
      for (let i = 0; i < 5; i++) assertEquals(await pull(), "unchanged", `idle pull ${i}`);
      assertEquals(collector.status().stores, stores);
      ok(metrics.value("coverage_collector_skipped_unchanged_total")! >= 5);
      await get(`http://127.0.0.1:${srv.appPort}/run/beta`);
      assertEquals(await pull(), "stored");
      const dir = join(root, collector.prefix);
      const funcs = await go(["tool", "covdata", "func", "-i", dir]);
      const beta = funcs.split("\n").find((l) => /\/beta\/beta\.go:\d+:\s+Run\s/.test(l));
      ok(beta && !/\s0\.0%$/.test(beta.trim()), `beta not covered:\n${funcs}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
