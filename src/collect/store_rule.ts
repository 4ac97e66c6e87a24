/**
 * Whether a pull's counters are stored. Coverage servers are linked into the instrumented binary
 * and built with -cover themselves, so every pull bumps the server's own counters: comparing
 * bytes alone never finds an idle server unchanged. The rule compares what ran instead.
 *
 * Why skipping loses nothing: counter data is cumulative since process start. A skipped pull
 * only raised counts of blocks that the last stored file already shows as run (its covered set
 * holds them all); the next store, whenever it is — new code ran, the refresh interval passed,
 * or the final pull — carries those counts and everything before. Anything that cannot be
 * judged (unparsable counters, or too many to judge without the meta-data) is stored whenever
 * its bytes differ.
 *
 * Counters are judged as bitsets bounded by the build's meta-data before they are read (see
 * `coveredUnits`): counters that do not fit it are refused, not stored, and the last stored
 * counters stay (they are all the server's data worth keeping: the next good pull carries on).
 */

import { CountersParseError, type WalkOptions } from "../coverage/counters.ts";
import {
  CountersFitError,
  type CoveredUnits,
  coveredUnits,
  coveredUnitsAsync,
  coversMoreUnits,
  type UnitLayout,
} from "../coverage/covered_units.ts";

/** How old the last stored counters may get before a changed pull is stored anyway. */
export const DEFAULT_REFRESH_MS = 20 * 60_000;

/** The reason `Collector.run` gives its periodic pulls; every other reason is a final pull. */
export const SCHEDULE_REASON = "schedule";

/** The counters last stored. `covered` is null when they could not be judged. */
export interface StoredSnapshot {
  bytes: Uint8Array;
  covered: CoveredUnits | null;
  /** When they were stored (ms, System.monotonic). */
  at: number;
}

/** Why counters are stored, or skipped. */
export type StoreWhy = "first" | "final" | "unparsed" | "new-coverage" | "refresh";
export type SkipWhy = "identical" | "no-new-coverage";

export type StoreDecision =
  | { store: true; why: StoreWhy; covered: CoveredUnits | null; parseError?: string }
  | { store: false; why: SkipWhy }
  /** The counters do not fit the meta-data: never stored. */
  | { store: false; why: "refused"; refused: CountersFitError };

export interface DecideOptions {
  now: number;
  refreshMs: number;
  /** A final pull (shutdown, pod deleting/deleted, once): stored unless byte-identical. */
  final: boolean;
  /** The unit layout of the server's meta-data, when it was decoded. */
  layout?: UnitLayout;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Decides whether `counters` are stored, given the snapshot stored last (undefined: none yet).
 * Identical bytes are never stored again; counters that do not fit `opts.layout` never;
 * otherwise stored when first, final, unparsable, when they cover a block the last stored did
 * not, or when the last store is `refreshMs` old.
 *
 * @example decideStore(bytes, undefined, { now: 0, refreshMs: 300_000, final: false }).why // "first"
 */
export function decideStore(
  counters: Uint8Array,
  last: StoredSnapshot | undefined,
  opts: DecideOptions,
): StoreDecision {
  if (last && equalBytes(last.bytes, counters)) return { store: false, why: "identical" };
  let judged: Judged;
  try {
    judged = { covered: coveredUnits(counters, opts.layout) };
  } catch (e) {
    judged = notJudged(e);
  }
  return settle(judged, last, opts);
}

/**
 * As `decideStore`, judging in steps that let the event loop run (what the collector calls);
 * rejects with the signal's reason once `opts.signal` aborts.
 *
 * @example await decideStoreAsync(bytes, last, { now, refreshMs, final: false, layout, signal })
 */
export async function decideStoreAsync(
  counters: Uint8Array,
  last: StoredSnapshot | undefined,
  opts: DecideOptions & WalkOptions,
): Promise<StoreDecision> {
  if (last && equalBytes(last.bytes, counters)) return { store: false, why: "identical" };
  let judged: Judged;
  try {
    judged = { covered: await coveredUnitsAsync(counters, opts.layout, opts) };
  } catch (e) {
    judged = notJudged(e);
  }
  return settle(judged, last, opts);
}

type Judged = { covered: CoveredUnits } | { refused: CountersFitError } | { parseError: string };

function notJudged(e: unknown): Judged {
  if (e instanceof CountersFitError) return { refused: e };
  if (e instanceof CountersParseError) return { parseError: e.message };
  throw e;
}

function settle(
  judged: Judged,
  last: StoredSnapshot | undefined,
  opts: DecideOptions,
): StoreDecision {
  if ("refused" in judged) {
    return { store: false, why: "refused", refused: judged.refused } as const;
  }
  const covered = "covered" in judged ? judged.covered : null;
  const parseError = "parseError" in judged ? judged.parseError : undefined;
  const store = (why: StoreWhy): StoreDecision => ({ store: true, why, covered, parseError });
  if (!last) return store("first");
  if (opts.final) return store("final");
  const more = covered && last.covered ? coversMoreUnits(covered, last.covered) : null;
  if (more === null) return store("unparsed");
  if (more) return store("new-coverage");
  if (opts.now - last.at >= opts.refreshMs) return store("refresh");
  return { store: false, why: "no-new-coverage" } as const;
}
