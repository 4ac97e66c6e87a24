/**
 * Where the kubeconfig is: the collector's own `--kubeconfig`, else the running kubelet's, else
 * the kubelet default. On a booting node it may not exist yet, so it can be waited for.
 */

import { join } from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { sleep, type System } from "../system.ts";

/** Which rule found the kubeconfig. */
export type KubeconfigSourceKind = "setting" | "self-cmdline" | "kubelet-cmdline" | "default";

/** A kubeconfig that exists, and how to read it and the files it names. */
export interface KubeconfigLocation {
  source: KubeconfigSourceKind;
  /** The path as named (a host path for the kubelet's). */
  path: string;
  /** Filesystem prefix for this path and the files the kubeconfig names: `/` or the host root. */
  root: string;
}

export const KUBELET_DEFAULT_KUBECONFIG = "/var/lib/kubelet/kubeconfig";

/** The path on this filesystem of `path` under `root`. @example fsPath("/host", "/etc/k") // "/host/etc/k" */
export function fsPath(root: string, path: string): string {
  return root === "/" ? path : join(root, path);
}

function argv(bytes: Uint8Array): string[] {
  const parts = new TextDecoder().decode(bytes).split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

/**
 * The `--kubeconfig` value of a NUL-separated command line (`--kubeconfig=x` or `--kubeconfig x`,
 * one dash or two; the last one wins as with Go flags). `--bootstrap-kubeconfig` is not it.
 *
 * @example kubeconfigFromCmdline(enc("kubelet\0--kubeconfig=/k\0")) // "/k"
 */
export function kubeconfigFromCmdline(bytes: Uint8Array): string | undefined {
  const args = argv(bytes);
  let found: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const m = /^--?kubeconfig(?:=(.*))?$/s.exec(args[i]);
    if (!m) continue;
    if (m[1] !== undefined) found = m[1];
    else if (i + 1 < args.length) found = args[++i];
  }
  return found === "" ? undefined : found;
}

/** The base name of argv[0] of a NUL-separated command line. @example argv0Name(enc("/usr/bin/kubelet\0-v\0")) // "kubelet" */
export function argv0Name(bytes: Uint8Array): string {
  return (argv(bytes)[0] ?? "").split("/").pop() ?? "";
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await Deno.stat(file)).isFile;
  } catch {
    return false;
  }
}

/**
 * The running kubelet (scanning host /proc) and its `--kubeconfig`, or undefined.
 *
 * @example await kubeletKubeconfig(system) // { pid: 812, path: "/var/lib/kubelet/kubeconfig" }
 */
export async function kubeletKubeconfig(system: System): Promise<
  { pid: number; path: string | undefined } | undefined
> {
  let names: string[];
  try {
    names = await system.readDir("/proc");
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await system.readBytes(`/proc/${name}/cmdline`);
    } catch {
      continue; // the process ended
    }
    if (argv0Name(bytes) === "kubelet") {
      return { pid: Number(name), path: kubeconfigFromCmdline(bytes) };
    }
  }
  return undefined;
}

export interface FindOptions {
  /** The collector's own command line; default reads /proc/self/cmdline (not under host root). */
  selfCmdline?: () => Promise<Uint8Array>;
}

/** The kubeconfig asked for explicitly (setting or own command line), if any. */
async function explicitPath(config: Config, opts: FindOptions) {
  if (config.kubeconfig !== "") return { source: "setting" as const, path: config.kubeconfig };
  const read = opts.selfCmdline ?? (() => Deno.readFile("/proc/self/cmdline"));
  const own = kubeconfigFromCmdline(await read().catch(() => new Uint8Array()));
  return own ? { source: "self-cmdline" as const, path: own } : undefined;
}

/**
 * One look for the kubeconfig. An explicit path is the only one considered (read as given, else
 * under the host root); otherwise the kubelet's `--kubeconfig`, else the kubelet default.
 *
 * @example await findKubeconfig(system, config) // { source: "default", path: "/var/lib/kubelet/kubeconfig", root: "/" }
 */
export async function findKubeconfig(
  system: System,
  config: Config,
  opts: FindOptions = {},
): Promise<KubeconfigLocation | undefined> {
  const explicit = await explicitPath(config, opts);
  if (explicit) {
    if (await exists(explicit.path)) return { ...explicit, root: "/" };
    if (system.hostRoot !== "/" && await exists(fsPath(system.hostRoot, explicit.path))) {
      return { ...explicit, root: system.hostRoot };
    }
    return undefined;
  }
  const kubelet = await kubeletKubeconfig(system);
  if (kubelet?.path && await exists(fsPath(system.hostRoot, kubelet.path))) {
    return { source: "kubelet-cmdline", path: kubelet.path, root: system.hostRoot };
  }
  if (await exists(fsPath(system.hostRoot, KUBELET_DEFAULT_KUBECONFIG))) {
    return { source: "default", path: KUBELET_DEFAULT_KUBECONFIG, root: system.hostRoot };
  }
  return undefined;
}

/** How waitForKubeconfig looks, and what it tells its owner. */
export interface WaitOptions extends FindOptions {
  signal: AbortSignal;
  /** How long to look every `pollMs` before running host-only (still looking). */
  waitMs: number;
  /** Poll period while waiting (default 1 s). */
  pollMs?: number;
  /** Poll period once running host-only (default 30 s): a CSR may be approved hours later. */
  slowPollMs?: number;
  /** Called once when `waitMs` passed without a kubeconfig. */
  onHostOnly?: () => void;
  /** How to wait (tests record the delays instead). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

/**
 * Looks for the kubeconfig every `pollMs` until found or `signal` aborts (undefined). After
 * `waitMs` it calls `onHostOnly` and keeps looking, every `slowPollMs`, for good: a node whose
 * kubelet certificate is approved late still gets its pod watch. Logs which source won, and
 * once each that it is waiting and that it went host-only.
 *
 * @example await waitForKubeconfig(deps, { signal, waitMs: 300_000, onHostOnly })
 */
export async function waitForKubeconfig(
  deps: { system: System; config: Config; log: Logger },
  opts: WaitOptions,
): Promise<KubeconfigLocation | undefined> {
  const { system, config, log } = deps;
  const { signal, waitMs, pollMs = 1000, slowPollMs = 30_000, sleep: wait = sleep } = opts;
  const start = system.now();
  let logged = false;
  let hostOnly = false;
  while (!signal.aborted) {
    const found = await findKubeconfig(system, config, opts);
    if (found) {
      log.info("kubeconfig found", {
        source: found.source,
        path: found.path,
        root: found.root,
        waitedMs: system.now() - start,
      });
      return found;
    }
    const waited = system.now() - start;
    if (!hostOnly && waited >= waitMs) {
      hostOnly = true;
      log.warn("no kubeconfig yet; running host-only and still looking", {
        waitedMs: waited,
        everyMs: slowPollMs,
        looked: config.kubeconfig || "own --kubeconfig, kubelet --kubeconfig, " +
            KUBELET_DEFAULT_KUBECONFIG,
      });
      opts.onHostOnly?.();
    }
    if (!logged) {
      log.info("waiting for a kubeconfig", { waitMs, pollMs });
      logged = true;
    }
    await wait(hostOnly ? slowPollMs : Math.min(pollMs, waitMs - waited), signal);
  }
  return undefined;
}
