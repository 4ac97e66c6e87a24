/**
 * Where the kubeconfig is: the collector's own `--kubeconfig`, else the running kubelet's, else
 * the kubelet default. On a booting node it may not exist yet, so it can be waited for.
 */

import { join } from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { errorText } from "../errors.ts";
import { sleep, type System } from "../system.ts";
import {
  chooseKubelet,
  HOST_NAMESPACES,
  judgeKubelet,
  type KubeletCandidate,
  type KubeletVerdict,
  type Namespaces,
} from "./kubelet_trust.ts";

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
 * The host's namespaces: PID 1's; when PID 1 cannot be read (a sandbox's init holding more
 * capabilities than we do), PID 2's if it is the kernel's kthreadd (parent 0), which lives in
 * the initial namespaces too.
 */
async function hostNamespaces(system: System): Promise<Namespaces | { error: string }> {
  const init = await namespacesOf(system, 1);
  if (!("error" in init)) return init;
  const status = await system.readText("/proc/2/status").catch(() => "");
  if (!/^PPid:\s*0$/m.test(status)) return init;
  const kthreadd = await namespacesOf(system, 2);
  return "error" in kthreadd ? init : kthreadd;
}

async function namespacesOf(system: System, pid: number) {
  try {
    const links = await Promise.all(
      HOST_NAMESPACES.map((n) => system.readLink(`/proc/${pid}/ns/${n}`)),
    );
    return Object.fromEntries(HOST_NAMESPACES.map((n, i) => [n, links[i]])) as Namespaces;
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** The processes that call themselves kubelet, and which one (if any) to believe. */
export interface KubeletScan {
  chosen?: KubeletVerdict;
  verdicts: KubeletVerdict[];
}

/**
 * Scans host /proc for processes whose argv[0] is `kubelet` and judges each (kubelet_trust.ts):
 * only one in the host's namespaces and outside containers is chosen.
 *
 * @example (await kubeletKubeconfig(system)).chosen // { pid: 812, kubeconfig: "/var/lib/kubelet/kubeconfig", trusted: true, … }
 */
export async function kubeletKubeconfig(system: System): Promise<KubeletScan> {
  let names: string[];
  try {
    names = await system.readDir("/proc");
  } catch {
    return { verdicts: [] };
  }
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  const candidates: KubeletCandidate[] = [];
  for (const pid of pids) {
    let bytes: Uint8Array;
    try {
      bytes = await system.readBytes(`/proc/${pid}/cmdline`);
    } catch {
      continue; // the process ended
    }
    if (argv0Name(bytes) !== "kubelet") continue;
    const kubeconfig = kubeconfigFromCmdline(bytes);
    candidates.push({
      pid,
      ...(kubeconfig !== undefined ? { kubeconfig } : {}),
      ns: await namespacesOf(system, pid),
      cgroup: await system.readText(`/proc/${pid}/cgroup`).catch((e) => ({
        error: errorText(e),
      })),
    });
  }
  if (candidates.length === 0) return { verdicts: [] };
  const host = await hostNamespaces(system);
  const verdicts = candidates.map((c) => judgeKubelet(c, host));
  return { chosen: chooseKubelet(verdicts), verdicts };
}

export interface FindOptions {
  /** The collector's own command line; default reads /proc/self/cmdline (not under host root). */
  selfCmdline?: () => Promise<Uint8Array>;
  /** Told every look which processes called themselves kubelet, and what was made of them. */
  onKubelets?: (scan: KubeletScan) => void;
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
  const scan = await kubeletKubeconfig(system);
  opts.onKubelets?.(scan);
  const kubelet = scan.chosen?.kubeconfig;
  if (kubelet && await exists(fsPath(system.hostRoot, kubelet))) {
    return { source: "kubelet-cmdline", path: kubelet, root: system.hostRoot };
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
  const told = new Set<string>();
  const onKubelets = (scan: KubeletScan) => {
    opts.onKubelets?.(scan);
    // Each judgement once (a poll every second must not repeat it).
    for (const v of scan.verdicts) {
      const key = `${v.pid} ${v === scan.chosen} ${v.reason}`;
      if (told.has(key)) continue;
      told.add(key);
      const fields = { pid: v.pid, kubeconfig: v.kubeconfig ?? "(none)", why: v.reason };
      if (v === scan.chosen) log.info("kubelet trusted", fields);
      else if (v.trusted) log.info("kubelet passed over (another is preferred)", fields);
      else log.warn("kubelet-named process not trusted", fields);
    }
  };
  while (!signal.aborted) {
    const found = await findKubeconfig(system, config, { ...opts, onKubelets });
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
