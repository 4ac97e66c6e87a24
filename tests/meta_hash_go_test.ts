/**
 * The meta-data hashes we compute equal the Go runtime's, on files Go itself wrote (GOCOVERDIR)
 * for several programs, modes and sizes: the header's MetaFileHash (bytes 24..40), the hash in
 * the file's name, and every package's MetaHash (parseMeta refuses a file where one differs).
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { toHex, verifyMeta } from "../src/collect/coverage.ts";
import { statementTable, StatementTables } from "../src/coverage/live.ts";
import { parseMeta } from "../src/coverage/meta.ts";
import { bigCoverBinary, startBigServer } from "./harness/bigcover.ts";
import { startCovserver } from "./harness/covserver.ts";
import { buildGo, hasGo, repoRoot } from "./harness/gobuild.ts";
import { fieldSizeRun } from "./harness/gocoverdir.ts";

const noGo = !(await hasGo());

/** The covmeta file Go wrote into `dir`: its name's hash and its bytes. */
function covmetaIn(dir: string): { named: string; bytes: Uint8Array } {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith("covmeta.")
  );
  assertEquals(names.length, 1, `covmeta files in ${dir}: ${names.join(", ")}`);
  return {
    named: names[0].slice("covmeta.".length),
    bytes: Deno.readFileSync(join(dir, names[0])),
  };
}

async function assertGoHash(dir: string, mode: string): Promise<void> {
  const { named, bytes } = covmetaIn(dir);
  const meta = parseMeta(bytes);
  assertEquals([meta.hash, meta.hash, meta.mode], [named, toHex(bytes.subarray(24, 40)), mode]);
  ok(meta.packages.length > 0);
  assertEquals(statementTable(bytes).hash, named);
  assertEquals((await verifyMeta(bytes, { tables: new StatementTables() })).hash, named);
}

/** Runs `bin args` with GOCOVERDIR a new directory; Go writes the meta-data at start (the exit
 * status does not matter: fakecrictl without its state exits 1). */
async function goCoverDirOf(bin: string, args: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "meta-hash-go-" });
  await new Deno.Command(bin, {
    args,
    env: { GOCOVERDIR: dir },
    stdout: "null",
    stderr: "null",
  }).output();
  return dir;
}

const FAKECRICTL = join(repoRoot, "tests", "fixtures", "fakecrictl");

for (const mode of ["set", "count", "atomic"] as const) {
  Deno.test({
    name: `computed hashes equal Go's: fakecrictl built with -covermode=${mode}`,
    ignore: noGo,
    async fn() {
      const bin = await buildGo({ dir: FAKECRICTL, name: "crictl", cover: true, covermode: mode });
      const dir = await goCoverDirOf(bin, ["version"]);
      try {
        await assertGoHash(dir, mode);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "computed hashes equal Go's: the covserver fixture (its field-defect names aside)",
  ignore: noGo,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "meta-hash-go-" });
    try {
      const srv = await startCovserver({ env: { GOCOVERDIR: dir } });
      await srv.stop();
      await assertGoHash(dir, "atomic");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "computed hashes equal Go's: the field-size fixture (-coverpkg=all, ~200 packages)",
  ignore: noGo,
  // The first build instruments the standard library (minutes on 2 cores); later runs reuse it.
  async fn() {
    const run = await fieldSizeRun([], "meta-hash-field-");
    try {
      assertEquals(run.status.code, 0, run.stderr);
      await assertGoHash(run.dir, "atomic");
    } finally {
      await Deno.remove(run.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "computed hashes equal Go's: versitygw with the AWS SDK instrumented (1.35 MB of meta-data)",
  ignore: noGo,
  sanitizeResources: false,
  // The first build downloads versitygw from the Go module proxy and takes minutes.
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "meta-hash-big-" });
    try {
      const big = await startBigServer(await bigCoverBinary(), 54650, { GOCOVERDIR: dir });
      // Go writes the meta-data at start, before the server says its port.
      await big.stop();
      const { bytes } = covmetaIn(dir);
      ok(bytes.length > 1 << 20, `${bytes.length} bytes`);
      await assertGoHash(dir, "atomic");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
