/**
 * The kube part of the daemon: find the kubeconfig (waiting for it on a booting node), learn the
 * node name, then list+watch the node's pods and tell the engine what changed. A pod that starts
 * deleting is the last good moment to pull its coverage: that is `finalPull`, once per pod.
 */

import { errorText } from "../errors.ts";
import { nodeHostname } from "../hostname.ts";
import type { Deps, Part } from "../deps.ts";
import { Backoff } from "../backoff.ts";
import { KubeClient } from "./client.ts";
import { type IdentitySource, learnNodeName } from "./identity.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import {
  type FindOptions,
  fsPath,
  type KubeconfigLocation,
  waitForKubeconfig,
} from "./kubeconfig_source.ts";
import {
  declareKubeMetrics,
  type PodEventType,
  PodWatcher,
  type PodWatcherOptions,
} from "./pods.ts";
import type { PodMeta } from "./watch_stream.ts";
import { type Workload, workloadOf } from "./workload.ts";

/** What the kube part asks of the engine. */
export interface KubeHooks {
  /** Something changed on the node: scan soon (the engine coalesces). */
  triggerScan(reason: string): void;
  /** The pod is going away: pull its containers' coverage now. */
  finalPull(podUid: string, reason: string): Promise<void>;
  setNodeName(name: string): void;
  /** Who runs the pod, at every list and event. Kept past the pod's deletion: its final pull
   * may write the first info.json after the DELETED event (the receiver bounds what it keeps). */
  podWorkload?(uid: string, workload: Workload): void;
}

export type KubeMode = "waiting-for-kubeconfig" | "connecting" | "full" | "host-only";

export interface KubeStatus {
  mode: KubeMode;
  kubeconfigSource?: string;
  kubeconfigPath?: string;
  nodeName?: string;
  identitySource?: IdentitySource;
  watch: string;
  eventsSeen: number;
  reconnects: number;
  relists: number;
  lastEventAt?: string;
  lastError?: string;
  podsKnown: number;
  certificateReloads: number;
}

/** The kube part as the daemon sees it: a part that says whether pod events arrive. */
export interface KubePart extends Part {
  /** Where the kube side is: `full` while the pod watch runs. */
  mode(): KubeMode;
}

export interface KubePartOptions extends FindOptions {
  /** Kubeconfig poll period (default 1 s). */
  pollMs?: number;
  /** Kubeconfig poll period once host-only (default 30 s). */
  slowPollMs?: number;
  /** How the kubeconfig wait sleeps (tests record the delays). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
  watcher?: PodWatcherOptions;
  /** Backoff of identity and kubeconfig retries. */
  backoff?: () => Backoff;
  /** Last-resort node name; default: nodeHostname (--hostname, else the host's name). */
  hostname?: () => string;
}

/**
 * Remembers pods that got their final pull, so it happens once per pod (bounded), until the pod
 * is gone from the API (its uid never comes back).
 */
class Finals {
  #done = new Set<string>();
  get size(): number {
    return this.#done.size;
  }
  first(uid: string): boolean {
    if (this.#done.has(uid)) return false;
    this.#done.add(uid);
    if (this.#done.size > 10_000) this.#done.delete(this.#done.values().next().value!);
    return true;
  }
  forget(uid: string): void {
    this.#done.delete(uid);
  }
}

/**
 * Builds the kube part.
 *
 * @example
 * const part = createKubePart(deps, { triggerScan, finalPull, setNodeName });
 * await part.run(signal);
 */
export function createKubePart(
  deps: Deps,
  hooks: KubeHooks,
  opts: KubePartOptions = {},
): KubePart {
  const { config, log, health, system } = deps;
  const klog = log.with({ part: "kube" });
  const st: Omit<KubeStatus, "watch" | "eventsSeen" | "reconnects" | "relists"> = {
    mode: "waiting-for-kubeconfig",
    podsKnown: 0,
    certificateReloads: 0,
  };
  let watcher: PodWatcher | undefined;
  let client: KubeClient | undefined;
  const pods = new Map<string, string>(); // uid → namespace/name
  const finals = new Finals();
  const newBackoff = opts.backoff ?? (() => new Backoff());
  declareKubeMetrics(deps.metrics);

  const final = (pod: PodMeta, reason: string) => {
    const { uid, namespace, name } = pod.metadata;
    if (!finals.first(uid)) return;
    klog.info("pod going away: final pull", { namespace, pod: name, uid, reason });
    hooks.finalPull(uid, reason).catch((e) =>
      klog.warn("final pull failed", { namespace, pod: name, uid, error: e })
    );
  };

  const synced = (list: PodMeta[]) => {
    const seen = new Set<string>();
    for (const p of list) {
      seen.add(p.metadata.uid);
      pods.set(p.metadata.uid, `${p.metadata.namespace}/${p.metadata.name}`);
      hooks.podWorkload?.(p.metadata.uid, workloadOf(p.metadata));
      if (p.metadata.deletionTimestamp) final(p, "deleting at list");
    }
    for (const [uid, ref] of pods) {
      if (seen.has(uid)) continue;
      const [namespace, name] = ref.split("/");
      final({ metadata: { uid, namespace, name } }, "gone at relist");
      finals.forget(uid);
      pods.delete(uid);
    }
    st.podsKnown = pods.size;
    hooks.triggerScan(`pod list (${list.length} pods)`);
  };

  const event = (type: PodEventType, p: PodMeta) => {
    const { uid, namespace, name } = p.metadata;
    if (type === "DELETED") {
      final(p, "pod deleted");
      finals.forget(uid);
      pods.delete(uid);
    } else {
      pods.set(uid, `${namespace}/${name}`);
      hooks.podWorkload?.(uid, workloadOf(p.metadata));
      if (p.metadata.deletionTimestamp) final(p, "pod deleting");
    }
    st.podsKnown = pods.size;
    hooks.triggerScan(`pod ${type.toLowerCase()} ${namespace}/${name}`);
  };

  /** Reads the kubeconfig and builds a client; retried with backoff (the file may be mid-write). */
  const connect = async (loc: KubeconfigLocation, signal: AbortSignal) => {
    const backoff = newBackoff();
    while (!signal.aborted) {
      try {
        const text = await Deno.readTextFile(fsPath(loc.root, loc.path));
        const spec = parseKubeconfig(text, { path: loc.path });
        return await KubeClient.create(spec, loc.root, {
          log: klog,
          insecure: config.kubeInsecure,
          allowHttp: config.kubeAllowHttp,
        });
      } catch (e) {
        const reason = errorText(e);
        st.lastError = reason;
        health.set("kube", { ready: false, reason: `kubeconfig unusable: ${reason}` });
        klog.error("kubeconfig unusable; retrying", { path: loc.path, error: reason });
        if (!await backoff.wait(signal)) return undefined;
      }
    }
    return undefined;
  };

  return {
    name: "kube",
    async run(signal) {
      health.set("kube", { ready: false, reason: "waiting for a kubeconfig" });
      const loc = await waitForKubeconfig({ system, config, log: klog }, {
        ...opts,
        signal,
        waitMs: config.kubeconfigWait,
        onHostOnly() {
          st.mode = "host-only";
          health.set("kube", {
            ready: true,
            reason: "host-only: no kubeconfig found (still looking)",
          });
        },
      });
      if (signal.aborted || !loc) return;
      st.mode = "connecting";
      st.kubeconfigSource = loc.source;
      st.kubeconfigPath = fsPath(loc.root, loc.path);
      health.set("kube", { ready: false, reason: "learning the node name" });
      client = await connect(loc, signal);
      if (!client) return;
      const fallbackHost = opts.hostname ? "" : await nodeHostname(system, config.hostname);
      try {
        const id = await learnNodeName(client, klog, {
          signal,
          nodeName: config.nodeName,
          hostname: opts.hostname ?? (() => fallbackHost),
          backoff: newBackoff(),
          onRetry: (e) => {
            st.lastError = errorText(e);
            health.set("kube", { ready: false, reason: `API server: ${st.lastError}` });
          },
        });
        if (!id) return;
        st.nodeName = id.name;
        st.identitySource = id.source;
        klog.info("node identity", { nodeName: id.name, source: id.source });
        hooks.setNodeName(id.name);
        health.set("kube", { ready: false, reason: "listing pods" });
        st.mode = "full";
        watcher = new PodWatcher(client, id.name, deps, { synced, event }, opts.watcher);
        await watcher.run(signal);
      } finally {
        client.close();
      }
    },
    sizes: () => ({ "kube.pods": pods.size, "kube.finals": finals.size }),
    mode: () => st.mode,
    status(): KubeStatus {
      const w = watcher?.status();
      return {
        ...st,
        watch: w?.watch ?? (st.mode === "host-only" ? "off" : "not-started"),
        eventsSeen: w?.eventsSeen ?? 0,
        reconnects: w?.reconnects ?? 0,
        relists: w?.relists ?? 0,
        lastEventAt: w?.lastEventAt,
        lastError: w?.lastError ?? st.lastError,
        certificateReloads: client?.rotations ?? 0,
      };
    },
  };
}
