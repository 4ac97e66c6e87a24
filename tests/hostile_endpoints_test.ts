/**
 * Hostile names (a newline, ESC and OSC 8 sequences, C1 CSI, U+2028, a bidi override) through
 * the log (logfmt and JSON), /metrics, /status, /readyz and doctor's table: one line stays one
 * line, no raw control gets out, and JSON readers get the names back as they were.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { main } from "../src/app/cli.ts";
import { renderReport, report, warn } from "../src/doctor/report.ts";
import { Health } from "../src/health.ts";
import { createLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { renderTable } from "../src/app/once.ts";
import { createApp } from "../src/app/health_server.ts";
import { hasGo } from "./harness/gobuild.ts";
import { promcheck } from "./harness/promcheck.ts";
import { ALL_HOSTILE, HOSTILE, rawControls } from "./harness/hostile_text.ts";

Deno.test("log lines (logfmt and JSON) escape every control of a field, message or key", () => {
  for (const format of ["logfmt", "json"] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, timestamps: false, write: (l) => lines.push(l) });
    log.with({ binary: ALL_HOSTILE }).warn(`pull failed ${HOSTILE.c1}`, {
      error: new Error(ALL_HOSTILE),
      pod: HOSTILE.lineSep,
      short: HOSTILE.c1, // no space or quote: logfmt used to write it bare
      [`k${HOSTILE.esc}`]: 1,
      nested: { name: HOSTILE.osc8 },
    });
    assertEquals(lines.length, 1);
    assertEquals(rawControls(lines[0], false), [], `${format}: ${JSON.stringify(lines[0])}`);
    if (format === "json") {
      const rec = JSON.parse(lines[0]);
      assertEquals([rec.binary, rec.error, rec.pod, rec.nested.name], [
        ALL_HOSTILE,
        ALL_HOSTILE,
        HOSTILE.lineSep,
        HOSTILE.osc8,
      ]);
    } else {
      ok(lines[0].includes('short="\\u009b2J\\u0085"'), lines[0]);
    }
  }
});

function hostileApp() {
  const health = new Health();
  health.set("scan", { ready: false, reason: `server ${ALL_HOSTILE} refused` });
  const metrics = new Metrics();
  metrics.inc("coverage_collector_pulls_total", "Pulls", { binary: ALL_HOSTILE, result: "ok" });
  metrics.inc("coverage_collector_pulls_total", "Pulls", { binary: HOSTILE.c1, result: "ok" });
  const status = { targets: [{ binary: ALL_HOSTILE, error: HOSTILE.lineSep }] };
  return { app: createApp({ health, metrics, status: () => status }), status };
}

Deno.test("/metrics carries no raw control of a peer's name", async () => {
  const { app } = hostileApp();
  const metrics = await (await app.request("/metrics")).text();
  assertEquals(rawControls(metrics), [], JSON.stringify(metrics));
  const samples = metrics.split("\n").filter((l) => l.startsWith("coverage_collector_pulls_total"));
  assertEquals(samples.length, 2, metrics);
  ok(samples.some((l) => l.includes('binary="\\\\x9b2J\\\\x85"')), metrics);
});

Deno.test("/status is JSON with C1, U+2028 and bidi controls escaped, the values unchanged", async () => {
  const { app, status } = hostileApp();
  const res = await app.request("/status");
  assertEquals(res.headers.get("content-type"), "application/json");
  const body = await res.text();
  assertEquals(rawControls(body, false), [], JSON.stringify(body));
  assertEquals(JSON.parse(body).targets, status.targets); // escaped, not changed
});

Deno.test("/readyz writes a reason quoting a peer on one line, escaped", async () => {
  const { app } = hostileApp();
  const ready = await (await app.request("/readyz")).text();
  assertEquals(rawControls(ready), [], JSON.stringify(ready));
  assertEquals(ready.split("\n").length, 3, ready); // "not ready", the reason, ""
});

Deno.test({
  name: "/metrics with hostile label values passes Prometheus' own parser (promcheck)",
  ignore: !(await hasGo()),
  async fn() {
    const text = await (await hostileApp().app.request("/metrics")).text();
    const families = await promcheck(text); // throws with the parser's error if refused
    ok(families.some((f) => f.includes("coverage_collector_pulls_total")));
  },
});

Deno.test("doctor's table writes a check's detail and fix with their controls escaped", () => {
  const text = renderReport(report([warn("crictl", `pod ${ALL_HOSTILE}`, `see ${HOSTILE.osc8}`)]));
  assertEquals(rawControls(text), [], JSON.stringify(text));
  assertEquals(text.split("\n").length, 2, text);
});

Deno.test("once's table escapes what servers call themselves", () => {
  const row = {
    namespace: "ns",
    pod: `p${HOSTILE.newline}`,
    container: "c",
    binary: ALL_HOSTILE,
    address: "10.0.0.1:53700",
    result: "failed",
    detail: HOSTILE.c1,
  };
  const text = renderTable([row]);
  assertEquals(rawControls(text), [], JSON.stringify(text));
  assertEquals(text.split("\n").length, 2, text);
});

Deno.test("the command line's stdout and stderr escape any control a command lets through", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["leaky"], {
    leaky: {
      summary: "prints a peer's name raw",
      noSettings: true,
      run: (ctx) => {
        ctx.stdout(`line one\nname ${ALL_HOSTILE}`);
        ctx.stderr(`warning: ${HOSTILE.esc}${HOSTILE.c1}`);
        return Promise.resolve(0);
      },
    },
  }, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} });
  assertEquals(code, 0);
  assertEquals(rawControls(out.join(""), true), [], JSON.stringify(out));
  assertEquals(rawControls(err.join(""), false), [], JSON.stringify(err));
  assertEquals(out[0].split("\n")[0], "line one"); // the command's own newline stays
});
