/**
 * Memory that `report` holds for a listing of N keys (the bound S3_LIST_LIMITS.maxKeys is set
 * from it): keys in the stored layout, 5 a server (info.json, covmeta, two counter slots and one
 * more), grouped into prefixes page by page as readStore does.
 * `scripts/deno run -A --v8-flags=--expose-gc scripts/bench_list_keys.ts [keys=1000000]`
 */

import { groupPrefixes, type StoredPrefix } from "../src/report/prefixes.ts";

const n = Number(Deno.args[0] ?? 1_000_000);
const hash = "575afdbef935".padEnd(32, "0");
const image = "quay.io-openshift-release-dev-ocp-v4.0-art-dev-sha256-0123456789ab";
const before = Deno.memoryUsage().rss;
const grouped = new Map<string, StoredPrefix>();
for (let i = 0; i < n; i += 1000) {
  const page: string[] = [];
  for (let j = i; j < Math.min(i + 1000, n); j++) {
    const srv = Math.floor(j / 5);
    const dir = `ip-10-0-${srv % 250}-1/openshift-ns-${srv % 97}/pod-${srv}-abcde/container/` +
      `20261122T100005Z/${image}/kube-apiserver`;
    const kind = j % 5;
    const name = kind === 0
      ? "info.json"
      : kind === 1
      ? `covmeta.${hash}`
      : `covcounters.${hash}.${srv}.${(kind % 2) + 1}`;
    page.push(`${dir}/${name}`);
  }
  groupPrefixes(page, grouped);
}
(globalThis as { gc?: () => void }).gc?.();
const grown = (Deno.memoryUsage().rss - before) / 2 ** 20;
console.log(`${n} keys -> ${grouped.size} prefixes held: RSS +${grown.toFixed(0)} MiB`);
