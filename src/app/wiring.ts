/** Which parts the daemon runs, and how the engine is put together from its rooms. */

import type { Config } from "../config.ts";
import { type Deps, loggerFor, type Part } from "../deps.ts";
import { Health } from "../health.ts";
import type { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { createSystem } from "../system.ts";
import { Collector } from "../collect/collector.ts";
import { PullGate } from "../collect/gate.ts";
import { Discoverer } from "../discover/discoverer.ts";
import { Engine } from "../engine/engine.ts";
import type { CollectorHandle } from "../engine/stages.ts";
import { nodeHostname } from "../hostname.ts";
import { createKubePart, type KubePart } from "../kube/part.ts";
import { PodWorkloads } from "../kube/pod_workloads.ts";
import { Crictl } from "../cri/crictl.ts";
import { ImageSources } from "../cri/image_source.ts";
import { PrefixMemory } from "../collect/prefix_memory.ts";
import { TimelineCopies } from "../collect/timeline_copies.ts";
import { attribute, probe } from "../probe/probe.ts";
import { createSink } from "../sink/select.ts";
import type { Sink } from "../sink/sink.ts";
import type { Target } from "../target.ts";
import { SockDiag } from "../procfs/sock_diag.ts";
import { join } from "node:path";

/**
 * The deps `run` and `once` share: the config's logger (or `log`), fresh metrics and health, and
 * the host seam under the configured host root.
 *
 * @example const deps = makeDeps(config);
 */
export function makeDeps(config: Config, log: Logger = loggerFor(config)): Deps {
  const system = createSystem(config.hostRoot);
  return { config, log, metrics: new Metrics(), health: new Health(), system };
}

/**
 * The prefix memory under `<state-dir>/prefixes` (null when it cannot be used; logged).
 *
 * @example const memory = await openPrefixMemory(deps, "worker-1");
 */
export function openPrefixMemory(deps: Deps, hostname: string): Promise<PrefixMemory | null> {
  return PrefixMemory.open({
    dir: join(deps.config.stateDir, "prefixes"),
    system: deps.system,
    log: deps.log,
    hostname,
  });
}

/**
 * The timeline copies under `<state-dir>/timelines`, kept as long as the prefix memory keeps
 * their process (null when that directory cannot be used; logged).
 */
export function openTimelineCopies(
  deps: Deps,
  hostname: string,
  memory: PrefixMemory,
): Promise<TimelineCopies | null> {
  return TimelineCopies.open(
    join(deps.config.stateDir, "timelines"),
    deps.log,
    hostname,
    (entry) => memory.has(entry),
  );
}

/** The engine over the real discovery, probe and collectors, storing into `sink`. */
export function buildEngine(
  deps: Deps,
  sink: Sink,
  hostname: string,
  nodeName: () => string | undefined = () => undefined,
  watchingPods: () => boolean = () => false,
  memory: PrefixMemory | null = null,
  timelines: TimelineCopies | null = null,
  workloads: PodWorkloads = new PodWorkloads(),
): Engine {
  const { system, config, log, metrics } = deps;
  // LISTEN sockets over netlink, not /proc/net/tcp (a walk of the whole TCP hash per read)
  const discoverer = new Discoverer({ ...deps, listeners: SockDiag.open() });
  const crictl = new Crictl(system, {
    command: config.crictl,
    runtimeEndpoint: config.runtimeEndpoint,
    timeoutMs: config.crictlTimeout,
    metrics,
  });
  const images = new ImageSources(crictl, {
    onError: (image, error) => log.debug("image labels unreadable", { image, error }),
  });
  const imageSource = (image: string, signal: AbortSignal) => images.of(image, signal);
  const podWorkload = (uid: string) => workloads.get(uid);
  const gate = new PullGate(config.maxPulls, config.pullMemory);
  return new Engine(deps, {
    scan: (signal) => discoverer.scan(signal),
    probe: (candidate, signal, timeoutMs) => probe(candidate, { timeoutMs, signal }),
    attribute: (candidate, identity) => attribute(system, candidate, identity),
    changed: (signal) => discoverer.changed(signal),
    watchingPods,
    sizes: () => ({
      ...discoverer.sizes(),
      "prefixes.remembered": memory?.size ?? 0,
      "images.sources": images.size,
      "kube.workloads": workloads.size,
    }),
    recall: (target) => memory?.recall(target),
    collector: (target: Target): CollectorHandle => {
      const remember = memory
        ? (at: Date, hash: string) => memory.remember(target, at, hash)
        : undefined;
      const c = new Collector(
        target,
        {
          sink,
          system,
          log,
          metrics,
          config,
          hostname,
          nodeName,
          gate,
          remember,
          timelineCopy: timelines?.of(target),
          bootId: memory?.bootId,
          podWorkload,
          imageSource,
        },
        { refreshMs: config.storeRefresh },
      );
      return {
        run: async (signal) => {
          const end = await c.run(signal);
          if (end === "pid-gone") {
            await memory?.forget(target);
            await timelines?.forget(target);
          }
          return end;
        },
        pullNow: async (reason, signal) => {
          const out = await c.pullNow(reason, signal);
          const stored = out.result === "stored" || out.result === "unchanged";
          return { stored, result: out.result, error: out.error, prefix: c.prefix };
        },
        status: () => ({ ...c.status() }),
      };
    },
  });
}

function prefixed(p: string, sizes: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(sizes).map(([k, v]) => [`${p}.${k}`, v]));
}

/** Builds the daemon's parts: storage, the engine, and the Kubernetes watch. */
export async function buildParts(deps: Deps): Promise<Part[]> {
  const { log, config, system } = deps;
  const sink = await createSink(deps);
  const hostname = await nodeHostname(system, config.hostname);
  let nodeName: string | undefined = config.nodeName || undefined;
  // The engine asks the kube part (made after it) whether pod events arrive.
  const kubeRef: { part?: KubePart } = {};
  const watchingPods = () => kubeRef.part?.mode() === "full";
  const memory = await openPrefixMemory(deps, hostname);
  const timelines = memory && await openTimelineCopies(deps, hostname, memory);
  const workloads = new PodWorkloads();
  const engine = buildEngine(
    deps,
    sink,
    hostname,
    () => nodeName,
    watchingPods,
    memory,
    timelines,
    workloads,
  );
  const kube = createKubePart(deps, {
    triggerScan: (reason) => engine.triggerScan(reason),
    finalPull: async (podUid, reason) => {
      await engine.finalPull(podUid, reason);
    },
    setNodeName: (name) => nodeName = name,
    podWorkload: (uid, w) => workloads.set(uid, w),
  }, { hostname: () => hostname });
  kubeRef.part = kube;
  log.info("mode", {
    sink: sink.description,
    hostname,
    hostRoot: config.hostRoot,
    crictl: config.crictl,
    ports: `${config.portStart}-${config.portStart + config.portSpan - 1}`,
  });
  return [
    {
      name: "sink",
      run: (signal) => sink.run?.(signal) ?? Promise.resolve(),
      status: () => ({ description: sink.description, ...sink.status?.() }),
      sizes: () => prefixed("sink", sink.sizes?.() ?? {}),
    },
    {
      name: "engine",
      run: (signal) => engine.run(signal),
      beforeStop: async (deadline) => {
        await engine.finalPullAll("shutdown", deadline);
        if (sink.flush && (sink.pending?.() ?? 0) > 0) {
          const left = await sink.flush(deadline);
          if (left > 0) {
            log.warn("objects left in the spool at exit; the next start sends them", {
              objects: left,
              stateDir: config.stateDir,
            });
          }
        }
      },
      status: () => engine.status(),
      sizes: () => engine.sizes(),
    },
    kube,
  ];
}
