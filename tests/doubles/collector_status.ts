/** A collector's /status for engine tests whose collectors are stand-ins. */

import type { CollectorStatus } from "../../src/collect/collector_types.ts";

/**
 * A status with nothing pulled yet, overridden by `over`.
 *
 * @example status: () => collectorStatus({ port: t.port })
 */
export function collectorStatus(over: Partial<CollectorStatus> = {}): CollectorStatus {
  return {
    namespace: "",
    pod: "",
    container: "",
    binary: "",
    address: "",
    port: 0,
    prefix: "",
    lastPull: null,
    lastStore: null,
    lastError: null,
    pulls: 0,
    stores: 0,
    ended: null,
    coverage: null,
    lastNewCoverage: null,
    ...over,
  };
}
