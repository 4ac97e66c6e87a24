/**
 * `report --group-by`: the pods of one workload merge (owner, from info.json), and namespace and
 * node groups come from the stored path; hostile or missing workload facts fall back to the pod.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { encodeMetaFile, ONE_BLOCK_BUILD, withRealHash } from "./harness/metafile.ts";
import { runReport } from "./harness/run_report.ts";

/** Two functions of 4 statements each: F and G. */
const BUILD = withRealHash({
  ...ONE_BLOCK_BUILD,
  packages: [{
    ...ONE_BLOCK_BUILD.packages[0],
    functions: [
      ONE_BLOCK_BUILD.packages[0].functions[0],
      { ...ONE_BLOCK_BUILD.packages[0].functions[0], name: "G" },
    ],
  }],
});
const HASH = BUILD.hash;
const T = "20261122T100005Z";

async function store(): Promise<string> {
  const base = await Deno.makeTempDir({ prefix: "cc-groupby-" });
  const put = async (dir: string, f: number, g: number, info: unknown) => {
    const d = join(base, dir);
    await Deno.mkdir(d, { recursive: true });
    await Deno.writeFile(join(d, `covmeta.${HASH}`), encodeMetaFile(BUILD));
    await Deno.writeFile(
      join(d, `covcounters.${HASH}.1.1`),
      encodeCounterFile({
        hash: HASH,
        functions: [
          { pkgIdx: 0, funcIdx: 0, counters: [f] },
          { pkgIdx: 0, funcIdx: 1, counters: [g] },
        ],
      }),
    );
    await Deno.writeTextFile(join(d, "info.json"), JSON.stringify(info));
  };
  const dep = { workloadKind: "Deployment", workloadName: "web", controllerKind: "ReplicaSet" };
  await put(`worker-1/shop/web-5c8f-aaaaa/app/${T}/img/app`, 1, 0, dep);
  await put(`worker-2/shop/web-5c8f-bbbbb/app/${T}/img/app`, 0, 3, dep);
  await put(`worker-2/shop/db-0/app/${T}/img/app`, 0, 0, {
    workloadKind: "StatefulSet",
    workloadName: "db",
  });
  await put(`worker-2/shop/old-pod/app/${T}/img/app`, 1, 0, { binary: "app" });
  await put(`worker-1/ops/x/app/${T}/img/app`, 0, 1, {
    workloadKind: "<Deploy\u001b[2J>",
    workloadName: "a\nb",
  });
  await put(`worker-1/_host_/${T}/app`, 0, 0, {});
  return base;
}

type Row = { group: string; binary: string; pods: number; covered: number; statements: number };

Deno.test("--group-by owner merges the pods of one workload; namespace and node groups; default unchanged", async () => {
  const dir = await store();
  try {
    const json = async (by?: string) => {
      const r = await runReport([dir, "--format", "json", ...(by ? ["--group-by", by] : [])]);
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out) as { groupBy?: string; binaries: Row[] };
    };
    const rows = (doc: { binaries: Row[] }) =>
      doc.binaries.map((b) => [b.group, b.pods, b.covered, b.statements]);

    const owner = await json("owner");
    assert.equal(owner.groupBy, "owner");
    assert.deepEqual(rows(owner), [
      ["_host_", 0, 0, 8],
      ["ops/Pod/x", 1, 4, 8],
      ["shop/Deployment/web", 2, 8, 8],
      ["shop/Pod/old-pod", 1, 4, 8],
      ["shop/StatefulSet/db", 1, 0, 8],
    ]);
    assert.deepEqual(rows(await json("namespace")), [
      ["_host_", 0, 0, 8],
      ["ops", 1, 4, 8],
      ["shop", 4, 8, 8],
    ]);
    assert.deepEqual(rows(await json("node")), [
      ["worker-1", 2, 8, 8],
      ["worker-2", 3, 8, 8],
    ]);
    for (const plain of [await json(), await json("binary")]) {
      assert.equal(plain.binaries.length, 1);
      assert.equal("group" in plain.binaries[0], false, "binary grouping is today's report");
      assert.equal("groupBy" in plain, false);
    }

    const text = await runReport([dir, "--group-by", "owner"]);
    assert.equal(text.code, 0, text.err);
    const lines = text.out.split("\n");
    assert.match(
      lines[0],
      /^OWNER\s+BINARY\s+HASH\s+PREFIXES\s+PODS\s+STATEMENTS\s+COVERED\s+COVERAGE$/,
    );
    assert.match(
      text.out,
      /^shop\/Deployment\/web\s+app\s+[0-9a-f]{12}\s+2\s+2\s+8\s+8\s+100\.0%$/m,
    );
    assert.match(text.out, /grouped by owner$/);
    assert.ok(!text.out.includes("\u001b"), "no control character reaches the terminal");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--group-by refuses an unknown value, formats other than text and json, and --diff", async () => {
  const dir = await store();
  try {
    for (
      const [args, re] of [
        [["--group-by", "team"], /--group-by "team" is not one of binary, owner, namespace, node/],
        [["--group-by", "owner", "--format", "html"], /writes text or json, not html/],
        [["--group-by", "node", "--diff", dir], /does not go with --diff/],
      ] as const
    ) {
      const r = await runReport([dir, ...args]);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.err, re);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
