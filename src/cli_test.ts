import assert from "node:assert/strict";
import { type Command, main } from "./cli.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
}

function commands(seen: { config?: unknown; extra?: unknown } = {}): Record<string, Command> {
  return {
    run: {
      summary: "daemon",
      run: (ctx) => {
        seen.config = ctx.config;
        return Promise.resolve(0);
      },
    },
    doctor: {
      summary: "checks",
      extraFlags: { "write-test": { type: "boolean", help: "put a test object" } },
      run: (ctx) => {
        seen.extra = ctx.extra;
        return Promise.resolve(0);
      },
    },
    version: { summary: "version", noSettings: true, run: () => Promise.resolve(0) },
  };
}

Deno.test("no command runs the daemon command", async () => {
  const seen: { config?: { portStart: number } } = {};
  assert.equal(await main(["--port-start", "54000"], commands(seen), { ...io(), env: {} }), 0);
  assert.equal(seen.config?.portStart, 54000);
});

Deno.test("an unknown command is one line naming it, with a hint, exit 2", async () => {
  const o = io();
  assert.equal(await main(["frobnicate"], commands(), o), 2);
  assert.equal(o.err.length, 1);
  assert.match(o.err[0], /unknown command "frobnicate"/);
  assert.match(o.err[0], /--help/);
});

Deno.test("an unknown flag is one line naming it, exit 2", async () => {
  const o = io();
  assert.equal(await main(["run", "--no-such-flag"], commands(), { ...o, env: {} }), 2);
  assert.equal(o.err.length, 1);
  assert.match(o.err[0], /unknown flag --no-such-flag/);
  assert.match(o.err[0], /coverage-collector run --help/);
});

Deno.test("a bad flag value is one line naming the flag and value, exit 2", async () => {
  const o = io();
  assert.equal(await main(["run", "--scan-interval", "often"], commands(), { ...o, env: {} }), 2);
  assert.equal(o.err.length, 1);
  assert.match(o.err[0], /flag --scan-interval: "often" is not a duration/);
});

Deno.test("a bad environment value names the variable, exit 2", async () => {
  const o = io();
  const env = { COVERAGE_COLLECTOR_SINK: "tape" };
  assert.equal(await main(["run"], commands(), { ...o, env }), 2);
  assert.match(o.err[0], /environment variable COVERAGE_COLLECTOR_SINK: "tape"/);
});

Deno.test("a stray argument is a usage error", async () => {
  const o = io();
  assert.equal(await main(["run", "extra"], commands(), { ...o, env: {} }), 2);
  assert.match(o.err[0], /unexpected argument "extra"/);
});

Deno.test("--help lists commands; <cmd> --help lists its flags and settings", async () => {
  const top = io();
  assert.equal(await main(["--help"], commands(), top), 0);
  assert.match(top.out.join("\n"), /commands:[\s\S]*run[\s\S]*doctor[\s\S]*version/);
  const sub = io();
  assert.equal(await main(["doctor", "--help"], commands(), { ...sub, env: {} }), 0);
  const text = sub.out.join("\n");
  assert.match(text, /--write-test/);
  assert.match(text, /--port-start <v>/);
  assert.match(text, /COVERAGE_COLLECTOR_PORT_START/);
  const viaHelp = io();
  assert.equal(await main(["help", "doctor"], commands(), viaHelp), 0);
  assert.equal(viaHelp.out.join("\n"), text);
});

Deno.test("command flags reach the command; settings flags are refused where none apply", async () => {
  const seen: { extra?: Record<string, unknown> } = {};
  assert.equal(await main(["doctor", "--write-test"], commands(seen), { ...io(), env: {} }), 0);
  assert.equal(seen.extra?.["write-test"], true);
  const o = io();
  assert.equal(await main(["version", "--port-start", "1"], commands(), o), 2);
  assert.match(o.err[0], /unknown flag --port-start/);
});

Deno.test("a leading -- (from deno task start -- <cmd>) is ignored", async () => {
  const seen: { extra?: Record<string, unknown> } = {};
  assert.equal(
    await main(["--", "doctor", "--write-test"], commands(seen), { ...io(), env: {} }),
    0,
  );
  assert.equal(seen.extra?.["write-test"], true);
});

Deno.test("a multiple flag gives every value in order; the settings beside it are unchanged", async () => {
  const seen: { extra?: Record<string, unknown>; config?: { portStart: number } } = {};
  const cmds: Record<string, Command> = {
    pick: {
      summary: "repeatable",
      extraFlags: {
        only: { type: "string", multiple: true, help: "repeatable" },
        one: { type: "string", help: "single" },
      },
      run: (ctx) => {
        seen.extra = ctx.extra;
        seen.config = ctx.config;
        return Promise.resolve(0);
      },
    },
  };
  const args = ["pick", "--only", "a", "--one", "x", "--only", "b=c", "--port-start", "54001"];
  assert.equal(await main(args, cmds, { ...io(), env: {} }), 0);
  assert.deepEqual(seen.extra, { only: ["a", "b=c"], one: "x" });
  assert.equal(seen.config?.portStart, 54001);
  assert.equal(await main(["pick"], cmds, { ...io(), env: {} }), 0);
  assert.deepEqual(seen.extra, { only: undefined, one: undefined });
});
