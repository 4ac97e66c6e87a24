/** What `doctor` found: one result per check, the exit code, and a one-line-per-check table. */

import { errorText as baseErrorText } from "../errors.ts";
import { safeText } from "../terminal_text.ts";

export type CheckStatus = "OK" | "WARN" | "FAIL";

/** The outcome of one check. `fix` says what to do when the status is not OK ("" when OK). */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix: string;
}

export interface DoctorReport {
  checks: CheckResult[];
  /** 1 when any check FAILed, else 0 (warnings do not fail). */
  exitCode: number;
}

/** @example ok("root", "uid 0") // { name: "root", status: "OK", detail: "uid 0", fix: "" } */
export function ok(name: string, detail: string): CheckResult {
  return { name, status: "OK", detail, fix: "" };
}

/** @example warn("kubeconfig", "none found", "pass --kubeconfig").status // "WARN" */
export function warn(name: string, detail: string, fix: string): CheckResult {
  return { name, status: "WARN", detail, fix };
}

/** @example fail("root", "uid 1000", "run as root").status // "FAIL" */
export function fail(name: string, detail: string, fix: string): CheckResult {
  return { name, status: "FAIL", detail, fix };
}

/** The message of anything thrown, on one line. @example errorText(new Error("a\nb")) // "a b" */
export function errorText(e: unknown): string {
  return baseErrorText(e).replace(/\s*\n\s*/g, " ").trim();
}

/**
 * Builds the report: exit code 1 when any check failed.
 *
 * @example report([ok("root", "uid 0")]).exitCode // 0
 */
export function report(checks: CheckResult[]): DoctorReport {
  return { checks, exitCode: checks.some((c) => c.status === "FAIL") ? 1 : 0 };
}

/**
 * The report as text: one line per check (`STATUS  name  detail — fix: ...`) and a summary.
 *
 * @example renderReport(report([ok("root", "uid 0")])) // "OK    root  uid 0\ndoctor: 1 OK, 0 WARN, 0 FAIL"
 */
export function renderReport(r: DoctorReport): string {
  const width = Math.max(0, ...r.checks.map((c) => safeText(c.name).length));
  const lines = r.checks.map((c) => {
    // A detail may quote what a pod calls itself: no control of it reaches the terminal.
    const fix = c.status === "OK" || c.fix === "" ? "" : ` — fix: ${safeText(c.fix)}`;
    return `${c.status.padEnd(5)} ${safeText(c.name).padEnd(width)}  ${safeText(c.detail)}${fix}`;
  });
  const count = (s: CheckStatus) => r.checks.filter((c) => c.status === s).length;
  lines.push(`doctor: ${count("OK")} OK, ${count("WARN")} WARN, ${count("FAIL")} FAIL`);
  return lines.join("\n");
}
