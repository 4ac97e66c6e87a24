/**
 * The peers of a CRI-O node (crio and pinns built, skopeo unpacked, conmon and runc from Debian,
 * the real crictl) and `startCrio()`, the one call a test makes for a running CRI-O node.
 */

import { dirname, join } from "node:path";
import { ensureSkopeo } from "../debpeer.ts";
import { realPeers } from "../peers.ts";
import { CrioNode } from "./crionode.ts";

/** Paths of every program a CRI-O node needs, or why one cannot be had. */
export type CrioPeers =
  | {
    ok: true;
    crictl: string;
    crio: string;
    pinns: string;
    skopeo: { bin: string; libDir: string };
  }
  | { ok: false; reason: string };

let peers: Promise<CrioPeers> | undefined;

/**
 * Gets (builds, fetches, installs when root) the CRI-O node's peers once per process.
 * @example const p = await crioPeers(); if (!p.ok) console.log(`skipped: ${p.reason}`);
 */
export function crioPeers(): Promise<CrioPeers> {
  peers ??= (async (): Promise<CrioPeers> => {
    const p = await realPeers(["crictl", "crio"]);
    if (!p.ok) return p;
    const pinns = join(dirname(p.paths.crio), "pinns");
    try {
      Deno.statSync(pinns);
    } catch {
      return { ok: false, reason: `pinns is missing beside ${p.paths.crio}` };
    }
    try {
      const skopeo = await ensureSkopeo();
      return { ok: true, crictl: p.paths.crictl, crio: p.paths.crio, pinns, skopeo };
    } catch (e) {
      return { ok: false, reason: `skopeo cannot be had: ${e instanceof Error ? e.message : e}` };
    }
  })();
  return peers;
}

/**
 * A running CRI-O node (see CrioNode); throws the reason when a peer cannot be had.
 * @example await using node = await startCrio();
 */
export async function startCrio(): Promise<CrioNode> {
  const p = await crioPeers();
  if (!p.ok) throw new Error(p.reason);
  return await CrioNode.create({
    crictl: p.crictl,
    crio: { crio: p.crio, pinns: p.pinns },
    skopeo: p.skopeo,
  });
}
