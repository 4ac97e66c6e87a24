/**
 * List then watch the pods of one node, forever: the resourceVersion is carried across
 * reconnects, a 410 means list again, errors back off, 403 is reported as a health fault.
 * The backoff restarts only after a stream that lived `healthyMs`: a server that accepts and
 * drops every watch (or answers 410 to each) is retried ever more slowly, never in a loop.
 */

import { errorText } from "../errors.ts";
import type { Health } from "../health.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { OnceLog } from "../log.ts";
import { Backoff } from "../backoff.ts";
import { KubeApiError } from "./api_errors.ts";
import type { KubeClient } from "./client.ts";
import { linkedAbort } from "../linked_abort.ts";
import { lines, parseWatchEvent, PodList, type PodMeta, WatchParseError } from "./watch_stream.ts";

export type PodEventType = "ADDED" | "MODIFIED" | "DELETED";

/** What the watcher tells its owner, in stream order. */
export interface PodHooks {
  /** A (re)list: every pod on the node now. */
  synced(pods: PodMeta[]): void;
  event(type: PodEventType, pod: PodMeta): void;
}

export type WatchState = "not-started" | "listing" | "connected" | "backing-off" | "forbidden";

export interface PodWatchStatus {
  watch: WatchState;
  resourceVersion?: string;
  eventsSeen: number;
  reconnects: number;
  relists: number;
  lastEventAt?: string;
  lastError?: string;
}

export interface PodWatcherOptions {
  /** Server-side watch timeout base; a random 0..60 s is added. */
  timeoutSeconds?: number;
  backoff?: Backoff;
  random?: () => number;
  /** A stream that lived this long was healthy: the backoff starts again (default 30 s). */
  healthyMs?: number;
  /** The clock (ms) that measures a stream's life; tests step it. */
  now?: () => number;
}

/** The list/watch query for one node. @example podsQuery("w1") // "fieldSelector=spec.nodeName%3Dw1" */
export function podsQuery(nodeName: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ fieldSelector: `spec.nodeName=${nodeName}`, ...extra }).toString();
}

const EVENTS = "coverage_collector_kube_events_total";
const RECONNECTS = "coverage_collector_kube_reconnects_total";
const RELISTS = "coverage_collector_kube_relists_total";
const HELP = {
  [EVENTS]: "Pod watch events seen, by type",
  [RECONNECTS]: "Pod watch reconnections",
  [RELISTS]: "Pod lists after the first (410 Gone or errors)",
};

/** Declares the pod watch counters so they show at 0. @example declareKubeMetrics(metrics) */
export function declareKubeMetrics(metrics: Metrics): void {
  for (const [name, help] of Object.entries(HELP)) metrics.counter(name, help);
}

/** 410 Gone from the watch: the resourceVersion is too old. */
class Expired extends Error {}

/**
 * Watches the pods of `nodeName` and calls `hooks` in order.
 *
 * @example await new PodWatcher(client, "w1", deps, hooks).run(signal)
 */
export class PodWatcher {
  #st: PodWatchStatus = { watch: "not-started", eventsSeen: 0, reconnects: 0, relists: 0 };
  #once = new OnceLog();
  #backoff: Backoff;
  #timeoutSeconds: number;
  #random: () => number;
  #healthyMs: number;
  #now: () => number;

  constructor(
    private client: KubeClient,
    private nodeName: string,
    private deps: { log: Logger; metrics: Metrics; health: Health },
    private hooks: PodHooks,
    opts: PodWatcherOptions = {},
  ) {
    this.#backoff = opts.backoff ?? new Backoff();
    this.#timeoutSeconds = opts.timeoutSeconds ?? 300;
    this.#random = opts.random ?? Math.random;
    this.#healthyMs = opts.healthyMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    declareKubeMetrics(deps.metrics);
  }

  status(): PodWatchStatus {
    return { ...this.#st };
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let rv: string | undefined;
    let listed = false;
    while (!signal.aborted) {
      let started: number | undefined;
      try {
        if (rv === undefined) {
          rv = await this.#list(signal, listed);
          listed = true;
        }
        started = this.#now();
        rv = await this.#watch(rv, signal);
        // A normal end (timeoutSeconds) of a stream that lived: reconnect from rv at once.
        if (!this.#lived(started) && !await this.#backoff.wait(signal)) return;
        this.#reconnected("stream ended");
      } catch (e) {
        if (signal.aborted) return;
        const lived = started !== undefined && this.#lived(started);
        if (e instanceof Expired) {
          this.deps.log.info("watch resourceVersion expired; listing again", {
            resourceVersion: rv,
            lived,
          });
          rv = undefined;
          // Expiry after a long stream is routine; a 410 on every fresh watch must not spin.
          if (!lived && !await this.#backoff.wait(signal)) return;
          continue;
        }
        this.#problem(e);
        this.#st.watch = this.#st.watch === "forbidden" ? "forbidden" : "backing-off";
        if (!await this.#backoff.wait(signal)) return;
        if (listed) this.#reconnected("error");
      }
    }
  }

  /** True (and the backoff starts over) when the stream begun at `started` lived long enough. */
  #lived(started: number): boolean {
    if (this.#now() - started < this.#healthyMs) return false;
    this.#backoff.reset();
    return true;
  }

  #reconnected(why: string) {
    this.#st.reconnects++;
    this.deps.metrics.inc(RECONNECTS, HELP[RECONNECTS]);
    this.deps.log.debug("pod watch reconnecting", {
      why,
      resourceVersion: this.#st.resourceVersion,
    });
  }

  #problem(e: unknown) {
    const msg = errorText(e);
    this.#st.lastError = msg;
    if (e instanceof KubeApiError && e.status === 403) {
      this.#st.watch = "forbidden";
      this.deps.health.set("kube", {
        ready: false,
        reason: `node identity cannot list pods: ${e.apiMessage}`,
      });
    } else {
      // After a good list the last view still stands: degraded, not unready.
      const listed = this.#st.resourceVersion !== undefined;
      this.deps.health.set("kube", { ready: listed, degraded: listed, reason: `pods: ${msg}` });
    }
    if (this.#once.changed("watch", msg)) {
      this.deps.log.warn("pod list/watch failed; backing off", { node: this.nodeName, error: msg });
    }
  }

  async #list(signal: AbortSignal, relist: boolean): Promise<string> {
    this.#st.watch = "listing";
    const body = await this.client.json("GET", `/api/v1/pods?${podsQuery(this.nodeName)}`, {
      signal,
    });
    const parsed = PodList.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new Error(
        `pod list from ${this.client.server.origin}: ${i.path.join(".")}: ${i.message}`,
      );
    }
    const rv = parsed.data.metadata.resourceVersion ?? "";
    if (relist) {
      this.#st.relists++;
      this.deps.metrics.inc(RELISTS, HELP[RELISTS]);
    }
    this.#st.resourceVersion = rv;
    this.deps.health.set("kube", { ready: true });
    if (this.#once.cleared("watch")) this.deps.log.info("pod list works again");
    this.hooks.synced(parsed.data.items ?? []);
    return rv;
  }

  /** One watch stream; returns the last resourceVersion when it ends normally. */
  async #watch(rv: string, outer: AbortSignal): Promise<string> {
    const timeoutSeconds = this.#timeoutSeconds + Math.floor(this.#random() * 60);
    const query = podsQuery(this.nodeName, {
      watch: "true",
      resourceVersion: rv,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeoutSeconds),
    });
    // The stream's own signal: the shutdown's, or its own when it falls silent. Linked by strong
    // references (AbortSignal.any is lost at a GC, and the watch would outlive the shutdown).
    const stop = linkedAbort([outer]);
    let silent = false;
    let res: Response;
    try {
      res = await this.client.request("GET", `/api/v1/pods?${query}`, {
        signal: stop.signal,
        stream: true,
      });
    } catch (e) {
      stop.dispose();
      if (e instanceof KubeApiError && e.status === 410) throw new Expired();
      throw e;
    }
    if (!res.body) {
      stop.dispose();
      throw new Error(`watch from ${this.client.server.origin}: no body`);
    }
    this.#st.watch = "connected";
    this.deps.health.set("kube", { ready: true });
    // A stream silent for longer than its own timeout is dead: abort it.
    const idleMs = (timeoutSeconds + 30) * 1000;
    const idle = () => {
      silent = true;
      stop.abort(new Error(`silent for ${idleMs}ms`));
    };
    let timer = setTimeout(idle, idleMs);
    try {
      for await (const line of lines(res.body)) {
        clearTimeout(timer);
        timer = setTimeout(idle, idleMs);
        rv = this.#handle(line, rv);
      }
    } catch (e) {
      if (e instanceof Expired || e instanceof KubeApiError || outer.aborted) throw e;
      throw new Error(
        silent
          ? `watch from ${this.client.server.origin}: silent for ${idleMs}ms`
          : `watch from ${this.client.server.origin} broke: ${e instanceof Error ? e.message : e}`,
      );
    } finally {
      clearTimeout(timer);
      stop.dispose();
      await res.body.cancel().catch(() => {});
    }
    return rv;
  }

  #handle(line: string, rv: string): string {
    let ev;
    try {
      ev = parseWatchEvent(line);
    } catch (e) {
      if (e instanceof WatchParseError) {
        this.deps.log.warn("skipping a watch event", { error: e.message });
        return rv;
      }
      throw e;
    }
    if (ev.type === "ERROR") {
      if (ev.object.code === 410) throw new Expired();
      throw new KubeApiError(
        ev.object.code ?? 500,
        "WATCH",
        "/api/v1/pods",
        ev.object.message ?? "",
        ev.object.reason,
      );
    }
    const next = ev.object.metadata.resourceVersion ?? rv;
    this.#st.resourceVersion = next;
    if (ev.type === "BOOKMARK") return next;
    this.#st.eventsSeen++;
    this.#st.lastEventAt = new Date().toISOString();
    this.deps.metrics.inc(EVENTS, HELP[EVENTS], { type: ev.type });
    this.hooks.event(ev.type, ev.object);
    return next;
  }
}
