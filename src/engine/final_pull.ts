/**
 * The final pull: every given server pulled and stored once more, now, all at once (a pod
 * being deleted, or shutdown). One server's failure never keeps the others from theirs.
 */

import { errorText } from "../errors.ts";
import type { CollectorHandle, StoreReport } from "./stages.ts";
import type { Logger } from "../log.ts";
import type { Target } from "../target.ts";
import { targetFields } from "../target.ts";

/**
 * Pulls each of `list` once; resolves with one report per server, in order.
 *
 * @example const reports = await finalPulls(running, "pod deleted", log, signal);
 */
export async function finalPulls(
  list: { target: Target; collector: CollectorHandle }[],
  reason: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<StoreReport[]> {
  const s = signal ?? new AbortController().signal;
  return await Promise.all(list.map(async (r) => {
    try {
      const rep = await r.collector.pullNow(reason, s);
      const st = r.collector.status();
      log.info("final pull", {
        ...targetFields(r.target),
        reason,
        stored: rep.stored,
        result: rep.result,
        // When the process is already gone, the pull before this one holds its last data.
        lastStore: rep.stored ? undefined : st.lastStore,
      });
      return rep;
    } catch (e) {
      log.warn("final pull failed", { ...targetFields(r.target), reason, error: e });
      return { stored: false, error: errorText(e) };
    }
  }));
}
