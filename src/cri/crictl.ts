/** Runs crictl (ps, inspect, inspectp, inspecti) and keeps what inspectp says until a sandbox leaves `ps`. */

import { z } from "zod";
import { RunError, type System } from "../system.ts";
import type { Metrics } from "../metrics.ts";
import {
  InspectiOutput,
  InspectOutput,
  type InspectOutput as Inspect,
  InspectpOutput,
  type InspectpOutput as Inspectp,
  type PsContainer,
  PsOutput,
} from "./schemas.ts";

export type CrictlErrorKind = "not-found" | "exit" | "garbage" | "timeout";

/** crictl could not give an answer; names the command and what came back. */
export class CrictlError extends Error {
  constructor(readonly kind: CrictlErrorKind, readonly command: string, detail: string) {
    super(`${command}: ${detail}`);
    this.name = "CrictlError";
  }
}

export interface CrictlOptions {
  /** The crictl executable (config.crictl). */
  command: string;
  /** Passed as --runtime-endpoint when not "" (config.runtimeEndpoint). */
  runtimeEndpoint?: string;
  /** Kill a run after this (config.crictlTimeout). */
  timeoutMs: number;
  metrics?: Metrics;
  /** The environment crictl's variables are taken from (default: the collector's). */
  env?: Record<string, string>;
}

/**
 * The only variables crictl is given (it is run with a clear environment): PATH and HOME, and the
 * ones crictl itself reads (its endpoints and config file). Nothing else of the collector's
 * (S3 keys, tokens) reaches it.
 */
const CRICTL_ENV = [
  "PATH",
  "HOME",
  "CONTAINER_RUNTIME_ENDPOINT",
  "IMAGE_SERVICE_ENDPOINT",
  "CRI_CONFIG_FILE",
];

/** The environment for crictl: the allowed names of `from` (the collector's). */
export function crictlEnv(from: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of CRICTL_ENV) if (from[name] !== undefined) env[name] = from[name];
  env.PATH ??= "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return env;
}

const RUNS = "coverage_collector_crictl_runs_total";
const RUNS_HELP = "crictl runs by result (ok, not-found, exit, garbage, timeout)";

/**
 * crictl with a per-sandbox cache: `inspectp` runs once per sandbox ID (its parsed, stripped answer
 * is kept until `ps` lists no container of that sandbox). `inspect` is not cached: callers keep
 * what they built from it (the Discoverer keeps a ContainerInfo per container ID).
 *
 * @example
 * const c = new Crictl(createSystem(), { command: "crictl", timeoutMs: 10_000 });
 * for (const ct of await c.ps(signal)) console.log((await c.inspect(ct.id, signal)).info.pid);
 */
export class Crictl {
  #system: System;
  #opts: CrictlOptions;
  #inspectp = new Map<string, Inspectp>();
  #env: Record<string, string>;

  constructor(system: System, opts: CrictlOptions) {
    this.#system = system;
    this.#opts = opts;
    this.#env = crictlEnv(opts.env ?? Deno.env.toObject());
    opts.metrics?.counter(RUNS, RUNS_HELP);
  }

  /** Sandboxes whose `inspectp` answer is cached. */
  cachedSandboxes(): number {
    return this.#inspectp.size;
  }

  /** Running containers (`crictl ps -o json`); prunes the cache to the sandboxes listed. */
  async ps(signal?: AbortSignal): Promise<PsContainer[]> {
    const out = await this.#run(["ps", "-o", "json"], PsOutput, signal);
    const sandboxes = new Set(out.containers.map((c) => c.podSandboxId));
    for (const id of this.#inspectp.keys()) if (!sandboxes.has(id)) this.#inspectp.delete(id);
    return out.containers;
  }

  /** `crictl inspect <id>` (not cached). */
  inspect(id: string, signal?: AbortSignal): Promise<Inspect> {
    return this.#run(["inspect", id], InspectOutput, signal);
  }

  /**
   * `crictl inspect ID...` for many containers in one run (not cached). crictl prints one object
   * for one ID and a JSON array in the order of the IDs for several, and fails the whole run when
   * one ID fails (a container gone since `ps`): then the IDs are split in halves and asked again,
   * so one bad ID costs about 2·log2(n) more runs and the others still get their answer.
   *
   * @example (await c.inspectMany(["a1", "b2"], signal)).get("a1") // InspectOutput | CrictlError
   */
  inspectMany(ids: string[], signal?: AbortSignal): Promise<Map<string, Inspect | CrictlError>> {
    return this.#many("inspect", ids, InspectOutput, signal);
  }

  /** `crictl inspectp ID...` for the sandboxes not cached yet, in one run; see inspectMany. */
  async inspectpMany(
    ids: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, Inspectp | CrictlError>> {
    const out = new Map<string, Inspectp | CrictlError>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const hit = this.#inspectp.get(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    for (const [id, r] of await this.#many("inspectp", missing, InspectpOutput, signal)) {
      if (!(r instanceof CrictlError)) this.#inspectp.set(id, r);
      out.set(id, r);
    }
    return out;
  }

  async #many<S extends z.ZodType>(
    command: string,
    ids: string[],
    schema: S,
    signal?: AbortSignal,
  ): Promise<Map<string, z.output<S> | CrictlError>> {
    const out = new Map<string, z.output<S> | CrictlError>();
    if (ids.length === 0) return out;
    const shape = ids.length === 1 ? schema : z.array(schema).length(ids.length);
    try {
      const got = await this.#run([command, ...ids], shape, signal);
      const list = (ids.length === 1 ? [got] : got) as z.output<S>[];
      ids.forEach((id, i) => out.set(id, list[i]));
      return out;
    } catch (e) {
      if (!(e instanceof CrictlError)) throw e;
      // one answer for all when crictl itself is missing or hangs; else find the bad IDs
      if (ids.length === 1 || e.kind === "not-found" || e.kind === "timeout") {
        for (const id of ids) out.set(id, e);
        return out;
      }
    }
    const half = Math.ceil(ids.length / 2);
    for (const part of [ids.slice(0, half), ids.slice(half)]) {
      for (const [id, r] of await this.#many(command, part, schema, signal)) out.set(id, r);
    }
    return out;
  }

  /** `crictl inspecti <image>` (not cached: src/cri/image_source.ts keeps what it needs). */
  inspecti(image: string, signal?: AbortSignal): Promise<InspectiOutput> {
    return this.#run(["inspecti", image], InspectiOutput, signal);
  }

  /** `crictl inspectp <sandbox-id>`, cached. */
  async inspectp(id: string, signal?: AbortSignal): Promise<Inspectp> {
    const hit = this.#inspectp.get(id);
    if (hit) return hit;
    const out = await this.#run(["inspectp", id], InspectpOutput, signal);
    this.#inspectp.set(id, out);
    return out;
  }

  async #run<S extends z.ZodType>(
    args: string[],
    schema: S,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    const { command, runtimeEndpoint, timeoutMs, metrics } = this.#opts;
    const argv = runtimeEndpoint ? ["--runtime-endpoint", runtimeEndpoint, ...args] : args;
    const name = [command, ...argv].join(" ");
    const fail = (kind: CrictlErrorKind, detail: string) => {
      metrics?.inc(RUNS, RUNS_HELP, { result: kind });
      return new CrictlError(kind, name, detail);
    };
    let res;
    try {
      res = await this.#system.run(command, argv, { timeoutMs, signal, env: this.#env });
    } catch (e) {
      if (!(e instanceof RunError) || e.kind === "aborted") throw e;
      if (e.kind === "timeout") throw fail("timeout", `no answer within ${timeoutMs}ms; killed`);
      if (e.kind === "not-found") throw fail("not-found", "executable not found");
      throw fail("exit", `could not start: ${e.message}`);
    }
    if (res.code !== 0) {
      const said = clip(res.stderr) || clip(res.stdout) || "(no output)";
      throw fail("exit", `exit status ${res.code}: ${said}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(res.stdout);
    } catch {
      throw fail("garbage", `output is not JSON: ${clip(res.stdout) || "(empty)"}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw fail(
        "garbage",
        `unexpected JSON at ${issue?.path.join(".") || "(top)"}: ${issue?.message}`,
      );
    }
    metrics?.inc(RUNS, RUNS_HELP, { result: "ok" });
    return parsed.data;
  }
}

function clip(s: string): string {
  const t = s.trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}
