/**
 * Reads what discovery reads of one process (environ, its fd links, ns/net) and prints one JSON
 * line, each value "ok" or the error: `{"environ":"ok","fd":"ok","netns":"error: …"}`. Run by
 * unit_security_test.ts under a reduced capability bounding set. (Discovery's own readers take
 * EACCES as "skip this process", so they would hide the very failure this probe looks for.)
 *
 *   deno run -A tests/packaging/proc_probe.ts PID
 */

import { createSystem } from "../../src/system.ts";
import { errorText } from "../../src/errors.ts";

const pid = Number(Deno.args[0]);
const system = createSystem("/");
const attempt = async (read: () => Promise<unknown>) => {
  try {
    await read();
    return "ok";
  } catch (e) {
    return `error: ${errorText(e)}`;
  }
};
console.log(JSON.stringify({
  environ: await attempt(() => system.readBytes(`/proc/${pid}/environ`)),
  fd: await attempt(async () => {
    const fds = await system.readDir(`/proc/${pid}/fd`);
    await Promise.all(fds.map((fd) => system.readLink(`/proc/${pid}/fd/${fd}`)));
  }),
  netns: await attempt(() => system.readLink(`/proc/${pid}/ns/net`)),
}));
