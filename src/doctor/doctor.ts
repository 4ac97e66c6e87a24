/**
 * `coverage-collector doctor`: checks this node's set-up, one line per check with how to fix it.
 * Exit code 1 when any check FAILs.
 */

import type { Config } from "../config.ts";
import type { System } from "../system.ts";
import {
  type AddressProbe,
  checkCrictl,
  checkHealthAddr,
  checkHostRoot,
  checkRoot,
} from "./host.ts";
import { checkProcAccess } from "./procaccess.ts";
import { kubeChecks, type KubePeer, storageChecks, type StoragePeer } from "./remote.ts";
import { type DoctorReport, report } from "./report.ts";

export type { CheckResult, CheckStatus, DoctorReport } from "./report.ts";
export { renderReport } from "./report.ts";
export type { KubePeer, StoragePeer } from "./remote.ts";

/** What doctor is given; the kube and storage probes come from the composition root. */
export interface DoctorDeps {
  config: Config;
  system: System;
  kube?: KubePeer;
  storage?: StoragePeer;
  /** The effective user id (default Deno.uid()). */
  uid?: () => number | null;
  address?: AddressProbe;
  probeDir?: (dir: string, write: boolean) => Promise<string>;
}

export interface DoctorOptions {
  /** Also PUT and DELETE a test object in S3 (or a file in the output dir). */
  writeTest: boolean;
  signal?: AbortSignal;
  /** Longest a check of a peer may take (default 15 s). */
  checkTimeoutMs?: number;
}

/**
 * Runs every check in order and builds the report.
 *
 * @example
 * const r = await runDoctor({ config, system: createSystem(config.hostRoot) }, { writeTest: false });
 * console.log(renderReport(r)); Deno.exitCode = r.exitCode;
 */
export async function runDoctor(deps: DoctorDeps, opts: DoctorOptions): Promise<DoctorReport> {
  const { config, system } = deps;
  const bounded = () => {
    const t = AbortSignal.timeout(opts.checkTimeoutMs ?? 15_000);
    return opts.signal ? AbortSignal.any([opts.signal, t]) : t;
  };
  // The peers are checked at once (each bounded), so a silent API server and a silent S3
  // endpoint cost one timeout, not two; the lines keep their order.
  const [host, crictl, health, kube, storage] = await Promise.all([
    (async () => [await checkHostRoot(system), await checkProcAccess(system)])(),
    checkCrictl(system, config, bounded()),
    checkHealthAddr(config.healthAddr, deps.address),
    kubeChecks(deps.kube, bounded()),
    storageChecks(config, deps.storage, {
      writeTest: opts.writeTest,
      signal: bounded(),
      probeDir: deps.probeDir,
    }),
  ]);
  const root = checkRoot((deps.uid ?? (() => Deno.uid()))());
  return report([root, ...host, crictl, health, ...kube, ...storage]);
}
