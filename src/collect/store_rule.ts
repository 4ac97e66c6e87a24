/**
 * Whether a pull's counters are stored. Coverage servers are linked into the instrumented binary
 * and built with -cover themselves, so every pull bumps the server's own counters: comparing
 * bytes alone never finds an idle server unchanged. The rule compares what ran instead.
 *
 * Why skipping loses nothing: counter data is cumulative since process start. A skipped pull
 * only raised counts of blocks that the last stored file already shows as run (its covered set
 * holds them all); the next store, whenever it is — new code ran, the refresh interval passed,
 * or the final pull — carries those counts and everything before. Anything that cannot be
 * judged (unparsable counters) is stored whenever its bytes differ.
 */

import { CountersParseError, coveredSet, coversMore, parseCounters } from "../coverage/counters.ts";

/** How old the last stored counters may get before a changed pull is stored anyway. */
export const DEFAULT_REFRESH_MS = 20 * 60_000;

/** The reason `Collector.run` gives its periodic pulls; every other reason is a final pull. */
export const SCHEDULE_REASON = "schedule";

/** The counters last stored. `covered` is null when they could not be parsed. */
export interface StoredSnapshot {
  bytes: Uint8Array;
  covered: ReadonlySet<string> | null;
  /** When they were stored (ms, System.monotonic). */
  at: number;
}

/** Why counters are stored, or skipped. */
export type StoreWhy = "first" | "final" | "unparsed" | "new-coverage" | "refresh";
export type SkipWhy = "identical" | "no-new-coverage";

export type StoreDecision =
  | { store: true; why: StoreWhy; covered: ReadonlySet<string> | null; parseError?: string }
  | { store: false; why: SkipWhy };

export interface DecideOptions {
  now: number;
  refreshMs: number;
  /** A final pull (shutdown, pod deleting/deleted, once): stored unless byte-identical. */
  final: boolean;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Decides whether `counters` are stored, given the snapshot stored last (undefined: none yet).
 * Identical bytes are never stored again; otherwise stored when first, final, unparsable, when
 * they cover a block the last stored did not, or when the last store is `refreshMs` old.
 *
 * @example decideStore(bytes, undefined, { now: 0, refreshMs: 300_000, final: false }).why // "first"
 */
export function decideStore(
  counters: Uint8Array,
  last: StoredSnapshot | undefined,
  opts: DecideOptions,
): StoreDecision {
  if (last && equalBytes(last.bytes, counters)) return { store: false, why: "identical" };
  let covered: Set<string> | null = null;
  let parseError: string | undefined;
  try {
    covered = coveredSet(parseCounters(counters));
  } catch (e) {
    if (!(e instanceof CountersParseError)) throw e;
    parseError = e.message;
  }
  const store = (why: StoreWhy): StoreDecision => ({ store: true, why, covered, parseError });
  if (!last) return store("first");
  if (opts.final) return store("final");
  if (covered === null || last.covered === null) return store("unparsed");
  if (coversMore(covered, last.covered)) return store("new-coverage");
  if (opts.now - last.at >= opts.refreshMs) return store("refresh");
  return { store: false, why: "no-new-coverage" };
}
