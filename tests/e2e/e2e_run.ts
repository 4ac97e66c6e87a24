/**
 * The frame of the end-to-end tests on a SimNode without kube: a node and a temp directory torn
 * down (and checked for leftovers) after the test, collectors that are killed at the end, S3 with
 * a credentials file, `once` into a directory, and the checks of one stored layout prefix.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CollectorProcess } from "../harness/collector.ts";
import { withNodeFrame } from "../harness/node_frame.ts";
import { SimNode } from "../harness/node.ts";
import { type S3Server, s3SinkFlags, startS3 } from "../harness/s3.ts";
import {
  baseFlags,
  byPrefix,
  checkPrefixFiles,
  covdataPercent,
  type E2eServer,
  filesUnder,
  re,
  reportedPid,
  segment,
  startServer,
  TIME,
} from "./e2e_util.ts";
import {
  isForeignRow,
  ownProcesses,
  splitForeign,
  type SummaryRow,
  summaryRows,
} from "./foreign_hosts.ts";

/** What `withNode` gives a test. */
export interface NodeRun {
  node: SimNode;
  /** A temp directory, removed at the end. */
  dir: string;
  /** `dir/out`, where the dir sink stores. */
  out: string;
  /** The flags of the dir sink into `out`. */
  dirSink: string[];
  /**
   * Spawns `coverage-collector <command>` with `baseFlags` (state in `dir/state`) and `extra`;
   * it is killed (SIGKILL) at the end if still running.
   */
  collector(command: "run" | "once", portStart: number, extra: string[]): Promise<CollectorProcess>;
  /** Runs `fn` at the end, after the collectors are killed and before the node closes. */
  defer(fn: () => Promise<void>): void;
}

/**
 * Creates a SimNode called `name` and a temp directory, runs `body`, tears both down even when it
 * throws, then asserts the node left no netns, links or cgroups behind.
 * @example await withNode("e2e-once", async ({ node, collector }) => { ... });
 */
export async function withNode(name: string, body: (r: NodeRun) => Promise<void>): Promise<void> {
  const node = await SimNode.create({ name });
  const nothingLeft = { netns: [], links: [], cgroups: [] };
  await withNodeFrame(node, `cc-${name}-`, nothingLeft, ({ dir, out, spawn, defer }) =>
    body({
      node,
      dir,
      out,
      dirSink: ["--sink", "dir", "--output-dir", out],
      collector: (command, portStart, extra) =>
        spawn([
          command,
          ...baseFlags({ node, stateDir: join(dir, "state"), portStart }),
          ...extra,
        ]),
      defer,
    }));
}

/** What `withS3Node` gives a test: a NodeRun with S3 running. */
export interface S3NodeRun extends NodeRun {
  s3: S3Server;
  /** The flags of the S3 sink (credentials file with `basePath`, path-style endpoint). */
  s3Sink: string[];
}

/**
 * `withNode` with S3 (versitygw) started and a credentials file for it under `basePath`; S3 is
 * closed at the end.
 * @example await withS3Node("e2e-s3", "ci/e2e", async ({ s3, s3Sink, collector }) => { ... });
 */
export function withS3Node(
  name: string,
  basePath: string,
  body: (r: S3NodeRun) => Promise<void>,
): Promise<void> {
  return withNode(name, async (r) => {
    const s3 = await startS3();
    r.defer(() => s3.close());
    const s3Sink = await s3SinkFlags(s3, r.dir, basePath);
    await body({ ...r, s3, s3Sink });
  });
}

/** A server and the prefix (a whole-key pattern) and pid it must be stored under. */
export interface Expect {
  server: E2eServer;
  pattern: RegExp;
  pid: number;
}

/**
 * What a pod container's server must be stored as on `testnode`: `path` is
 * `namespace/pod/container`; `pid` defaults to the one the server reports.
 * @example await expectPod(web, "e2e-a/web/app", IMG, 1)
 */
export async function expectPod(
  server: E2eServer,
  path: string,
  image: string,
  pid?: number,
): Promise<Expect> {
  return {
    server,
    pid: pid ?? await reportedPid(server),
    pattern: new RegExp(`^testnode/${path}/${TIME}/${re(segment(image))}/${re(server.binary)}$`),
  };
}

/**
 * What a host process's server must be stored as on `testnode` (`_host_`, its host PID).
 * @example expectHost(host).pattern.test("testnode/_host_/20260101T000000Z/host-srv")
 */
export function expectHost(server: E2eServer): Expect {
  return {
    server,
    pid: server.proc.hostPid,
    pattern: new RegExp(`^testnode/_host_/${TIME}/${re(server.binary)}$`),
  };
}

/**
 * Asserts one stored prefix: its files (`checkPrefixFiles`), the counters' pid, and info.json
 * (`info`, its text) naming the binary, the pid and, when given, the port.
 * @example assertPrefix(prefix, names, infoText, { binary: "web", pid: 1 });
 */
export function assertPrefix(
  prefix: string,
  names: string[],
  info: string,
  e: { binary: string; pid: number; port?: number },
): void {
  const files = checkPrefixFiles(prefix, names);
  assert.equal(files.pid, e.pid, `counters pid of ${prefix}`);
  const parsed = JSON.parse(info);
  assert.equal(parsed.binary, e.binary, `info.json binary of ${prefix}`);
  assert.equal(parsed.pid, e.pid, `info.json pid of ${prefix}`);
  if (e.port !== undefined) assert.equal(parsed.port, e.port, `info.json port of ${prefix}`);
}

/** The result of `runOnce`. */
export interface OnceRun {
  code: number;
  stdout: string;
  out: string;
  /**
   * The stored prefixes of this test's servers: every prefix but the `_host_` ones of host
   * processes this test did not start (`foreign`). A server of ours is here wherever it is filed.
   */
  prefixes: Map<string, string[]>;
  /** `_host_` prefixes of other runs' host servers on this shared machine. */
  foreign: Map<string, string[]>;
  /** The summary rows of ours (`foreign` rows left out). */
  rows: SummaryRow[];
  /** The summary rows of foreign host servers (stored or not: they may vanish mid-pull). */
  foreignRows: SummaryRow[];
  /** stdout, the log and the stored prefixes, for failure messages. */
  why: string;
}

/**
 * Runs `once` against the node into the dir sink and waits for its exit; foreign host servers'
 * prefixes and rows are kept apart (tests/e2e/foreign_hosts.ts).
 * @example const run = await runOnce(r, 56100); assertOnceOk(run, 2);
 */
export async function runOnce(r: NodeRun, portStart: number): Promise<OnceRun> {
  const c = await r.collector("once", portStart, r.dirSink);
  const { code } = await c.status;
  const stdout = await c.stdout;
  const all = byPrefix(await filesUnder(r.out));
  const own = ownProcesses(r.node);
  const { ours, foreign } = await splitForeign(
    all,
    (p) => Deno.readTextFile(join(r.out, p, "info.json")),
    own,
  );
  const rows = summaryRows(stdout);
  const isForeign = (row: SummaryRow) => isForeignRow(row, foreign, own);
  return {
    code,
    stdout,
    out: r.out,
    prefixes: ours,
    foreign,
    rows: rows.filter((row) => !isForeign(row)),
    foreignRows: rows.filter(isForeign),
    why: `stdout:\n${stdout}\nlog:\n${c.lines.join("\n")}\nfiles: ${
      [...all.keys()].join(" ")
    }\nforeign: ${[...foreign.keys()].join(" ") || "none"}`,
  };
}

/**
 * Asserts `once` found and stored exactly `n` servers of ours (and no other row of ours), that its
 * "<stored> of <found>" line counts ours plus the foreign rows, and that it exited 0 (1 only when
 * a foreign host server was not stored).
 * @example assertOnceOk(await runOnce(r, 56100), 5);
 */
export function assertOnceOk(run: OnceRun, n: number): void {
  assert.deepEqual(
    run.rows.filter((row) => row.result !== "stored").map((row) => row.line),
    [],
    `rows of ours not stored: ${run.why}`,
  );
  assert.equal(run.rows.length, n, `rows of ours: ${run.why}`);
  const foreignStored = run.foreignRows.filter((row) => row.result === "stored").length;
  const total = n + run.foreignRows.length;
  assert.match(
    run.stdout,
    new RegExp(`\\b${n + foreignStored} of ${total} coverage servers stored\\b`),
    run.why,
  );
  assert.equal(run.code, foreignStored === run.foreignRows.length ? 0 : 1, run.why);
}

/**
 * Asserts exactly one prefix of `run` matches `e`, checks it (`assertPrefix`, with the port) and
 * that covdata reads it; returns the prefix.
 * @example const prefix = await assertStored(run, expectHost(host));
 */
export async function assertStored(run: OnceRun, e: Expect): Promise<string> {
  const matching = [...run.prefixes.keys()].filter((p) => e.pattern.test(p));
  assert.equal(matching.length, 1, `${e.pattern}: ${run.why}`);
  const prefix = matching[0];
  const info = await Deno.readTextFile(join(run.out, prefix, "info.json"));
  assertPrefix(prefix, run.prefixes.get(prefix)!, info, {
    binary: e.server.binary,
    pid: e.pid,
    port: e.server.coveragePort,
  });
  await covdataPercent(join(run.out, prefix));
  return prefix;
}

/**
 * Starts `<name>-web` in a new pod `web` of `namespace` (container `app`, `image`) and
 * `<name>-host` as a host process, both with coverage ports from `port`; `expected` says where
 * each must be stored.
 * @example const { web, host, expected } = await startWebAndHost(node, "e2e-e", IMG, 56500, "r");
 */
export async function startWebAndHost(
  node: SimNode,
  namespace: string,
  image: string,
  port: number,
  name: string,
): Promise<{ web: E2eServer; host: E2eServer; expected: Expect[] }> {
  const pod = await node.addPod({ name: "web", namespace });
  const env = { COVERAGE_PORT: String(port) };
  const web = await startServer({ pod, container: "app", imageRef: image }, {
    binary: `${name}-web`,
    env,
  });
  const host = await startServer({ host: node }, { binary: `${name}-host`, env });
  const expected = [await expectPod(web, `${namespace}/web/app`, image), expectHost(host)];
  return { web, host, expected };
}
