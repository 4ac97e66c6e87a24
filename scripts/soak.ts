/**
 * Soak benchmark: churns pods through a simulated node with the collector running against a real
 * S3 store (versitygw) and a fake kube API, then compares what the collector holds (RSS, heap,
 * open fds, pending timers, its maps) before and after, and checks that every pod's last covered
 * block reached the store.
 *
 * `scripts/soak [--pods 1000] [--parallel 8] [--batch 50] [--kill-every 5] [--outage-every 5]`
 * (or `scripts/soak --kills 40 [--pull-idle 60s@5m]`: blocks lost to unannounced kills with
 * today's schedule and with an idle rule, side by side; see scripts/soak_kills.ts)
 * Pods run in batches of --batch; batch 1 and every --outage-every-th after it run with S3
 * stopped (their pods are deleted during the outage; their data waits in the spool). Every --kill-every-th pod is
 * SIGKILLed without notice once its covered block is stored; the others are marked deleting in
 * the API, then stopped. The first two batches warm up; "before" is taken after them, "after" once the
 * churn is over and the collector is idle. Prints a table and `SOAK_JSON {...}`; exit 1 when a
 * pod's block is missing or something grew. Needs root, `ip netns`, `unshare` and Go.
 */

import { parseArgs } from "node:util";
import { type CollectorProcess, spawnCollector } from "../tests/harness/collector.ts";
import { buildScenario, type Scenario, type ScenarioPod } from "../tests/harness/scenario.ts";
import { canRunNode, countFlag, runMain, scriptArgs, untilStopped } from "./node_script.ts";
import {
  blocksOf,
  formatSoak,
  growthOf,
  type Holdings,
  holdingsOf,
  missing,
  type PodEnd,
  type SoakReport,
} from "./soak_lib.ts";
import { alphaBlocks } from "./soak_alpha.ts";

export interface SoakOptions {
  pods: number;
  parallel: number;
  batch: number;
  killEvery: number;
  outageEvery: number;
  /** Between the API's "deleting" and SIGTERM (the kubelet's reaction time); default 300 ms. */
  noticeMs?: number;
  portStart?: number;
}

interface Churned {
  name: string;
  prefix: string;
  end: PodEnd;
  duringOutage: boolean;
}

interface TargetStatus {
  namespace: string;
  pod: string;
  lastPull: string | null;
  lastStore: string | null;
  stores: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads /status at most every `everyMs` for every waiter together. */
class StatusPoller {
  #last: { at: number; body: Record<string, unknown> } | null = null;
  #inflight: Promise<Record<string, unknown>> | null = null;
  constructor(readonly url: string, readonly everyMs = 150) {}

  async get(): Promise<Record<string, unknown>> {
    if (this.#last && Date.now() - this.#last.at < this.everyMs) return this.#last.body;
    this.#inflight ??= fetch(`${this.url}/status`).then((r) => r.json()).finally(() => {
      this.#inflight = null;
    });
    const body = await this.#inflight;
    this.#last = { at: Date.now(), body };
    return body;
  }

  async target(ns: string, pod: string): Promise<TargetStatus | undefined> {
    const s = await this.get() as { engine?: { targets?: TargetStatus[] } };
    return s.engine?.targets?.find((t) => t.namespace === ns && t.pod === pod);
  }

  /** Waits until `ok` holds (polling); throws naming `what` after `timeoutMs`. */
  async until(what: string, ok: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`soak: ${what} not within ${timeoutMs}ms`);
      await sleep(this.everyMs);
    }
  }
}

async function churnOne(
  sc: Scenario,
  poll: StatusPoller,
  i: number,
  o: SoakOptions,
  duringOutage: boolean,
): Promise<Churned> {
  const end: PodEnd = i % o.killEvery === o.killEvery - 1 ? "killed" : "deleted";
  const hostNetwork = i % 10 === 9;
  const p: ScenarioPod = await sc.addPod({ name: `soak-${i}`, servers: 1, hostNetwork });
  const s = p.servers[0];
  const ns = p.pod.namespace;
  const name = p.pod.name;
  const app = Number((await s.container.waitLine(/app-port=(\d+)/, 20_000))[1]);
  const ip = hostNetwork ? "127.0.0.1" : p.pod.ip;
  await poll.until(
    `first store of ${name}`,
    async () => ((await poll.target(ns, name))?.stores ?? 0) > 0,
  );
  const servedAt = Date.now();
  await (await fetch(`http://${ip}:${app}/run/alpha`)).body?.cancel();
  if (end === "killed") {
    // Killed without notice: only what a scheduled pull stored (or spooled) before is kept.
    let pullAfter = "";
    await poll.until(`a store of ${name} after its last covered block`, async () => {
      const t = await poll.target(ns, name);
      if (!pullAfter && t?.lastPull && Date.parse(t.lastPull) > servedAt) pullAfter = t.lastPull;
      return pullAfter !== "" && t?.lastStore !== null && t?.lastStore !== undefined &&
        Date.parse(t.lastStore) >= Date.parse(pullAfter);
    });
    s.container.kill("SIGKILL");
    await sc.deletePod(p, { graceMs: 1000 });
  } else {
    await sc.kube!.markDeleting(ns, name, 2);
    await sleep(o.noticeMs ?? 300);
    await sc.deletePod(p, { graceMs: 2000 });
  }
  return { name, prefix: s.keyPrefix, end, duringOutage };
}

/** Waits until no collector runs and the spool is empty, then for two scans (caches prune). */
async function settle(poll: StatusPoller): Promise<Holdings> {
  await poll.until("the collector idle (no target, empty spool)", async () => {
    const s = await poll.get() as {
      engine?: { targets?: unknown[] };
      sink?: { spooledObjects?: number };
    };
    return (s.engine?.targets?.length ?? 1) === 0 && (s.sink?.spooledObjects ?? 0) === 0;
  }, 180_000);
  await sleep(25_000); // two scans at the default 10 s: pruned caches show
  return holdingsOf(await poll.get());
}

/** Runs the soak and returns its report; everything it started is stopped before it returns. */
export async function runSoak(
  o: SoakOptions,
  progress: (msg: string) => void = (m) => console.error(`soak: ${m}`),
): Promise<SoakReport> {
  const t0 = Date.now();
  const sc = await buildScenario({
    pods: 0,
    kube: true,
    s3: true,
    portStart: o.portStart ?? 54600,
  });
  let collector: CollectorProcess | undefined;
  try {
    const want = await alphaBlocks(sc);
    progress(`one covered run adds ${want.size} blocks; starting the collector`);
    collector = await spawnCollector(["run", ...sc.collectorArgs], { env: sc.env });
    const poll = new StatusPoller(await collector.healthUrl());
    const churned: Churned[] = [];
    let before: Holdings | undefined;
    let outages = 0;
    const batches = Math.ceil(o.pods / o.batch);
    for (let b = 0; b < batches; b++) {
      // Batches 0 and 1 (the first outage) warm up: every kind of event has happened once.
      const outage = b % o.outageEvery === 1;
      if (outage) {
        outages++;
        await sc.s3!.stop();
      }
      const first = b * o.batch;
      const last = Math.min(o.pods, first + o.batch);
      let next = first;
      const worker = async () => {
        while (next < last) churned.push(await churnOne(sc, poll, next++, o, outage));
      };
      await Promise.all(Array.from({ length: o.parallel }, worker));
      if (outage) await sc.s3!.start();
      progress(
        `batch ${b + 1}/${batches}: ${churned.length} pods churned${outage ? " (S3 down)" : ""}`,
      );
      if (b === 1) {
        before = await settle(poll);
        progress(`before: ${JSON.stringify(before)}`);
      }
    }
    const after = await settle(poll);
    progress(`after: ${JSON.stringify(after)}; checking the store`);
    const lost: SoakReport["lost"] = [];
    for (const c of churned) {
      const keys = (await sc.s3!.objects(c.prefix + "/")).filter((k) => /\/covcounters\./.test(k));
      const files = await Promise.all(keys.map(async (k) => (await sc.s3!.get(k))!));
      const gone = missing(want, blocksOf(files));
      if (keys.length === 0 || gone.length > 0) {
        lost.push({
          pod: c.name,
          end: c.end,
          why: keys.length === 0 ? "no counters stored" : `${gone.length} blocks missing`,
        });
        const said = collector.lines.filter((l) => l.includes(c.name)).slice(-6);
        progress(
          `${c.name} (${c.end}${c.duringOutage ? ", S3 down" : ""}) lost; its log:\n  ${
            said.join("\n  ")
          }`,
        );
      }
    }
    const count = (e: PodEnd) => churned.filter((c) => c.end === e).length;
    return {
      pods: churned.length,
      byEnd: { deleted: count("deleted"), killed: count("killed") },
      duringOutage: churned.filter((c) => c.duringOutage).length,
      outages,
      durationS: Math.round((Date.now() - t0) / 1000),
      before: before!,
      after,
      lost,
      growth: growthOf(before!, after, 32 << 20),
    };
  } finally {
    if (collector) await collector.stop("SIGTERM").catch(() => {});
    await sc.close();
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args: scriptArgs(args),
    options: {
      pods: { type: "string" },
      parallel: { type: "string" },
      batch: { type: "string" },
      "kill-every": { type: "string" },
      "outage-every": { type: "string" },
      "port-start": { type: "string" },
      kills: { type: "string" },
      "pull-idle": { type: "string" },
      "kill-within": { type: "string" },
      quiet: { type: "string" },
    },
  });
  if (!(await canRunNode("soak"))) return 2;
  if (values.kills) {
    const { formatKills, runKills } = await import("./soak_kills.ts");
    const { parseDuration } = await import("../src/units.ts");
    const pullIdle = values["pull-idle"] ?? "60s@5m";
    const afterMs = parseDuration(pullIdle.split("@")[1] ?? "5m");
    return await untilStopped(async () => {
      const report = await runKills({
        pods: countFlag("soak", "kills", values.kills, 40),
        pullIdle,
        killWithinMs: parseDuration(values["kill-within"] ?? "60s"),
        quietMs: values.quiet ? parseDuration(values.quiet) : afterMs + 30_000,
        portStart: countFlag("soak", "port-start", values["port-start"], 54600),
      });
      console.log(formatKills(report));
      console.log(`SOAK_KILLS_JSON ${JSON.stringify(report)}`);
      return 0;
    });
  }
  const count = (flag: string, def: number) =>
    countFlag("soak", flag, values[flag as keyof typeof values], def);
  const opts: SoakOptions = {
    pods: count("pods", 1000),
    parallel: Math.max(1, count("parallel", 8)),
    batch: Math.max(1, count("batch", 50)),
    killEvery: Math.max(1, count("kill-every", 5)),
    outageEvery: Math.max(2, count("outage-every", 5)),
    portStart: count("port-start", 54600),
  };
  return await untilStopped(async () => {
    const report = await runSoak(opts);
    console.log(formatSoak(report));
    console.log(`SOAK_JSON ${JSON.stringify(report)}`);
    return report.lost.length === 0 && report.growth.length === 0 ? 0 : 1;
  });
}

if (import.meta.main) await runMain(main);
