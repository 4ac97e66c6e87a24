import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Collector } from "./collector.ts";
import type { CollectorDeps } from "./collector_types.ts";
import { parseSchedule } from "../units.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { readStartTime } from "../procfs/stat.ts";
import { createSystem } from "../system.ts";
import type { Target } from "../target.ts";
import {
  fakeBuild,
  makeTarget,
  MemorySink,
  startFakeCoverageServer,
} from "../../tests/harness/covfiles.ts";

const HASH = fakeBuild("app").hash;
const OLD = new Date("2026-11-22T10:00:05.123Z");
const FRESH = new Date("2026-11-29T08:00:00.000Z");
const PATH = "worker-1/demo/app-7d9f/app/{time}/quay.io-ocp-app-sha256-abcd/app";

/** One pull of a collector of `target` (a live process: this test's own PID). */
async function pullOnce(target: Target) {
  const server = startFakeCoverageServer({ binary: "app", pid: 1, hash: HASH, value: 1 });
  const sink = new MemorySink();
  const remembered: [Date, string][] = [];
  const deps: CollectorDeps = {
    sink,
    system: createSystem("/"),
    log: silentLogger,
    metrics: new Metrics(),
    config: { pullSchedule: parseSchedule("1h"), pullTimeout: 2000, maxBody: 1 << 20 },
    hostname: "worker-1",
    bootId: "0b5e1d2c-3a4f",
    remember: (at, hash) => void remembered.push([at, hash]),
  };
  try {
    const c = new Collector({ ...target, port: server.port }, deps);
    assertEquals((await c.pullNow("test", new AbortController().signal)).result, "stored");
    return { keys: [...sink.objects.keys()].sort(), sink, remembered, prefix: c.prefix };
  } finally {
    await server.close();
  }
}

const started = (await readStartTime(createSystem("/"), Deno.pid)) ?? undefined;
const live = (over: Partial<Target>) =>
  makeTarget({ hostPid: Deno.pid, hostStartTime: started, discoveredAt: OLD, ...over });

Deno.test("a remembered process of the same build stores under its old prefix and is remembered", async () => {
  const first = await pullOnce(live({}));
  const hash = first.keys.find((k) => k.includes("/covmeta."))!.split("covmeta.")[1];
  const r = await pullOnce(live({ remembered: { metaHash: hash, freshAt: FRESH } }));
  const old = PATH.replace("{time}", "20261122T100005Z");
  assertEquals(r.prefix, old);
  assertEquals(r.keys.every((k) => k.startsWith(`${old}/`)), true, r.keys.join(" "));
  assertEquals(r.remembered, [[OLD, hash]]);
  const info = JSON.parse(new TextDecoder().decode(r.sink.objects.get(`${old}/info.json`)));
  assertEquals([info.discoveredAt, info.bootId], [OLD.toISOString(), "0b5e1d2c-3a4f"]);
});

Deno.test("a remembered process whose build differs gets a new prefix (the fresh time)", async () => {
  const r = await pullOnce(live({ remembered: { metaHash: "ff".repeat(16), freshAt: FRESH } }));
  const fresh = PATH.replace("{time}", "20261129T080000Z");
  assertEquals(r.prefix, fresh);
  assertEquals(r.keys.every((k) => k.startsWith(`${fresh}/`)), true, r.keys.join(" "));
  assertEquals(r.remembered.map(([at]) => at), [FRESH]);
  const info = JSON.parse(new TextDecoder().decode(r.sink.objects.get(`${fresh}/info.json`)));
  assertEquals(info.discoveredAt, FRESH.toISOString());
});
