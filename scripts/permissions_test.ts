import assert from "node:assert/strict";
import { permissionFlags, permissionFlagsOf } from "./permissions.ts";

Deno.test("permission flags are read from the start task, nothing else", () => {
  assert.deepEqual(
    permissionFlagsOf("deno run --no-prompt --allow-read --allow-net=127.0.0.1 main.ts"),
    ["--no-prompt", "--allow-read", "--allow-net=127.0.0.1"],
  );
});

Deno.test("the start task grants named permissions, never -A", async () => {
  const flags = await permissionFlags();
  assert.ok(flags.includes("--no-prompt"));
  assert.ok(flags.includes("--allow-read"));
  assert.ok(!flags.includes("-A"));
  assert.ok(!flags.includes("--allow-all"));
});
