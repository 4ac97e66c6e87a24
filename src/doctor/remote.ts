/**
 * Doctor checks of the peers: kubeconfig → API server → node identity → pod list, and the
 * storage: S3 credentials → S3 reachable → (with --write-test) PUT and DELETE, or the output dir.
 * The peers are reached through probes the composition root builds from src/kube and src/sink.
 */

import { dirname, resolve } from "node:path";
import type { Config } from "../config.ts";
import { type CheckResult, errorText, fail, ok, warn } from "./report.ts";

/** What the kube checks need; each method throws an Error naming what failed. */
export interface KubePeer {
  /**
   * The kubeconfig the collector would use (read, parsed and its credentials loaded), or
   * undefined when none is found; throws naming the file and field when it cannot be used.
   */
  kubeconfig(): Promise<
    { path: string; source: string; server?: string; auth?: string } | undefined
  >;
  /** Connects with the kubeconfig's credentials; says which server answered (e.g. its version). */
  apiServer(signal: AbortSignal): Promise<string>;
  /** The node name and how it was learned (SelfSubjectReview, certificate, setting). */
  nodeName(signal: AbortSignal): Promise<{ name: string; source: string }>;
  /** Lists the pods on `nodeName` (field selector); returns how many. */
  pods(nodeName: string, signal: AbortSignal): Promise<number>;
}

/** What the storage checks need. */
export interface StoragePeer {
  /**
   * The S3 settings found (no secrets), or `absent` saying which files were tried when no
   * credential file has the entry.
   */
  credentials(): Promise<{ file: string; target: string } | { absent: string }>;
  /** A read-only request to the bucket (e.g. a one-key listing); says what answered. */
  reach(signal: AbortSignal): Promise<string>;
  /** PUTs and DELETEs one small test object; says where. */
  writeTest(signal: AbortSignal): Promise<string>;
}

const KUBE = ["kubeconfig", "API server", "node identity", "pod list"] as const;

/**
 * The kube checks in order; after the first failure the rest say they were not checked.
 *
 * @example await kubeChecks(probes, signal) // [{ name: "kubeconfig", status: "OK", ... }, ...]
 */
export async function kubeChecks(
  probes: KubePeer | undefined,
  signal: AbortSignal,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const skipRest = (why: string) => {
    for (const name of KUBE.slice(out.length)) {
      out.push(warn(name, `not checked: ${why}`, "fix the check above first"));
    }
    return out;
  };
  if (!probes) return [warn("kube", "kube checks are not available in this build", "")];
  let location;
  try {
    location = await probes.kubeconfig();
  } catch (e) {
    out.push(fail("kubeconfig", errorText(e), "fix or replace the kubeconfig file"));
    return skipRest("no usable kubeconfig");
  }
  if (!location) {
    out.push(warn(
      "kubeconfig",
      "none found (looked at --kubeconfig, the kubelet's --kubeconfig, /var/lib/kubelet/kubeconfig)",
      "pass --kubeconfig PATH; without one the collector only finds servers outside pods",
    ));
    return skipRest("no kubeconfig");
  }
  const what = location.server ? `: ${location.server} with ${location.auth ?? "?"}` : "";
  out.push(ok("kubeconfig", `${location.path} (from ${location.source})${what}`));
  try {
    out.push(ok("API server", await probes.apiServer(signal)));
  } catch (e) {
    out.push(fail(
      "API server",
      errorText(e),
      `check that the server in ${location.path} is reachable from here and its certificates are current`,
    ));
    return skipRest("API server not answering");
  }
  let node;
  try {
    node = await probes.nodeName(signal);
    out.push(ok("node identity", `${node.name} (from ${node.source})`));
  } catch (e) {
    out.push(fail("node identity", errorText(e), "pass --node-name <name>"));
    return skipRest("node name unknown");
  }
  try {
    const n = await probes.pods(node.name, signal);
    out.push(ok("pod list", `${n} pods on ${node.name}`));
  } catch (e) {
    out.push(fail(
      "pod list",
      errorText(e),
      "use the node's own kubeconfig (user system:node:<name>), or credentials that may list pods",
    ));
  }
  return out;
}

/**
 * The storage checks for the configured sink.
 *
 * @example await storageChecks(config, probes, { writeTest: false, signal }) // [{ name: "S3 credentials", ...}, ...]
 */
export async function storageChecks(
  config: Pick<Config, "sink" | "outputDir">,
  probes: StoragePeer | undefined,
  opts: {
    writeTest: boolean;
    signal: AbortSignal;
    probeDir?: (dir: string, write: boolean) => Promise<string>;
  },
): Promise<CheckResult[]> {
  const dirCheck = async (why: string) => {
    try {
      const detail = await (opts.probeDir ?? probeOutputDir)(config.outputDir, opts.writeTest);
      return ok("output dir", `${detail}${why}`);
    } catch (e) {
      return fail("output dir", errorText(e), "set --output-dir to a writable directory");
    }
  };
  if (config.sink === "dir") return [await dirCheck("")];
  if (!probes) {
    return [warn("S3 credentials", "storage checks are not available in this build", "")];
  }
  let found;
  try {
    found = await probes.credentials();
  } catch (e) {
    return [fail("S3 credentials", errorText(e), "fix the registry auth file's coverage entry")];
  }
  if ("absent" in found) {
    if (config.sink === "s3") {
      return [fail(
        "S3 credentials",
        `${found.absent} (--sink s3 needs them)`,
        "add the cluster-code-coverage entry to /var/lib/kubelet/config.json or pass " +
          "--credentials-file",
      )];
    }
    return [
      warn(
        "S3 credentials",
        `${found.absent}: coverage goes to the output dir`,
        "add the coverage entry to the node's registry auth file to store in S3",
      ),
      await dirCheck(" (--sink auto without S3 credentials)"),
    ];
  }
  const out = [ok("S3 credentials", `${found.target} (from ${found.file})`)];
  const fixS3 = "check the bucket, region, --s3-endpoint and the keys in the auth entry";
  try {
    const reached = await probes.reach(opts.signal);
    out.push(
      ok("S3 reach", `${reached}${opts.writeTest ? "" : " (writes not tried: --write-test)"}`),
    );
  } catch (e) {
    const text = errorText(e);
    // No HTTP answer at all: the endpoint, not the keys, is what to look at.
    const unanswered = !/ answered \d{3}/.test(text);
    out.push(fail(
      "S3 reach",
      text,
      unanswered
        ? "check that --s3-endpoint (or the bucket's region endpoint) is reachable from this " +
          "node: address, proxy, firewall"
        : fixS3,
    ));
    return out;
  }
  if (opts.writeTest) {
    try {
      out.push(ok("S3 write", await probes.writeTest(opts.signal)));
    } catch (e) {
      out.push(
        fail("S3 write", errorText(e), `${fixS3}; the keys need PutObject and DeleteObject`),
      );
    }
  }
  return out;
}

/**
 * The output directory exists (or its parent does, so it can be made) and, with `write`,
 * takes a file. Returns a detail; throws naming the path otherwise.
 *
 * @example await probeOutputDir("/var/lib/coverage-collector/coverage-data", false) // "... exists"
 */
export async function probeOutputDir(dir: string, write: boolean): Promise<string> {
  const info = await Deno.stat(dir).catch(() => null);
  if (!info) {
    const parent = dirname(resolve(dir));
    const p = await Deno.stat(parent).catch(() => null);
    if (!p?.isDirectory) throw new Error(`${dir} does not exist and neither does ${parent}`);
    return `${dir} will be made in ${parent}`;
  }
  if (!info.isDirectory) throw new Error(`${dir} is not a directory`);
  if (!write) return `${dir} exists`;
  const probe = `${dir}/.doctor-${Deno.pid}`;
  await Deno.writeTextFile(probe, "doctor write test\n");
  await Deno.remove(probe);
  return `${dir} is writable`;
}
