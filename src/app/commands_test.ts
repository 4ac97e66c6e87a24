import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/** Deno's own module graph of `entry` (`deno info --json`). */
async function graph(entry: string): Promise<Map<string, InfoModule>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: repoRoot,
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  return new Map(info.modules.map((m) => [m.specifier, m]));
}

/** The files of the repository loaded by static imports from `entries` (repo-relative). */
function staticClosure(g: Map<string, InfoModule>, entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = entries.map((e) => `file://${join(repoRoot, e)}`);
  while (todo.length) {
    const spec = todo.pop()!;
    if (seen.has(spec)) continue;
    seen.add(spec);
    for (const d of g.get(spec)?.dependencies ?? []) {
      if (d.code && !d.isDynamic) todo.push(d.code.specifier);
    }
  }
  return new Set(
    [...seen].filter((s) => s.startsWith("file://")).map((s) =>
      relative(repoRoot, fileURLToPath(s))
    ),
  );
}

Deno.test("run loads neither report nor doctor code; each command's code is in the graph", async () => {
  const g = await graph("main.ts");
  const atStart = staticClosure(g, ["main.ts"]);
  const run = staticClosure(g, ["main.ts", "src/app/daemon.ts", "src/app/wiring.ts"]);
  const unused = (files: Set<string>) =>
    [...files].filter((f) =>
      (f.startsWith("src/report/") && f !== "src/report/flags.ts") ||
      f.startsWith("src/doctor/")
    );
  assert.deepEqual(unused(run), [], "run's static imports reach report/doctor code");
  assert.ok(!atStart.has("src/app/daemon.ts"), "main.ts loads the daemon for every command");
  // the lazily loaded modules are still in the graph deno compile builds in
  for (const f of ["src/app/daemon.ts", "src/report/command.ts", "src/doctor/command.ts"]) {
    assert.ok(g.has(`file://${join(repoRoot, f)}`), `${f} not in main.ts's module graph`);
  }
});
