/**
 * `scripts/peers [--check]`: gets every real peer of the real-node tier ready (builds what is not
 * cached, installs apt packages when root), printing one line per peer. `--check` only reports.
 * Exit 0 when all are there; 1 (after saying why) when one cannot be had.
 */

import {
  type BuiltPeer,
  ensureAptPeers,
  ensurePeer,
  PEER_VERSIONS,
  peerPath,
} from "../tests/harness/peers.ts";
import { ensureSkopeo, skopeoPaths } from "../tests/harness/debpeer.ts";

const check = Deno.args.includes("--check");
let ok = true;
if (!check) {
  const why = await ensureAptPeers((l) => console.log(l));
  if (why) {
    console.log(`peers: node runtime: ${why}`);
    ok = false;
  }
}
for (const name of Object.keys(PEER_VERSIONS) as BuiltPeer[]) {
  const v = PEER_VERSIONS[name];
  if (check) {
    let have = false;
    try {
      have = Deno.statSync(peerPath(name)).isFile;
    } catch { /* not built */ }
    console.log(`peers: ${name} ${v}: ${have ? peerPath(name) : "not built"}`);
    ok &&= have;
    continue;
  }
  try {
    console.log(`peers: ${name} ${v}: ${await ensurePeer(name, (l) => console.log(l))}`);
  } catch (e) {
    console.log(`peers: ${name} ${v}: cannot be had: ${e instanceof Error ? e.message : e}`);
    ok = false;
  }
}
// skopeo (Debian's, unpacked into the cache, not installed) puts images into CRI-O's storage.
if (check) {
  let have = false;
  try {
    have = Deno.statSync(skopeoPaths().bin).isFile;
  } catch { /* not unpacked */ }
  console.log(`peers: skopeo (Debian, unpacked): ${have ? skopeoPaths().bin : "not unpacked"}`);
  ok &&= have;
} else {
  try {
    console.log(
      `peers: skopeo (Debian, unpacked): ${(await ensureSkopeo((l) => console.log(l))).bin}`,
    );
  } catch (e) {
    console.log(`peers: skopeo: cannot be had: ${e instanceof Error ? e.message : e}`);
    ok = false;
  }
}
Deno.exit(ok ? 0 : 1);
