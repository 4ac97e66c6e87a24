/** One discovery scan: crictl's container view + /proc → containers and candidate servers. */

import type { Config } from "../config.ts";
import type { Health } from "../health.ts";
import { type Logger, OnceLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { System } from "../system.ts";
import type { Candidate, ContainerInfo } from "../target.ts";
import { Crictl, CrictlError } from "../cri/crictl.ts";
import type { PsContainer } from "../cri/schemas.ts";
import { containerIdOf } from "../procfs/cgroup.ts";
import { readCoveragePort } from "../procfs/environ.ts";
import { containerInfoOf, ContainerScanner } from "./containers.ts";
import { type ListenerSource, ScanContext } from "./context.ts";
import { HostScanner } from "./host.ts";

export interface DiscovererDeps {
  system: System;
  config: Pick<Config, "crictl" | "runtimeEndpoint" | "crictlTimeout" | "portStart" | "portSpan">;
  log: Logger;
  metrics: Metrics;
  health: Health;
  /** Where LISTEN sockets come from without /proc/net/tcp (null or absent: /proc/net/tcp). */
  listeners?: (ListenerSource & { retain(keep: Set<string>): void; size: number }) | null;
}

export interface ScanResult {
  /** Running containers: this scan's crictl view, or the last good one when crictl failed. */
  containers: ContainerInfo[];
  /** Listeners in range, each filed once under its container or the host. */
  candidates: Candidate[];
  /** False when `crictl ps` failed this scan. */
  crictlOk: boolean;
  crictlError?: string;
}

const CANDIDATES = "coverage_collector_discovery_candidates";
const CANDIDATES_HELP = "Candidate coverage servers found by the last scan, by owner kind";
const SCANS = "coverage_collector_discovery_scans_total";
const SCANS_HELP = "Discovery scans run";

/** How long a `crictl ps` taken by `changed()` stands in for the scan's own. */
const PREFETCH_FRESH_MS = 2_000;

/**
 * Finds coverage server candidates. Keep one per process: it caches what crictl said about each
 * container, what /proc said about each container's listeners, and who holds each host listener,
 * so a scan with nothing new costs one `crictl ps` and a few small reads (see ContainerScanner,
 * HostScanner).
 *
 * @example
 * const d = new Discoverer({ system, config, log, metrics, health });
 * const { candidates } = await d.scan(signal);
 */
export class Discoverer {
  #deps: DiscovererDeps;
  #crictl: Crictl;
  #host: HostScanner;
  #scanner: ContainerScanner;
  #once = new OnceLog();
  /** Container IDs whose inspect failed (their OnceLog keys), dropped when they leave `ps`. */
  #inspectFailing = new Set<string>();
  /** ContainerInfo per container ID, built once per ID while it is in `crictl ps`. */
  #known = new Map<string, ContainerInfo>();
  /** Container IDs of the last `crictl ps` a scan used. */
  #listed = new Set<string>();
  /** A `crictl ps` taken by `changed()`, for the scan it starts (no second run). */
  #prefetched: { ps: PsContainer[]; at: number } | null = null;
  /** The host network namespace (/proc/1/ns/net), read once. */
  #hostNs?: string;

  constructor(deps: DiscovererDeps) {
    this.#deps = deps;
    const { config, system, metrics } = deps;
    this.#crictl = new Crictl(system, {
      command: config.crictl,
      runtimeEndpoint: config.runtimeEndpoint,
      timeoutMs: config.crictlTimeout,
      metrics,
    });
    this.#host = new HostScanner(config.portStart, config.portSpan, {
      now: () => system.monotonic(),
    });
    this.#scanner = new ContainerScanner(config.portSpan);
    metrics.counter(SCANS, SCANS_HELP);
  }

  /** Entries of what discovery remembers between scans (the soak benchmark watches them). */
  sizes(): Record<string, number> {
    const host = this.#host.sizes();
    return {
      "discover.known": this.#known.size,
      "discover.listed": this.#listed.size,
      "discover.inspectFailing": this.#inspectFailing.size,
      "discover.containerMemo": this.#scanner.size,
      "discover.hostHolders": host.holders,
      "discover.hostRanges": host.ranges,
      "discover.inspectpCache": this.#crictl.cachedSandboxes(),
      "discover.sockDiagSockets": this.#deps.listeners?.size ?? 0,
    };
  }

  /** Runs one scan. Rejects only when `signal` aborts or /proc itself cannot be read. */
  async scan(signal: AbortSignal): Promise<ScanResult> {
    signal.throwIfAborted();
    const { system, metrics } = this.#deps;
    const view = await this.#containers(signal);
    this.#scanner.retain(new Set(view.containers.map((c) => c.id)));
    const ctx = new ScanContext(system, signal, this.#deps.log, this.#deps.listeners);
    if (this.#hostNs) ctx.seedNetns(1, this.#hostNs);
    else this.#hostNs = await ctx.netnsOf(1) ?? undefined;
    const unsure = view.crictlOk ? view.unsure : { has: () => true };
    const { candidates, claimed } = await this.#scanner.scan(ctx, view.containers, unsure);
    const hosts = await this.#host.scan(ctx, claimed, view.containers);
    this.#deps.listeners?.retain(ctx.namespaces()); // sockets of namespaces gone are closed
    metrics.inc(SCANS, SCANS_HELP);
    metrics.set(CANDIDATES, CANDIDATES_HELP, candidates.length, { owner: "container" });
    metrics.set(CANDIDATES, CANDIDATES_HELP, hosts.length, { owner: "host" });
    const { unsure: _, ...rest } = view;
    return { ...rest, candidates: [...candidates, ...hosts] };
  }

  /**
   * A cheap look for new containers between scans when no pod events come (host-only mode):
   * one `crictl ps`, compared with the last scan's. True when a container came or went; the
   * listing is kept for the scan that follows.
   */
  async changed(signal: AbortSignal): Promise<boolean> {
    let ps: PsContainer[];
    try {
      ps = await this.#crictl.ps(signal);
    } catch (e) {
      if (e instanceof CrictlError) return false; // the next scan reports it
      throw e;
    }
    this.#prefetched = { ps, at: this.#deps.system.monotonic() };
    return ps.length !== this.#listed.size || ps.some((p) => !this.#listed.has(p.id));
  }

  async #containers(
    signal: AbortSignal,
  ): Promise<
    { containers: ContainerInfo[]; crictlOk: boolean; crictlError?: string; unsure: Set<string> }
  > {
    const { log, health, system } = this.#deps;
    let ps: PsContainer[];
    const pre = this.#prefetched;
    this.#prefetched = null;
    try {
      ps = pre && system.monotonic() - pre.at < PREFETCH_FRESH_MS
        ? pre.ps
        : await this.#crictl.ps(signal);
    } catch (e) {
      if (!(e instanceof CrictlError)) throw e;
      // A container that died during the outage may have its PID reused: keep only those whose
      // PID still sits in the container's cgroup (one small read each, only while crictl fails).
      for (const [id, c] of this.#known) {
        signal.throwIfAborted();
        if (await containerIdOf(system, c.pid) !== id) this.#known.delete(id);
      }
      const containers = [...this.#known.values()];
      if (this.#once.changed("crictl", e.message)) {
        log.warn("crictl failed; using the last good container view", {
          error: e.message,
          kind: e.kind,
          containers: containers.length,
        });
      }
      health.set("crictl", { ready: true, degraded: true, reason: e.message });
      return { containers, crictlOk: false, crictlError: e.message, unsure: new Set() };
    }
    if (this.#once.cleared("crictl")) log.info("crictl works again", { containers: ps.length });
    health.set("crictl", { ready: true });

    const next = new Map<string, ContainerInfo>();
    const described = await this.#describeAll(ps.filter((p) => !this.#known.has(p.id)), signal);
    // Sandboxes with a listed container not described (yet): their siblings claim less.
    const unsure = new Set<string>();
    for (const p of ps) {
      const info = this.#known.get(p.id) ?? described.get(p.id);
      if (info) next.set(p.id, info);
      else unsure.add(p.podSandboxId);
    }
    this.#known = next;
    const listed = new Set(ps.map((p) => p.id));
    this.#listed = listed;
    for (const id of this.#inspectFailing) {
      if (listed.has(id)) continue;
      this.#inspectFailing.delete(id);
      this.#once.cleared(`inspect ${id}`);
    }
    return { containers: [...next.values()], crictlOk: true, unsure };
  }

  /**
   * inspect + inspectp + environ of the containers first seen: one `crictl inspect` for all of
   * them and one `crictl inspectp` for their sandboxes not known yet, so a cold start on a node
   * with hundreds of containers costs three crictl runs, not hundreds.
   */
  async #describeAll(
    fresh: PsContainer[],
    signal: AbortSignal,
  ): Promise<Map<string, ContainerInfo>> {
    const out = new Map<string, ContainerInfo>();
    if (fresh.length === 0) return out;
    const { system, config } = this.#deps;
    const inspects = await this.#crictl.inspectMany(fresh.map((p) => p.id), signal);
    const running = fresh.filter((p) => {
      const r = inspects.get(p.id);
      return r !== undefined && !(r instanceof CrictlError) && r.info.pid > 0;
    });
    const sandboxes = await this.#crictl.inspectpMany(running.map((p) => p.podSandboxId), signal);
    await Promise.all(fresh.map(async (p) => {
      const inspect = inspects.get(p.id)!;
      if (inspect instanceof CrictlError) return this.#describeFailed(p, inspect);
      const sandbox = sandboxes.get(p.podSandboxId);
      if (sandbox instanceof CrictlError) return this.#describeFailed(p, sandbox);
      if (sandbox === undefined) return; // no process yet: not kept, so asked again next scan
      const port = await readCoveragePort(system, inspect.info.pid);
      const info = containerInfoOf(p, inspect, sandbox, port ?? config.portStart);
      if (!info) return;
      this.#once.cleared(`inspect ${p.id}`);
      this.#inspectFailing.delete(p.id);
      out.set(p.id, info);
    }));
    return out;
  }

  #describeFailed(p: PsContainer, e: CrictlError): void {
    this.#inspectFailing.add(p.id);
    if (this.#once.changed(`inspect ${p.id}`, e.message)) {
      this.#deps.log.warn("crictl could not describe a container; skipping it this scan", {
        container_id: p.id,
        error: e.message,
      });
    }
  }
}
