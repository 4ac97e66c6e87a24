import assert from "node:assert/strict";
import { SETTINGS } from "../src/config.ts";
import { README, settingsTable, withSettings } from "./docs.ts";

Deno.test("README's configuration reference is current (scripts/deno task docs)", async () => {
  // deno fmt pads the table's columns: compare without the padding.
  const norm = (s: string) => s.replace(/[ \t]+/g, "").replace(/-{3,}/g, "---");
  const text = await Deno.readTextFile(README);
  assert.equal(
    norm(withSettings(text)),
    norm(text),
    "README.md is stale: run scripts/deno task docs",
  );
});

Deno.test("the reference lists every flag and variable", () => {
  const table = settingsTable();
  for (const s of Object.values(SETTINGS)) assert.ok(table.includes(`--${s.flag}`), s.flag);
  assert.ok(table.includes("COVERAGE_COLLECTOR_HOST_ROOT"));
});
