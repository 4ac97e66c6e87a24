/**
 * A field-size program: the fixture built with `-coverpkg=all` (every package of the standard
 * library instrumented too: ~200 packages, ~12,000 functions, ~800 KB of meta-data), its files
 * written by Go's own runtime (GOCOVERDIR) at exit. The decoder and `report` must agree with
 * `go tool covdata` on all of it.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { parseMeta } from "../src/coverage/meta.ts";
import { main } from "../src/app/cli.ts";
import { COMMANDS } from "../src/app/commands.ts";
import { hasGo } from "./harness/gobuild.ts";
import { fieldSizeRun } from "./harness/gocoverdir.ts";
import { funcRows } from "./harness/report_rows.ts";
import { go } from "./harness/stored.ts";

const noGo = !(await hasGo());

async function fieldRun(): Promise<string> {
  const run = await fieldSizeRun(["/run/alpha", "/run/beta?n=2", "/run/gamma"], "report-field-");
  assertEquals(run.status.code, 0, run.stderr);
  return run.dir;
}

Deno.test({
  name:
    "a field-size meta-data file decodes as debugdump lists it; report equals covdata func and textfmt",
  ignore: noGo,
  // The first build instruments the standard library (minutes on 2 cores); later runs reuse it.
  async fn() {
    const dir = await fieldRun();
    const metaName = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("covmeta."))!.name;
    const meta = parseMeta(await Deno.readFile(join(dir, metaName)));
    ok(meta.packages.length > 100, `${meta.packages.length} packages`);
    const dump = await go(["tool", "covdata", "debugdump", "-i", dir]);
    const funcs = dump.split("\n").filter((l) => l.startsWith("Func: ")).map((l) => l.slice(6));
    assertEquals(meta.packages.flatMap((p) => p.functions.map((f) => f.name)), funcs);
    const units = dump.split("\n").filter((l) => /^\d+: L\d+/.test(l)).length;
    assertEquals(
      meta.packages.reduce((s, p) => s + p.functions.reduce((t, f) => t + f.units.length, 0), 0),
      units,
    );

    const out: string[] = [];
    const run = (args: string[]) =>
      main(["report", ...args], COMMANDS, {
        stdout: (s) => out.push(s),
        stderr: () => {},
        env: {},
      });
    const tmp = await Deno.makeTempDir({ prefix: "report-field-out-" });
    assertEquals(await run(["--format", "textfmt", "--out", join(tmp, "ours.txt"), dir]), 0);
    await go(["tool", "covdata", "textfmt", "-i", dir, "-o", join(tmp, "go.txt")]);
    assertEquals(
      await Deno.readTextFile(join(tmp, "ours.txt")),
      await Deno.readTextFile(join(tmp, "go.txt")),
    );

    assertEquals(await run(["--format", "json", dir]), 0);
    const b = JSON.parse(out.join("\n")).binaries[0];
    const goFunc = (await go(["tool", "covdata", "func", "-i", dir])).trim().split("\n")
      .map((l) => l.split(/\t+/).map((s) => s.trim()).join(" "));
    const ours = funcRows(b).map((row) => row.join(" "));
    assertEquals(ours.length, goFunc.length);
    const differ = ours.filter((l: string, i: number) => l !== goFunc[i]);
    ok(differ.length === 0, `first differences: ${differ.slice(0, 3).join(" | ")}`);
  },
});
