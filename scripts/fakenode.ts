/**
 * A simulated node to run the collector against by hand:
 * `scripts/deno task fakenode -- --pods 20 [--servers-per-pod 2] [--host-network-every 5]
 * [--kube] [--s3] [--port-start 53700]`. Prints the command to start the collector, keeps
 * running, and tears everything down on Ctrl-C / SIGTERM (then checks nothing was left behind).
 * Needs root, `ip netns`, `unshare` and Go.
 */

import { parseArgs } from "node:util";
import { allServers, buildScenario, type Scenario } from "../tests/harness/scenario.ts";
import {
  canRunNode,
  countFlag,
  runMain,
  scriptArgs,
  stopped,
  untilStopped,
} from "./node_script.ts";

/** Quotes a word for a POSIX shell when needed. @example shellWord("a b") // "'a b'" */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line that runs the collector daemon against a scenario, from the repo root.
 * @example collectorCommand(sc) // "scripts/deno task start run --crictl /tmp/... ..."
 */
export function collectorCommand(sc: Pick<Scenario, "collectorArgs" | "env">): string {
  const env = Object.entries(sc.env).map(([k, v]) => `${k}=${shellWord(v)} `).join("");
  return `${env}scripts/deno task start run ${sc.collectorArgs.map(shellWord).join(" ")}`;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args: scriptArgs(args),
    options: {
      pods: { type: "string" },
      "servers-per-pod": { type: "string" },
      "host-network-every": { type: "string" },
      "port-start": { type: "string" },
      kube: { type: "boolean" },
      s3: { type: "boolean" },
    },
  });
  if (!(await canRunNode("fakenode"))) return 2;
  const positive = (flag: string, raw: string | undefined, def: number) =>
    countFlag("fakenode", flag, raw, def);
  const pods = positive("pods", values.pods, 5);
  console.error(`fakenode: starting ${pods} pods...`);
  const sc = await buildScenario({
    pods,
    serversPerPod: positive("servers-per-pod", values["servers-per-pod"], 1),
    hostNetworkEvery: positive("host-network-every", values["host-network-every"], 0),
    portStart: positive("port-start", values["port-start"], 53700),
    kube: values.kube ?? false,
    s3: values.s3 ?? false,
  });
  try {
    await untilStopped(async (signal) => {
      console.log(`node ${sc.node.name}: ${sc.pods.length} pods, ${allServers(sc).length} servers`);
      for (const p of sc.pods) {
        const ports = p.servers.map((s) => s.coveragePort).join(",");
        console.log(`  ${p.pod.namespace}/${p.pod.name} ip=${p.pod.ip || "(host)"} ports=${ports}`);
      }
      if (sc.kube) console.log(`fake kube API ${sc.kube.url} (control ${sc.kube.controlUrl})`);
      if (sc.s3) console.log(`S3 ${sc.s3.endpoint} bucket ${sc.s3.bucket} (data in ${sc.s3.dir})`);
      else console.log(`output dir ${sc.outputDir}`);
      console.log(`crictl ${sc.node.crictlPath}`);
      console.log("\nrun the collector (from the repo root):\n");
      console.log(`  ${collectorCommand(sc)}\n`);
      console.log("Ctrl-C to tear the node down.");
      console.error(`fakenode: ${await stopped(signal)}: tearing down`);
    });
  } finally {
    await sc.close();
  }
  const left = await sc.node.leftovers();
  const n = left.netns.length + left.links.length + left.cgroups.length;
  if (n > 0) {
    console.error(`fakenode: left behind: ${JSON.stringify(left)}`);
    return 1;
  }
  console.error("fakenode: clean (no netns, links or cgroups left)");
  return 0;
}

if (import.meta.main) await runMain(main);
