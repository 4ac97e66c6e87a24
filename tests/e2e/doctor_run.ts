/** Runs `coverage-collector doctor` and reads its lines, for tests/e2e/doctor_test.ts. */

import assert from "node:assert/strict";
import { spawnCollector } from "../harness/collector.ts";

/** Longest one doctor run may take: its peer checks have their own shorter timeouts. */
export const RUN_LIMIT_MS = 60_000;

export interface Line {
  status: string;
  name: string;
  detail: string;
  fix: string;
}

export interface DoctorRun {
  code: number;
  lines: Line[];
  summary: string;
  text: string;
}

/**
 * Parses `STATUS name  detail — fix: ...` lines (names are padded to one width).
 * @example parse("OK    root  running as uid 0\ndoctor: 1 OK, 0 WARN, 0 FAIL").lines[0].name // "root"
 */
export function parse(stdout: string): { lines: Line[]; summary: string } {
  const rows = stdout.trimEnd().split("\n");
  const summary = rows.pop() ?? "";
  const lines = rows.map((row) => {
    const m = /^(OK|WARN|FAIL) +(\S+(?: \S+)*) {2,}(.*)$/.exec(row);
    assert.ok(m, `not a doctor line: ${row}`);
    const [detail, fix = ""] = m[3].split(" — fix: ");
    return { status: m[1], name: m[2], detail, fix };
  });
  return { lines, summary };
}

/**
 * Runs doctor with `args`; fails the test if it runs past RUN_LIMIT_MS (then kills it).
 * @example const run = await doctor(["--crictl", "/nonexistent"]); run.code // 1
 */
export async function doctor(args: string[]): Promise<DoctorRun> {
  const c = await spawnCollector(["doctor", ...args]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      c.child.kill("SIGKILL");
      reject(new Error(`doctor ${args.join(" ")} still running after ${RUN_LIMIT_MS}ms`));
    }, RUN_LIMIT_MS);
  });
  try {
    const [status, text] = await Promise.race([Promise.all([c.status, c.stdout]), limit]);
    return { code: status.code, text, ...parse(text) };
  } finally {
    clearTimeout(timer);
    await c.status.catch(() => {});
  }
}

/**
 * The line of check `name` (fails the test when there is none).
 * @example line(run, "crictl").status // "FAIL"
 */
export function line(run: DoctorRun, name: string): Line {
  const l = run.lines.find((x) => x.name === name);
  assert.ok(l, `no "${name}" line in:\n${run.text}`);
  return l;
}

/**
 * Exit 1, `name` the only FAIL, with `detail` (exact or pattern) and exactly `fix`.
 * @example assertOnlyFail(run, "crictl", "/nonexistent not found", fix)
 */
export function assertOnlyFail(run: DoctorRun, name: string, detail: string | RegExp, fix: string) {
  assert.equal(run.code, 1, run.text);
  assert.deepEqual(run.lines.filter((l) => l.status === "FAIL").map((l) => l.name), [name]);
  const l = line(run, name);
  if (typeof detail === "string") assert.equal(l.detail, detail, run.text);
  else assert.match(l.detail, detail, run.text);
  assert.equal(l.fix, fix, run.text);
}

/**
 * The /proc access line is OK, or WARN only because this sandbox's PID 1 is unreadable.
 * @example assertProcAccess(run)
 */
export function assertProcAccess(run: DoctorRun) {
  const p = line(run, "/proc access");
  if (p.status === "OK") return;
  assert.equal(p.status, "WARN", run.text);
  assert.match(
    p.detail,
    /^\d+ of \d+ sampled processes readable\b.*; cannot read \/proc\/1\/environ: .*, though other processes are readable/,
  );
}

/**
 * `args` without `--flag value`.
 * @example without(["--a", "1", "--b", "2"], "--a") // ["--b", "2"]
 */
export function without(args: string[], flag: string): string[] {
  const i = args.indexOf(flag);
  return i < 0 ? args : [...args.slice(0, i), ...args.slice(i + 2)];
}

/**
 * A loopback port that was free a moment ago.
 * @example `127.0.0.1:${freePort()}`
 */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
