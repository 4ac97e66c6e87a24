import assert from "node:assert/strict";
import { formatBytes, formatDuration, parseBytes, parseDuration } from "./units.ts";

Deno.test("parseDuration reads units and compounds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("10"), 10_000, "a bare number is seconds");
});

Deno.test("parseDuration rejects text that is not a duration, naming it", () => {
  for (const bad of ["", "ten s", "5x", "-1s", "1s2"]) {
    assert.throws(() => parseDuration(bad), (e: Error) => e.message.includes(`"${bad}"`));
  }
});

Deno.test("formatDuration renders what parseDuration reads", () => {
  for (const ms of [500, 10_000, 90_000, 300_000, 3_600_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
  assert.equal(formatDuration(90_000), "1m30s");
});

Deno.test("parseBytes reads binary and decimal units", () => {
  assert.equal(parseBytes("4096"), 4096);
  assert.equal(parseBytes("64MiB"), 64 * 1024 * 1024);
  assert.equal(parseBytes("1KiB"), 1024);
  assert.throws(() => parseBytes("lots"), /"lots" is not a size/);
  assert.equal(formatBytes(64 * 1024 * 1024), "64MiB");
});
