/**
 * Measuring helpers of scripts/bench.ts: process CPU and peak memory from /proc, Prometheus text
 * parsing, percentiles, and a cheap poller that notices when a server's first file is stored.
 */

import { join } from "node:path";

/** CPU seconds of a process: its own (utime+stime) and its reaped children's (cutime+cstime). */
export interface CpuTimes {
  own: number;
  children: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * Reads /proc/<pid>/stat. Fields after the `(comm)` are counted from the last `)`.
 * @example const t = await cpuTimes(Deno.pid); // { own: 0.42, children: 0 }
 */
export async function cpuTimes(pid: number): Promise<CpuTimes> {
  const path = `/proc/${pid}/stat`;
  const text = await Deno.readTextFile(path);
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state): utime is field 14 → rest[11].
  const [utime, stime, cutime, cstime] = rest.slice(11, 15).map(Number);
  if ([utime, stime, cutime, cstime].some((n) => !Number.isFinite(n))) {
    throw new Error(`${path}: cannot read utime/stime/cutime/cstime from ${JSON.stringify(text)}`);
  }
  return { own: (utime + stime) / CLOCK_TICKS, children: (cutime + cstime) / CLOCK_TICKS };
}

/** Parses the CPU seconds (utime+stime) and the name out of one /proc/<pid>/stat text. */
export function parseThreadStat(text: string): { name: string; cpu: number } | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(" ");
  const cpu = (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS;
  return Number.isFinite(cpu) ? { name: text.slice(open + 1, close), cpu } : null;
}

/**
 * CPU seconds of a process's threads by thread name (Deno's: `deno` the main thread running JS,
 * `tokio-runtime-w` the I/O and blocking-pool threads, `V8 DefaultWorke` V8's GC and compiler
 * helpers); a thread that ended since is not counted.
 * @example const t = await threadCpu(Deno.pid); // Map { "deno" => 1.2, "tokio-runtime-w" => 0.3 }
 */
export async function threadCpu(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let tids: Deno.DirEntry[];
  try {
    tids = await Array.fromAsync(Deno.readDir(`/proc/${pid}/task`));
  } catch {
    return out;
  }
  for (const t of tids) {
    let text: string;
    try {
      text = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/stat`);
    } catch {
      continue; // the thread ended
    }
    const got = parseThreadStat(text);
    if (got) out.set(got.name, (out.get(got.name) ?? 0) + got.cpu);
  }
  return out;
}

/**
 * Peak resident set size (VmHWM) of a process, in bytes.
 * @example const peak = await peakRss(Deno.pid);
 */
export async function peakRss(pid: number): Promise<number> {
  const path = `/proc/${pid}/status`;
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(await Deno.readTextFile(path));
  if (!m) throw new Error(`${path}: no VmHWM line`);
  return Number(m[1]) * 1024;
}

/**
 * Current anonymous resident memory (RssAnon: the process's own pages, without the mapped
 * binary's code pages, which are shared page cache) of a process, in bytes.
 * @example const anon = await anonRss(Deno.pid);
 */
export async function anonRss(pid: number): Promise<number> {
  const path = `/proc/${pid}/status`;
  const m = /^RssAnon:\s+(\d+) kB$/m.exec(await Deno.readTextFile(path));
  if (!m) throw new Error(`${path}: no RssAnon line`);
  return Number(m[1]) * 1024;
}

/**
 * The names of the files under `dir`, at any depth (none when `dir` is missing).
 * @example (await fileNames("out/host/_host_")).filter((n) => n.startsWith("covmeta."))
 */
export async function fileNames(dir: string): Promise<string[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.isFile) out.push(e.name);
    else if (e.isDirectory) out.push(...await fileNames(join(dir, e.name)));
  }
  return out;
}

/** Samples of a Prometheus text page: name → label text (`{a="b"}` or "") → value. */
export type MetricSamples = Map<string, Map<string, number>>;

/**
 * Parses the Prometheus text exposition format (comments skipped).
 * @example parseMetrics('x_total{r="ok"} 3\n').get("x_total")?.get('{r="ok"}') // 3
 */
export function parseMetrics(text: string): MetricSamples {
  const out: MetricSamples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    let fam = out.get(m[1]);
    if (!fam) out.set(m[1], fam = new Map());
    fam.set(m[2] ?? "", value);
  }
  return out;
}

/**
 * Sum of a metric over its labels; the first of `names` that exists (metric names differ by part).
 * @example metricSum(samples, "coverage_collector_scans_total", "coverage_collector_discovery_scans_total")
 */
export function metricSum(samples: MetricSamples, ...names: string[]): number {
  for (const name of names) {
    const fam = samples.get(name);
    if (fam) return [...fam.values()].reduce((a, b) => a + b, 0);
  }
  return 0;
}

/**
 * Fetches and parses `<health>/metrics`.
 * @example const s = await scrape("http://127.0.0.1:9797");
 */
export async function scrape(healthUrl: string, signal?: AbortSignal): Promise<MetricSamples> {
  const url = `${healthUrl}/metrics`;
  const res = await fetch(url, { signal: signal ?? AbortSignal.timeout(5000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  return parseMetrics(text);
}

/**
 * The p-th percentile (0..100, nearest rank) of `values`; NaN when empty.
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** True when `dir` holds a regular file (not a `.tmp` of an atomic write) at any depth. */
async function hasStoredFile(dir: string): Promise<boolean> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.isFile && !e.name.startsWith(".")) return true;
  }
  for (const e of entries) {
    if (e.isDirectory && await hasStoredFile(join(dir, e.name))) return true;
  }
  return false;
}

/**
 * Notices the first stored file under each watched key prefix of a directory sink, polling only
 * the prefixes still pending (every `intervalMs`, default 100).
 * @example
 * const w = new CaptureWatcher(outputDir); w.watch("host/ns/pod/c", Date.now());
 * w.start(signal); ... w.latencies() // [{ prefix, ms }]
 */
export class CaptureWatcher {
  #pending = new Map<string, number>();
  #seen = new Map<string, { since: number; at: number }>();
  #waiters = new Set<() => void>();

  constructor(readonly outputDir: string, readonly intervalMs = 100) {}

  /** Starts watching `prefix`, counting latency from `since` (ms epoch). */
  watch(prefix: string, since: number): void {
    if (!this.#seen.has(prefix)) this.#pending.set(prefix, since);
  }

  /** Polls until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.poll();
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }

  /** One pass over the pending prefixes. */
  async poll(): Promise<void> {
    for (const [prefix, since] of [...this.#pending]) {
      if (await hasStoredFile(join(this.outputDir, prefix))) {
        this.#pending.delete(prefix);
        this.#seen.set(prefix, { since, at: Date.now() });
      }
    }
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves when nothing is pending (true) or at `timeoutMs` / abort (false). */
  settled(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
        resolve(ok);
      };
      const check = () => this.#pending.size === 0 && done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener("abort", onAbort);
      this.#waiters.add(check);
      check();
    });
  }

  /** Prefixes not captured yet. */
  pending(): string[] {
    return [...this.#pending.keys()];
  }

  /** Capture latency of each captured prefix, in ms. */
  latencies(prefixes?: string[]): { prefix: string; ms: number }[] {
    const keys = prefixes ?? [...this.#seen.keys()];
    return keys.flatMap((prefix) => {
      const s = this.#seen.get(prefix);
      return s ? [{ prefix, ms: s.at - s.since }] : [];
    });
  }
}

/** The longest event-loop stall seen by a timer since it started (or since `reset`). */
export interface StallProbe {
  /** ms: how much later than asked the timer fired, at worst. */
  longest(): number;
  reset(): void;
  stop(): void;
}

/**
 * Starts a `periodMs` timer that records how late it fires: the longest event-loop stall.
 * @example const stall = startStallProbe(); await work(); stall.stop(); stall.longest() // ms
 */
export function startStallProbe(periodMs = 5): StallProbe {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - periodMs);
    last = now;
  }, periodMs);
  return {
    longest: () => longest,
    reset: () => {
      longest = 0;
    },
    stop: () => clearInterval(timer),
  };
}
