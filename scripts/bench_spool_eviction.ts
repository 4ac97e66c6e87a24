/**
 * Cost of the spool's eviction choice on every spooled write: `deno run -A
 * scripts/bench_spool_eviction.ts [--pods 250] [--servers 4] [--writes 200]`.
 *
 * A full spool of pods × servers × 4 objects (meta-data, info.json, two counters slots); each
 * write adds the counters of a new server and asks the spool's tally what to drop, as
 * SpoolingSink does after every write. Reported: objects held, milliseconds per write (mean and
 * worst).
 */

import { parseArgs } from "node:util";
import { storeOwnerOf, writtenOnce } from "../src/layout.ts";
import { SpoolTally } from "../src/sink/spool_eviction.ts";

const { values } = parseArgs({
  options: {
    pods: { type: "string", default: "250" },
    servers: { type: "string", default: "4" },
    writes: { type: "string", default: "200" },
  },
});
const pods = Number(values.pods), servers = Number(values.servers), writes = Number(values.writes);

const entries: { key: string; bytes: number }[] = [];
for (let p = 0; p < pods; p++) {
  for (let s = 0; s < servers; s++) {
    const prefix = `node/ns/pod-${p}/c-${s}/20261122T100005Z/img/app`;
    entries.push({ key: `${prefix}/covmeta.ab`, bytes: 4096 });
    entries.push({ key: `${prefix}/info.json`, bytes: 512 });
    entries.push({ key: `${prefix}/covcounters.ab.1.1`, bytes: 1024 });
    entries.push({ key: `${prefix}/covcounters.ab.1.2`, bytes: 1024 });
  }
}
const total = entries.reduce((n, e) => n + e.bytes, 0);
const policy = { writtenOnce, ownerOf: storeOwnerOf };
const bounds = {
  maxBytes: total,
  podMaxBytes: 64 << 20,
  podMaxObjects: 256,
  serverMaxObjects: 8,
};
const tally = new SpoolTally<{ key: string; bytes: number }>(policy);
for (const e of entries) tally.add(e);
if (tally.victims(bounds).length !== 0) throw new Error("the spool should fit before the writes");
let worst = 0;
const start = performance.now();
for (let i = 0; i < writes; i++) {
  const t = performance.now();
  const key = `node/ns/new-${i}/c/20261122T100005Z/img/app/covcounters.ab.1.1`;
  tally.add({ key, bytes: 1024 });
  const v = tally.victims(bounds, key);
  if (v.length !== 1) throw new Error(`expected one victim, got ${v.length}`);
  worst = Math.max(worst, performance.now() - t);
}
const mean = (performance.now() - start) / writes;
console.log(
  `objects=${entries.length} pods=${pods} writes=${writes} ` +
    `msPerWrite=${mean.toFixed(3)} worstMs=${worst.toFixed(3)}`,
);
