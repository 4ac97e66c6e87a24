/**
 * A field-size program: the fixture built with `-coverpkg=all` (every package of the standard
 * library instrumented too: ~200 packages, ~12,000 functions, ~800 KB of meta-data), its files
 * written by Go's own runtime (GOCOVERDIR) at exit. The decoder and `report` must agree with
 * `go tool covdata` on all of it.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { parseMeta } from "../src/coverage/meta.ts";
import { percentText } from "../src/coverage/summary.ts";
import { main } from "../src/cli.ts";
import { COMMANDS } from "../src/commands.ts";
import { buildGo, hasGo, repoRoot } from "./harness/gobuild.ts";
import { startCovserver } from "./harness/covserver.ts";
import { go } from "./harness/stored.ts";

const noGo = !(await hasGo());

async function fieldRun(): Promise<string> {
  const binary = await buildGo({
    dir: join(repoRoot, "tests", "fixtures", "covserver"),
    name: "covserver",
    cover: true,
    coverpkg: "all",
  });
  const dir = await Deno.makeTempDir({ prefix: "report-field-" });
  const srv = await startCovserver({ binary, env: { GOCOVERDIR: dir } });
  for (const r of ["/run/alpha", "/run/beta?n=2", "/run/gamma"]) {
    await (await fetch(`http://127.0.0.1:${srv.appPort}${r}`)).body?.cancel();
  }
  const status = await srv.stop();
  assertEquals(status.code, 0, srv.stderr());
  return dir;
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
    const ours = b.packages.flatMap((
      p: {
        functions: {
          file: string;
          line: number;
          name: string;
          statements: number;
          covered: number;
        }[];
      },
    ) => p.functions.map((f) => `${f.file}:${f.line}: ${f.name} ${percentText(f)}%`));
    ours.push(`total (statements) ${b.percent}%`);
    assertEquals(ours.length, goFunc.length);
    const differ = ours.filter((l: string, i: number) => l !== goFunc[i]);
    ok(differ.length === 0, `first differences: ${differ.slice(0, 3).join(" | ")}`);
  },
});
