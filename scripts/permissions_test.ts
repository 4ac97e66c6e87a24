import assert from "node:assert/strict";
import { permissionFlags, permissionFlagsOf } from "./permissions.ts";

Deno.test("permission flags are read from the start task, nothing else", () => {
  assert.deepEqual(
    permissionFlagsOf("deno run --no-prompt --allow-read --allow-net=127.0.0.1 main.ts"),
    ["--no-prompt", "--allow-read", "--allow-net=127.0.0.1"],
  );
});

Deno.test("the start task grants what reading other processes' /proc needs: --allow-all", async () => {
  // Deno refuses /proc/<pid>/{fd,net,status,environ,ns} to anything less than --allow-all
  // (NotCapable), and the collector must read them for every process on the node.
  const flags = await permissionFlags();
  assert.deepEqual(flags, ["--no-prompt", "--allow-all"]);
});

Deno.test("with named permissions Deno refuses /proc/<pid>/net: why start uses --allow-all", async () => {
  const probe = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(probe, `await Deno.readTextFile("/proc/" + Deno.pid + "/net/tcp6");`);
  const named = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", probe],
    stderr: "piped",
    stdout: "null",
  }).output();
  assert.notEqual(named.code, 0);
  assert.match(new TextDecoder().decode(named.stderr), /Requires all access/);
  const all = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...await permissionFlags(), probe],
    stdout: "null",
  }).output();
  await Deno.remove(probe);
  assert.equal(all.code, 0);
});
