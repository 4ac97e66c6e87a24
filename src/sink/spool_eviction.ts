/**
 * The spool's eviction policy: when it holds more than its limit, the oldest objects go, first
 * those written again and again (counters: a newer copy will come), then those written once
 * (meta-data: every later object needs them, so they are kept as long as anything else can go).
 */

/**
 * The objects to drop, in order, so that `bytes` fits `maxBytes`; never `keep` (the object
 * being spooled). `entries` are oldest first.
 *
 * @example
 * evictionVictims([{ key: "m", bytes: 5 }, { key: "c", bytes: 5 }], 10, 6, (k) => k === "m")
 * // [{ key: "c", bytes: 5 }]
 */
export function evictionVictims<T extends { key: string; bytes: number }>(
  entries: T[],
  bytes: number,
  maxBytes: number,
  writtenOnce: (key: string) => boolean,
  keep?: string,
): T[] {
  const victims: T[] = [];
  const order = [
    ...entries.filter((e) => !writtenOnce(e.key)),
    ...entries.filter((e) => writtenOnce(e.key)),
  ];
  for (const e of order) {
    if (bytes <= maxBytes) break;
    if (e.key === keep) continue;
    victims.push(e);
    bytes -= e.bytes;
  }
  return victims;
}
