import assert from "node:assert/strict";
import { SETTINGS } from "../src/config.ts";
import { README, settingsTable, withSettings } from "./docs.ts";

Deno.test("README's configuration reference is current (scripts/deno task docs)", async () => {
  const text = await Deno.readTextFile(README);
  assert.equal(withSettings(text), text, "README.md is stale: run scripts/deno task docs");
});

Deno.test("the reference lists every flag and variable", () => {
  const table = settingsTable();
  for (const s of Object.values(SETTINGS)) assert.ok(table.includes(`--${s.flag}`), s.flag);
  assert.ok(table.includes("COVERAGE_COLLECTOR_HOST_ROOT"));
});
