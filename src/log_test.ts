import assert from "node:assert/strict";
import { boundedText, createLogger, MAX_FIELD_CHARS, OnceLog, toLogfmt } from "./log.ts";
import { secrets } from "./secrets.ts";

const at = () => new Date("2026-11-22T10:00:00.000Z");

Deno.test("logfmt: one line per event, quoted where needed, levels filtered", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), now: at, level: "info" });
  log.debug("hidden");
  log.info("scan done", { servers: 3, note: "a b", err: new Error("boom") });
  assert.deepEqual(lines, [
    'ts=2026-11-22T10:00:00.000Z level=info msg="scan done" servers=3 note="a b" err=boom',
  ]);
  assert.equal(toLogfmt({ a: "", b: "x\ny" }), 'a="" b="x\\ny"');
});

Deno.test("json format and bound fields; no time stamps when asked (journald)", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), format: "json", timestamps: false })
    .with({ namespace: "ns", pod: "p" });
  log.warn("pull failed", { port: 53700 });
  assert.deepEqual(JSON.parse(lines[0]), {
    level: "warn",
    msg: "pull failed",
    namespace: "ns",
    pod: "p",
    port: 53700,
  });
});

Deno.test("secret-like keys are redacted whatever the caller passes", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), timestamps: false });
  log.info("creds", { secretKey: "S3CR3T", token: "abc", bucket: "b" });
  assert.ok(!lines[0].includes("S3CR3T") && !lines[0].includes("abc"), lines[0]);
  assert.match(lines[0], /bucket=b/);
});

Deno.test("OnceLog says yes once per distinct error and once when it clears", () => {
  const once = new OnceLog();
  assert.equal(once.changed("crictl", "exit 1"), true);
  assert.equal(once.changed("crictl", "exit 1"), false);
  assert.equal(once.changed("crictl", "timeout"), true);
  assert.equal(once.cleared("crictl"), true);
  assert.equal(once.cleared("crictl"), false);
});

Deno.test("a field's text is cut at MAX_FIELD_CHARS, saying how much; a secret across the cut stays masked", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), timestamps: false });
  log.info("coverage server found", { binary: "b".repeat(5000), port: 53700 });
  assert.ok(lines[0].length < MAX_FIELD_CHARS + 100, `${lines[0].length} chars`);
  assert.match(
    lines[0],
    new RegExp(`binary="?b{${MAX_FIELD_CHARS}}…\\(\\+${5000 - MAX_FIELD_CHARS} chars\\)`),
  );
  assert.match(lines[0], /port=53700/);

  const canary = "canary-secret-0123456789abcdef";
  secrets.add(canary);
  const text = "x".repeat(MAX_FIELD_CHARS - 10) + canary;
  log.error("pull failed", { error: new Error(text) });
  assert.ok(!lines[1].includes(canary.slice(0, 10)), lines[1]);
  assert.equal(boundedText("short"), "short");
});
