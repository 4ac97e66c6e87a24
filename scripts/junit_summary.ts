/**
 * Prints `tests: N passed, N failed, N skipped` from a JUnit XML report written by `deno test
 * --junit-path`, counting its test cases (steps included) — never Deno's own summary line.
 */

/** Counts the outcomes of the test cases in a JUnit report. */
export function countJunit(xml: string): { passed: number; failed: number; skipped: number } {
  let passed = 0, failed = 0, skipped = 0;
  const re = /<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

if (import.meta.main) {
  const path = Deno.args[0];
  const c = countJunit(await Deno.readTextFile(path));
  console.log(`tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  if (c.passed + c.failed === 0) {
    console.error(`${path}: the report holds no test that ran`);
    Deno.exit(1);
  }
}
