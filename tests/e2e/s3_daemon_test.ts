/**
 * The daemon (`run`) storing into a real S3 (versitygw): S3 goes away for 30 s while the servers
 * keep running and being exercised, comes back, and the stored data catches up with the servers.
 */

import assert from "node:assert/strict";
import type { CollectorProcess } from "../harness/collector.ts";
import type { SimNode } from "../harness/node.ts";
import { canRunS3, type S3Server } from "../harness/s3.ts";
import {
  assertRoutes,
  type E2eServer,
  e2eSkipReason,
  e2eTest,
  eventually,
  exercise,
} from "./e2e_util.ts";
import { directCounters, s3Prefixes, someSlotEquals, writeFiles } from "./e2e_counts.ts";
import { oursInS3 } from "./foreign_hosts.ts";
import { assertPrefix, type Expect, startWebAndHost, withS3Node } from "./e2e_run.ts";

const skip = (await e2eSkipReason()) ?? (await canRunS3() ? null : "needs versitygw (Go)");
const BASE = "ci/e2e-cluster";
const IMG = "quay.io/e2e/s3web@sha256:" + "ab".repeat(32);
const OUTAGE_MS = 30_000;

/** Checks every prefix's files and info.json, and that each expected server has one prefix. */
async function checkAll(
  node: SimNode,
  s3: S3Server,
  expected: Expect[],
  tmp: string,
  routes: (e: Expect) => string[],
): Promise<Map<string, Map<string, Uint8Array>>> {
  // Other runs' host servers on this machine are stored too: only this node's are checked.
  const all = await oursInS3(await s3Prefixes(s3, BASE), node);
  assert.equal(all.size, expected.length, `prefixes: ${[...all.keys()].join(" ")}`);
  for (const e of expected) {
    const prefix = [...all.keys()].find((p) => e.pattern.test(p));
    assert.ok(prefix, `no prefix ${e.pattern} among ${[...all.keys()].join(" ")}`);
    const files = all.get(prefix)!;
    const info = new TextDecoder().decode(files.get("info.json"));
    assertPrefix(prefix, [...files.keys()], info, { binary: e.server.binary, pid: e.pid });
    await assertRoutes(await writeFiles(tmp, files), routes(e), prefix);
  }
  return all;
}

/** What a test body gets: S3, two servers (routes so far in `ran`), the running collector. */
interface S3Run {
  s3: S3Server;
  web: E2eServer;
  host: E2eServer;
  expected: Expect[];
  ran: Map<E2eServer, string[]>;
  c: CollectorProcess;
  dir: string;
  /** The collector's last log lines, for failure messages. */
  why(): string;
  /** Checks every prefix (files, info.json, covdata shows `ran`). */
  check(): Promise<Map<string, Map<string, Uint8Array>>>;
  /** Asserts every prefix has a counters slot with the server's current app counts. */
  assertLatest(what: string): Promise<void>;
}

/**
 * A node with a pod server and a host server (alpha and beta run), S3, and `run` storing into it
 * until both servers' first data is in S3; then `body`; cleans up everything.
 */
function withS3Daemon(portStart: number, body: (r: S3Run) => Promise<void>): Promise<void> {
  return withS3Node("e2e-s3", BASE, async (r) => {
    const { node, s3, dir } = r;
    const { web, host, expected } = await startWebAndHost(node, "e2e-d", IMG, portStart, "s3");
    await exercise(web, "alpha", 2);
    await exercise(host, "beta", 2);
    const ran = new Map<E2eServer, string[]>([[web, ["alpha"]], [host, ["beta"]]]);
    const c = await r.collector("run", portStart, [
      ...r.s3Sink,
      // The checks compare stored counts with the servers' live ones: store every change.
      "--store-refresh",
      "0s",
      "--pull-schedule",
      "1s",
      "--scan-interval",
      "2s",
    ]);
    const why = () => c.lines.slice(-40).join("\n");
    const check = () => checkAll(node, s3, expected, dir, (e) => ran.get(e.server)!);
    const assertLatest = async (what: string) => {
      const all = await check();
      for (const e of expected) {
        const prefix = [...all.keys()].find((p) => e.pattern.test(p))!;
        const now = await directCounters(e.server);
        assert.ok(await someSlotEquals(all.get(prefix)!, now, prefix), `${prefix}: ${what}`);
      }
    };
    await c.healthUrl();
    await eventually("first data of both servers in S3", check, 60_000)
      .catch((e) => assert.fail(`${e}\n${why()}`));
    await body({ s3, web, host, expected, ran, c, dir, why, check, assertLatest });
  });
}

e2eTest(
  "run into S3: a 30 s S3 outage loses nothing; the stored data catches up, SIGTERM exits 0",
  skip,
  () =>
    withS3Daemon(56400, async ({ s3, web, host, ran, c, why, assertLatest }) => {
      // S3 away for 30 s; the servers run other routes meanwhile.
      await s3.stop();
      const outageEnd = Date.now() + OUTAGE_MS;
      ran.set(web, ["alpha", "gamma"]);
      ran.set(host, ["beta", "alpha"]);
      while (Date.now() < outageEnd) {
        await exercise(web, "gamma", 1);
        await exercise(host, "alpha", 1);
        await new Promise((r) => setTimeout(r, 3_000)); // the outage's duration, not a sync
      }
      assert.equal(c.lines.some((l) => /msg=stopped/.test(l)), false, "collector alive");
      await s3.start();

      // The counts in S3 catch up with the servers' (no app traffic any more). The spool's retry
      // backoff is capped at 60 s, so allow more than that.
      await eventually("S3 holds the servers' latest counters", async () => {
        await assertLatest("no stored slot has the server's current counts");
        return true;
      }, 120_000).catch((e) => assert.fail(`${e}\n${why()}`));

      // Traffic right before SIGTERM: the final pull must reach S3 before the exit.
      await exercise(web, "gamma", 5);
      await exercise(host, "alpha", 5);
      const st = await c.stop("SIGTERM");
      assert.equal(st.code, 0, why());
      await assertLatest(`S3 lacks the counts of the last seconds before SIGTERM\n${why()}`);
    }),
);

e2eTest(
  "run into S3: SIGTERM soon after an outage ends still puts the final data in S3",
  skip,
  () =>
    withS3Daemon(56450, async ({ s3, web, host, ran, c, why, assertLatest }) => {
      await s3.stop();
      ran.set(web, ["alpha", "gamma"]);
      ran.set(host, ["beta", "gamma"]);
      // A short outage with traffic: pulls go to the spool, its drain backs off.
      for (let i = 0; i < 4; i++) {
        await exercise(web, "gamma", 1);
        await exercise(host, "gamma", 1);
        await new Promise((r) => setTimeout(r, 2_000)); // the outage's duration, not a sync
      }
      await c.waitLine(/store unreachable; spooling/);
      await s3.start();
      // S3 answers again; the node goes down now (within the shutdown timeout of 10 s).
      const st = await c.stop("SIGTERM");
      assert.equal(st.code, 0, why());
      await assertLatest(
        `S3 lacks the final data: the spool was not drained at shutdown\n${why()}`,
      );
    }),
);
