import assert from "node:assert/strict";
import { hasGo } from "../tests/harness/gobuild.ts";
import { canSimulateNode } from "../tests/harness/node.ts";
import { collectorCommand, shellWord } from "./fakenode.ts";

const skip = !(await hasGo()) || !(await canSimulateNode());

Deno.test("fakenode: shell words and the collector command line", () => {
  assert.equal(shellWord("/tmp/a-b_c.d:1"), "/tmp/a-b_c.d:1");
  assert.equal(shellWord("a b"), "'a b'");
  assert.equal(shellWord("it's"), `'it'\\''s'`);
  assert.equal(
    collectorCommand({ collectorArgs: ["--crictl", "/x y/crictl"], env: { A: "1 2" } }),
    "A='1 2' scripts/deno task start run --crictl '/x y/crictl'",
  );
});

Deno.test({
  name: "fakenode: prints the command, tears down cleanly on SIGTERM" +
    (skip ? " (skipped: needs root, netns, cgroups, Go)" : ""),
  ignore: skip,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./fakenode.ts", import.meta.url).pathname, "--", "--pods", "1"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const err = new Response(child.stderr).text();
    let out = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (!out.includes("Ctrl-C")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      assert.match(out, /scripts\/deno task start run --crictl \S+\/crictl .*--sink dir/);
      assert.match(out, /ccsim\/cov-000 ip=10\.244\.\d+\.\d+ ports=53700/);
    } finally {
      child.kill("SIGTERM");
    }
    while (!(await reader.read()).done) { /* drain */ }
    const status = await child.status;
    const stderr = await err;
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /fakenode: clean/);
  },
});
