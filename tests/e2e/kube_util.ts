/**
 * Helpers of the daemon-with-Kubernetes end-to-end tests: a scenario (SimNode + fake API server,
 * dir sink) with the collector running against it, its /status read through a schema, and the
 * stored files of one pod's server found as they appear.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { type CollectorProcess, spawnCollector } from "../harness/collector.ts";
import { covserverBinary } from "../harness/gobuild.ts";
import type { SimContainer, SimPod } from "../harness/node.ts";
import { buildScenario, type Scenario, type ScenarioServer } from "../harness/scenario.ts";
import { byPrefix, type E2eServer, filesUnder } from "./e2e_util.ts";

const TargetSchema = z.looseObject({
  namespace: z.string(),
  pod: z.string(),
  container: z.string(),
  prefix: z.string(),
  ended: z.string().nullable(),
});

/** The parts of `/status` these tests read. */
export const KubeDaemonStatusSchema = z.looseObject({
  engine: z.looseObject({ targets: z.array(TargetSchema) }),
  kube: z.looseObject({
    mode: z.string(),
    nodeName: z.string().optional(),
    identitySource: z.string().optional(),
    reconnects: z.number(),
    relists: z.number(),
    podsKnown: z.number(),
  }),
});
export type KubeDaemonStatus = z.infer<typeof KubeDaemonStatusSchema>;

/** A scenario with the collector running `run` against it. */
export interface KubeDaemon {
  sc: Scenario;
  collector: CollectorProcess;
  healthUrl: string;
  /** GET /status, parsed. */
  status(): Promise<KubeDaemonStatus>;
  /** The collector's last log lines (for failure messages). */
  tail(n?: number): string;
  close(): Promise<void>;
}

/** `args` without `--node-name <value>` (the node name must come from SelfSubjectReview). */
export function withoutNodeName(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--node-name") i++;
    else if (!args[i].startsWith("--node-name=")) out.push(args[i]);
  }
  return out;
}

/**
 * Builds a kube scenario of `pods` pods (dir sink, coverage ports from `portStart`) and starts
 * `coverage-collector run` against it with `extra` flags; the node name is left to the API server.
 * @example
 * const d = await startKubeDaemon({ pods: 1, portStart: 57000, extra: ["--pull-schedule", "30s"] });
 * try { ... } finally { await d.close(); }
 */
export async function startKubeDaemon(
  o: {
    pods: number;
    portStart: number;
    extra?: string[];
    /** Runs after the pods started, before the collector does. */
    beforeStart?: (sc: Scenario) => Promise<void>;
    /** More environment of the collector. */
    env?: Record<string, string>;
  },
): Promise<KubeDaemon> {
  const sc = await buildScenario({ pods: o.pods, kube: true, portStart: o.portStart });
  let collector: CollectorProcess | undefined;
  const close = async () => {
    try {
      await collector?.stop("SIGKILL");
    } finally {
      await sc.close();
    }
  };
  try {
    await o.beforeStart?.(sc);
    collector = await spawnCollector([
      "run",
      ...withoutNodeName(sc.collectorArgs),
      ...o.extra ?? [],
    ], {
      env: { ...sc.env, ...o.env },
    });
    const c = collector;
    const healthUrl = await c.healthUrl();
    return {
      sc,
      collector: c,
      healthUrl,
      status: async () => {
        const res = await fetch(`${healthUrl}/status`);
        const text = await res.text();
        assert.equal(res.status, 200, `GET ${healthUrl}/status: ${res.status} ${text}`);
        return KubeDaemonStatusSchema.parse(JSON.parse(text));
      },
      tail: (n = 40) => c.lines.slice(-n).join("\n"),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Runs `body` against a daemon from `startKubeDaemon(o)`, closes it even when `body` throws, then
 * asserts the node left no netns, links or cgroups behind.
 * @example await withKubeDaemon({ pods: 1, portStart: 57000 }, async (d) => { await d.status(); });
 */
export async function withKubeDaemon(
  o: Parameters<typeof startKubeDaemon>[0],
  body: (d: KubeDaemon) => Promise<void>,
): Promise<void> {
  const d = await startKubeDaemon(o);
  try {
    await body(d);
  } finally {
    await d.close();
  }
  assert.deepEqual(await d.sc.node.leftovers(), { netns: [], links: [], cgroups: [] });
}

/** The log line value of `key` (logfmt, quoted or bare), or undefined. */
export function logField(line: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(line);
  if (!m) return undefined;
  return m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}

/**
 * The first of `lines` matching `re` whose `pod` field is `pod`, or undefined.
 * @example podLogLine(collector.lines, /msg="final pull"/, "web")
 */
export function podLogLine(lines: string[], re: RegExp, pod: string): string | undefined {
  return lines.find((l) => re.test(l) && logField(l, "pod") === pod);
}

/**
 * Polls `dir` every 100 ms (up to `timeoutMs`) until a leaf directory under `keyPrefix` holds a
 * counters file; returns that leaf (relative to `dir`).
 * @example const leaf = await awaitStored(sc.outputDir, server.keyPrefix);
 */
export async function awaitStored(
  dir: string,
  keyPrefix: string,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const [prefix, names] of byPrefix(await filesUnder(dir))) {
      if (!prefix.startsWith(`${keyPrefix}/`)) continue;
      if (names.some((n) => n.startsWith("covcounters."))) return prefix;
    }
    if (Date.now() > deadline) {
      throw new Error(`no counters under ${join(dir, keyPrefix)} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A scenario server as an E2eServer (address, both ports) for `exercise` and friends.
 * @example await exercise(await asE2e(server), "alpha");
 */
export async function asE2e(s: ScenarioServer): Promise<E2eServer> {
  const app = await s.container.waitLine(/^app-port=(\d+)$/, 20_000);
  return {
    proc: s.container,
    address: s.pod.ip || "127.0.0.1",
    coveragePort: s.coveragePort,
    appPort: Number(app[1]),
    binary: "covserver",
  };
}

/** A pod container running on the node that the API server does not list yet. */
export interface UnlistedPod {
  pod: SimPod;
  container: SimContainer;
  server: E2eServer;
  /** `{hostname}/{namespace}/{pod}/{container}`. */
  keyPrefix: string;
  /** Lists it in the fake API server (ADDED). */
  announce(): Promise<void>;
}

/**
 * Starts a pod with one coverage server (container `srv-0`) on the scenario's node without
 * telling the API server; `announce()` adds it there.
 * @example const u = await startUnlisted(sc, "quick", 57000); await u.announce();
 */
export async function startUnlisted(
  sc: Scenario,
  name: string,
  portStart: number,
): Promise<UnlistedPod> {
  const namespace = "ccsim";
  const pod = await sc.node.addPod({ name, namespace });
  const container = await pod.addContainer({
    name: "srv-0",
    command: await covserverBinary("covserver"),
    env: { COVERAGE_PORT: String(portStart), APP_PORT: "0", FIXTURE_MODE: "" },
  });
  const cov = await container.waitLine(/^coverage-port=(\d+)$/, 20_000);
  const app = await container.waitLine(/^app-port=(\d+)$/, 20_000);
  return {
    pod,
    container,
    server: {
      proc: container,
      address: pod.ip,
      coveragePort: Number(cov[1]),
      appPort: Number(app[1]),
      binary: "covserver",
    },
    keyPrefix: [sc.hostname, namespace, name, "srv-0"].join("/"),
    announce: async () =>
      void await sc.kube!.addPod({
        name,
        namespace,
        uid: pod.uid,
        nodeName: sc.node.name,
        podIP: pod.ip,
        containers: [{ name: "srv-0", containerID: `cri-o://${container.id}` }],
      }),
  };
}
