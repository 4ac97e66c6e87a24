/**
 * `report --windows` over what the real collector stored: a `-cover` fixture driven through three
 * phases at known moments (a different package's handler in each), pulled by a Collector whose
 * clock the test sets, the collector restarted before the last phase (its timeline continues).
 * Each phase's code is judged against the handler hit in it; two overlapping windows share the
 * last phase's code.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { TimelineCopies } from "../src/collect/timeline_copies.ts";
import { infoKey } from "../src/layout.ts";
import { silentLogger } from "../src/log.ts";
import { readStartTime } from "../src/procfs/stat.ts";
import type { BinaryReport } from "../src/report/model.ts";
import type { FunctionPlace } from "../src/report/timeline_report.ts";
import { DirSink } from "../src/sink/dir.ts";
import { createSystem } from "../src/system.ts";
import type { Target } from "../src/target.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { collectorOf, covserverTarget } from "./harness/covserver_collector.ts";
import { hasGo } from "./harness/gobuild.ts";
import { runReport } from "./harness/run_report.ts";

const noGo = !(await hasGo());
const PKG = "example.test/covserver";
const T0 = Date.parse("2026-12-02T10:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

async function hit(srv: Covserver, route: string) {
  const res = await fetch(`http://127.0.0.1:${srv.appPort}${route}`);
  await res.body?.cancel();
  ok(res.ok, route);
}

const names = (fns: FunctionPlace[], pkg: string) =>
  fns.filter((f) => f.package === `${PKG}/${pkg}`).map((f) => f.name).sort();

Deno.test({
  name: "report --windows over a real collector's store: each phase's code in its window, " +
    "overlaps shared, across a collector restart",
  ignore: noGo,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "report-windows-collector-" });
    await using srv = await startCovserver({ name: "phased-app" });
    try {
      const target: Target = await covserverTarget(srv);
      target.hostStartTime = (await readStartTime(createSystem("/"), srv.pid)) ?? undefined;
      const out = join(root, "out");
      const clock = { now: T0 };
      const start = async (t: Target) => {
        const copies = await TimelineCopies.open(
          join(root, "state", "timelines"),
          silentLogger,
          "test-node",
          () => true,
        );
        return collectorOf(t, new DirSink(out), {
          now: () => clock.now,
          timelineCopy: copies!.of(t),
        }).collector;
      };
      const signal = new AbortController().signal;
      const pullAt = async (c: Awaited<ReturnType<typeof start>>, s: number) => {
        clock.now = T0 + s * 1000;
        const r = await c.pullNow("schedule", signal);
        ok(r.result === "stored" || r.result === "unchanged", `${s}s: ${r.result} ${r.error}`);
      };
      const first = await start(target);
      await pullAt(first, 0); // before T0: what main and init covered
      await hit(srv, "/run/alpha");
      await pullAt(first, 60);
      await pullAt(first, 70); // idle; the coverage server's own code settles
      await hit(srv, "/run/beta?n=3");
      await pullAt(first, 120);
      // The collector starts again; the prefix memory gives it the same prefix.
      const dir = join(out, infoKey(first.prefix).replace(/\/info\.json$/, ""));
      const meta = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("covmeta."))!.name;
      const second = await start({
        ...target,
        remembered: { metaHash: meta.slice("covmeta.".length), freshAt: new Date() },
      });
      assertEquals(second.prefix, first.prefix);
      await hit(srv, "/run/gamma");
      await pullAt(second, 180);

      const wfile = join(root, "windows.txt");
      await Deno.writeTextFile(
        wfile,
        [
          `install ${at(30)} ${at(65)}`,
          `e2e ${at(100)} ${at(190)}`,
          `upgrade ${at(150)} ${at(200)}  # overlaps e2e`,
        ].join("\n"),
      );
      const r = await runReport([out, "--windows", wfile, "--format", "json"]);
      assertEquals(r.code, 0, r.err);
      const b: BinaryReport = JSON.parse(r.out).binaries[0];
      const t = b.timeline!;
      assertEquals([t.covered, t.untimed, t.curve.at(-1)?.covered], [b.covered, 0, b.covered]);
      // Outside every window: the first pull's, and what the idle pull at 70 s saw of the
      // coverage server's own code.
      ok(t.firstPull > 0 && t.outside >= t.firstPull, `${t.outside} ${t.firstPull}`);
      const [install, e2e, upgrade] = t.windows;
      const hitFns = (pkg: string) =>
        b.packages.find((p) => p.path === `${PKG}/${pkg}`)!.functions
          .filter((f) => f.covered > 0).map((f) => f.name).sort();
      ok(hitFns("alpha").length > 0 && hitFns("beta").length > 0 && hitFns("gamma").length > 0);
      // alpha ran in install, beta in e2e alone, gamma where e2e and upgrade overlap.
      assertEquals(names(install.functions, "alpha"), hitFns("alpha"));
      assertEquals([names(install.functions, "beta"), names(install.functions, "gamma")], [[], []]);
      assertEquals(install.only, install.statements);
      assertEquals(names(e2e.functions, "beta"), hitFns("beta"));
      assertEquals(names(e2e.functions, "alpha"), []);
      assertEquals(upgrade.only, 0);
      assertEquals(
        t.shared.map((s) => [s.windows, names(s.functions, "gamma"), names(s.functions, "beta")]),
        [[["e2e", "upgrade"], hitFns("gamma"), []]],
      );
      assertEquals(e2e.statements, e2e.only + upgrade.shared);
      assertEquals(install.statements + e2e.statements + upgrade.only + t.outside, b.covered);
      // The edges: alpha's pull interval (0, 60] holds install's start; beta's (70, 120] e2e's.
      assertEquals(install.precision.start.widestMs, 60_000);
      assertEquals(install.precision.start.statements, install.statements);
      assertEquals(e2e.precision.start.widestMs, 50_000);
      // What the idle pull at 70 s saw straddles install's end (65 s) within that pull's 10 s.
      const end = install.precision.end;
      assertEquals(end.widestMs, end.statements > 0 ? 10_000 : 0);
      // The curve steps at the pulls that saw new code, ending at the binary's total.
      ok(t.curve.map((p) => p.at).includes(at(180)), JSON.stringify(t.curve));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
