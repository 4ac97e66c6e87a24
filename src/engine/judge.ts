/**
 * The engine's judgement of candidates: which listening sockets are due for a probe, the probe
 * and attribution that make one a target (or not), and the memory of every verdict, so that a
 * judged socket is not probed again while it lives and a silent one is tried less and less often.
 * A scan's probes have a time budget: a socket that accepts and stays silent costs a short first
 * probe, then backs off, and never makes a scan longer (what the budget leaves goes to the next).
 */

import type { Deps } from "../deps.ts";
import type { Logger } from "../log.ts";
import type { Stages } from "./stages.ts";
import { DiscoveryClock } from "./discovery_clock.ts";
import { readStartTime } from "../procfs/stat.ts";
import type { Candidate, Identity, Owner, Target } from "../target.ts";
import { targetFields } from "../target.ts";

/** Judged candidates are not probed again while their socket lives. */
type Verdict = "collecting" | "not-coverage" | "refused";

const PROBE_CONCURRENCY = 64;
const PROBE_RETRY_MS = 5_000;
const PROBE_RETRY_MAX_MS = 5 * 60_000;
/**
 * A candidate never probed gets this long (a coverage server answers HEAD in milliseconds); one
 * that stayed silent that long is probed with the full probe timeout at the next scan.
 */
const FIRST_PROBE_MS = 500;
/** No probe starts after this much of a scan (or the probe timeout, if longer). */
const SCAN_BUDGET_MS = 2_000;

/** The stages a judgement uses: the probe, attribution, and the memory of earlier runs. */
type JudgeStages = Pick<Stages, "probe" | "attribute" | "recall">;

const ownerKey = (o: Owner) => o.kind === "host" ? "_host_" : o.container.id;
const candidateKey = (c: Candidate) => `${ownerKey(c.owner)}|${c.host}|${c.port}|${c.inode}`;

/**
 * Probes candidates and remembers what it found.
 *
 * @example
 * const judge = new Judge(deps, stages, log);
 * await judge.judgeAll(view.candidates, signal, (t) => start(t));
 */
export class Judge {
  #deps: Deps;
  #stages: JudgeStages;
  #log: Logger;
  #verdicts = new Map<string, Verdict>();
  /** Target key → the candidate key it was judged under. */
  #candidateOf = new Map<string, string>();
  /** Candidates whose probe failed (no HTTP answer): when to try again. */
  #probeErrors = new Map<string, { failures: number; retryAt: number; firstMissed?: boolean }>();
  #refusedInScan: { candidate: Candidate; identity: Identity }[] = [];
  #clock = new DiscoveryClock();
  /** Candidates of the scan under way that stayed silent for their short first probe. */
  #firstMissed = 0;

  constructor(deps: Deps, stages: JudgeStages, log: Logger) {
    this.#deps = deps;
    this.#stages = stages;
    this.#log = log;
  }

  /**
   * Judges the candidates of one scan that are due, at most PROBE_CONCURRENCY at once, and hands
   * each new target to `found` as soon as it is confirmed. Judgements of sockets no longer among
   * `candidates` are forgotten first. Never-probed candidates go first, then those silent longer
   * and longer; no probe starts once the scan's budget is spent. `carried`: candidates left for
   * the next scan (not probed, or silent for their short first probe: a full one comes next). A scan takes at most the budget plus one probe timeout, however many
   * silent sockets there are.
   */
  async judgeAll(
    candidates: Candidate[],
    signal: AbortSignal,
    found: (t: Target) => void,
  ): Promise<{ carried: number }> {
    // Forget judgements of sockets that are gone. A running collector whose socket vanished from
    // one scan is not disturbed: if the socket comes back, its target key is already running.
    const live = new Set(candidates.map(candidateKey));
    for (const key of [...this.#verdicts.keys()]) if (!live.has(key)) this.#verdicts.delete(key);
    for (const key of [...this.#probeErrors.keys()]) {
      if (!live.has(key)) this.#probeErrors.delete(key);
    }
    this.#clock.forget(this.#deps.system.now());
    const now = this.#deps.system.monotonic(); // retries wait on it: a wall clock set back stalls
    const urgency = (c: Candidate) => {
      const e = this.#probeErrors.get(candidateKey(c));
      return e === undefined ? 0 : e.firstMissed ? 1 : 1 + e.failures;
    };
    const fresh = candidates.filter((c) => {
      const key = candidateKey(c);
      return !this.#verdicts.has(key) && (this.#probeErrors.get(key)?.retryAt ?? -Infinity) <= now;
    }).map((c) => ({ c, u: urgency(c) })).sort((a, b) => a.u - b.u).map((x) => x.c);
    const budgetEnd = performance.now() + Math.max(SCAN_BUDGET_MS, this.#deps.config.probeTimeout);
    const inBudget = () => performance.now() < budgetEnd;
    this.#firstMissed = 0;
    const notStarted = await forEachLimited(fresh, PROBE_CONCURRENCY, inBudget, async (c) => {
      let t: Target | null;
      try {
        t = await this.#judge(c, signal);
      } catch (e) {
        if (signal.aborted) return;
        this.#log.warn("candidate not judged", { ...targetFields(c), host: c.host, error: e });
        return;
      }
      if (t) found(t);
    });
    const carried = notStarted + this.#firstMissed;
    if (carried > 0) {
      this.#log.debug("candidates carried to the next scan", { carried, notStarted });
    }
    return { carried };
  }

  /**
   * For a target whose collector starts now: what to call when it ends, so that its socket is
   * judged again at the next scan.
   */
  onCollectorEnd(targetKey: string): () => void {
    const key = this.#candidateOf.get(targetKey);
    return () => {
      this.#candidateOf.delete(targetKey);
      if (key) this.#verdicts.delete(key);
    };
  }

  /**
   * A confirmed server whose collector could not be made: forget its verdict, so it is judged
   * again, and wait before that like after a failed probe (no spinning on a server that always
   * fails the same way).
   */
  startFailed(targetKey: string): void {
    const key = this.#candidateOf.get(targetKey);
    this.#candidateOf.delete(targetKey);
    if (key) {
      this.#verdicts.delete(key);
      this.#retryLater(key);
    }
  }

  /** A scan begins: its refusals replace the last scan's. */
  beginScan(): void {
    this.#refusedInScan = [];
  }

  /** Coverage servers the last scan refused to file under their apparent owner. */
  refusedInLastScan(): { candidate: Candidate; identity: Identity }[] {
    return [...this.#refusedInScan];
  }

  /** How many live sockets carry each verdict (for /status). */
  counts(): Record<string, number> {
    return [...this.#verdicts.values()].reduce<Record<string, number>>((acc, v) => {
      acc[v] = (acc[v] ?? 0) + 1;
      return acc;
    }, {});
  }

  /** Entries of the long-lived maps (flat under churn). */
  sizes(): Record<string, number> {
    return {
      "engine.verdicts": this.#verdicts.size,
      "engine.candidateOf": this.#candidateOf.size,
      "engine.probeErrors": this.#probeErrors.size,
      "engine.recentPaths": this.#clock.size,
    };
  }

  /** Backs off a candidate: 5 s after its first failure, doubling up to 5 minutes. */
  #retryLater(key: string): number {
    const failures = (this.#probeErrors.get(key)?.failures ?? 0) + 1;
    const wait = Math.min(PROBE_RETRY_MAX_MS, PROBE_RETRY_MS * 2 ** (failures - 1));
    this.#probeErrors.set(key, { failures, retryAt: this.#deps.system.monotonic() + wait });
    return failures;
  }

  async #judge(c: Candidate, signal: AbortSignal): Promise<Target | null> {
    const key = candidateKey(c);
    const fields = targetFields(c);
    const timeout = this.#deps.config.probeTimeout;
    const first = !this.#probeErrors.has(key);
    const verdict = await this.#stages.probe(
      c,
      signal,
      first ? Math.min(FIRST_PROBE_MS, timeout) : timeout,
    );
    const m = this.#deps.metrics;
    m.inc("coverage_collector_probes_total", "Identity probes by result", { result: verdict.kind });
    if (verdict.kind === "error" && verdict.timedOut && first && FIRST_PROBE_MS < timeout) {
      // Silent for the short first probe: the full timeout at the next scan, before any backoff.
      this.#probeErrors.set(key, { failures: 0, retryAt: 0, firstMissed: true });
      this.#firstMissed++;
      this.#log.debug("probe: no answer to the first short probe", { ...fields, host: c.host });
      return null;
    }
    if (verdict.kind === "error") {
      // A listener that does not answer HTTP is tried again later, less and less often.
      const failures = this.#retryLater(key);
      this.#log.debug("probe failed", { ...fields, host: c.host, error: verdict.error, failures });
      return null;
    }
    this.#probeErrors.delete(key);
    if (verdict.kind === "not-coverage") {
      this.#verdicts.set(key, "not-coverage");
      this.#log.info("not a coverage server", { ...fields, host: c.host, status: verdict.status });
      return null;
    }
    const hostPid = await this.#stages.attribute(c, verdict.identity);
    if (hostPid === null) {
      this.#verdicts.set(key, "refused");
      this.#refusedInScan.push({ candidate: c, identity: verdict.identity });
      m.inc("coverage_collector_attribution_refused_total", "Servers refused: PID not owner's");
      this.#log.warn("server refused: its PID is not a process of the owner", {
        ...fields,
        host: c.host,
        binary: verdict.identity.binary,
        reportedPid: verdict.identity.pid,
      });
      return null;
    }
    this.#verdicts.set(key, "collecting");
    const target: Target = {
      key: `${ownerKey(c.owner)}:${c.port}:${hostPid}`,
      owner: c.owner,
      host: c.host,
      port: c.port,
      identity: verdict.identity,
      hostPid,
      hostStartTime: await readStartTime(this.#deps.system, hostPid) ?? undefined,
      discoveredAt: this.#clock.timeFor(
        { owner: c.owner, identity: verdict.identity },
        this.#deps.system.now(),
      ),
    };
    const known = this.#stages.recall?.(target);
    if (known) {
      target.remembered = { metaHash: known.metaHash, freshAt: target.discoveredAt };
      target.discoveredAt = known.discoveredAt;
    }
    this.#candidateOf.set(target.key, key);
    this.#log.info("coverage server found", {
      ...fields,
      host: c.host,
      binary: verdict.identity.binary,
      pid: hostPid,
      ...(known ? { storedSince: known.discoveredAt.toISOString() } : {}),
    });
    return target;
  }
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, starting none once `more()` is false;
 * resolves with how many were not started.
 */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  more: () => boolean,
  fn: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && more()) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return items.length - next;
}
