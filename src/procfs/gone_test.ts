import assert from "node:assert/strict";
import { isGone, osErrorCode } from "./gone.ts";

Deno.test("osErrorCode reads a code, or the (os error N) of a plain Error", () => {
  assert.equal(osErrorCode(Object.assign(new Error("x"), { code: "EACCES" })), "EACCES");
  assert.equal(
    osErrorCode(new Error("No such process (os error 3): readfile '/proc/7/environ'")),
    "ESRCH",
  );
  assert.equal(osErrorCode(new Error("Broken pipe (os error 32)")), undefined);
  assert.equal(osErrorCode("text"), undefined);
});

Deno.test("a real zombie's /proc/<pid>/environ is gone, not a failure", async () => {
  // The shell's background child exits and is never waited for by the `sleep` that replaces it.
  const p = new Deno.Command("sh", {
    args: ["-c", "sleep 0.05 & echo $!; exec sleep 5"],
    stdout: "piped",
  }).spawn();
  try {
    const reader = p.stdout.getReader();
    const pid = Number(new TextDecoder().decode((await reader.read()).value).trim());
    reader.releaseLock();
    let error: unknown = null;
    for (let i = 0; i < 200 && error === null; i++) {
      const state = /^State:\s+(\S)/m.exec(await Deno.readTextFile(`/proc/${pid}/status`))?.[1];
      if (state !== "Z") {
        await new Promise((r) => setTimeout(r, 10)); // polling the kernel's state, no event for it
        continue;
      }
      error = await Deno.readFile(`/proc/${pid}/environ`).then(() => "read", (e) => e);
    }
    assert.ok(error instanceof Error, `reading the zombie's environ gave ${String(error)}`);
    assert.ok(isGone(error), String(error));
  } finally {
    p.kill();
    await p.status;
    await p.stdout.cancel().catch(() => {});
  }
});
