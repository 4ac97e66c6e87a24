/**
 * `report s3://bucket/prefix` against the real S3 server (versitygw): credentials and endpoint as
 * the sink's, listing with pagination, the same figures as from a directory, and an unreadable
 * prefix named without stopping the report.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { main } from "../src/app/cli.ts";
import { COMMANDS } from "../src/app/commands.ts";
import { readStore } from "../src/report/read.ts";
import { DirReader, S3Reader } from "../src/report/store.ts";
import { S3Sink } from "../src/sink/s3.ts";
import { hasGo } from "./harness/gobuild.ts";
import { canRunS3, startS3, writeRegistryAuth } from "./harness/s3.ts";
import { storeFixtureRun } from "./harness/stored.ts";

const ignore = !(await hasGo()) || !await canRunS3();

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...await walk(p));
    else out.push(p);
  }
  return out;
}

Deno.test({
  name: "report reads s3://bucket/prefix page by page and equals the report of the same directory",
  ignore,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "report-s3-" });
    const s3 = await startS3();
    try {
      const base = join(tmp, "data");
      const seg = (
        pod: string,
      ) => ["node-1", "ns", pod, "app", "20261122T100005Z", "img", "covserver"];
      await storeFixtureRun(base, { routes: ["/run/alpha"], segments: seg("p1") });
      await storeFixtureRun(base, { routes: ["/run/beta"], segments: seg("p2") });
      await storeFixtureRun(base, { routes: ["/run/gamma"], segments: seg("p3") });
      const sink = new S3Sink({ ...s3, basePath: "ci/run-1", pathStyle: true });
      for (const file of await walk(base)) {
        await sink.put(relative(base, file), await Deno.readFile(file));
      }
      // A torn counter file in S3 only: that prefix is unreadable, the others are reported.
      const torn = (await walk(join(base, ...seg("p1")))).find((f) => f.includes("covcounters"))!;
      const tornKey = relative(base, torn).replace("/p1/", "/p4/");
      await sink.put(tornKey, (await Deno.readFile(torn)).subarray(0, 40));
      await sink.put(
        tornKey.replace(/covcounters.*/, "covmeta." + tornKey.split(".")[1]),
        await Deno.readFile(torn.replace(/covcounters.*/, "covmeta." + tornKey.split(".")[1])),
      );

      const auth = join(tmp, "auth.json");
      await writeRegistryAuth(auth, { ...s3, bucket: "not-this-one" });
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(
        [
          "report",
          "--format",
          "json",
          "--credentials-file",
          auth,
          "--s3-endpoint",
          s3.endpoint,
          "--s3-path-style",
          `s3://${s3.bucket}/ci/run-1`,
        ],
        COMMANDS,
        { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} },
      );
      assertEquals(code, 1, err.join("\n"));
      ok(
        err.some((l) => /unreadable prefix node-1\/ns\/p4\/.*counter data/.test(l)),
        err.join("\n"),
      );
      const fromS3 = JSON.parse(out.join("\n"));
      assertEquals(fromS3.prefixes, { found: 4, taken: 4, unreadable: 1 });

      const local = await readStore(new DirReader(base));
      const s3read = new S3Reader(sink, 2);
      const remote = await readStore(s3read);
      ok(s3read.pages >= 5, `${s3read.pages} list calls for ${11} objects`);
      const figures = (r: typeof local) =>
        r.binaries.map((
          b,
        ) => [b.hash, b.prefixes, b.profile.funcs.map((p) => p.map((f) => f && [...f]))]);
      assertEquals(figures(remote).map((f) => [f[0], f[1]]), [[local.binaries[0].hash, 4 - 1]]);
      assertEquals(figures(remote), figures(local));
    } finally {
      await s3.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
