/**
 * What each module costs to load: `scripts/deno run -A scripts/bench_modules.ts [--root DIR]
 * [--runs 3]`. For each entry (a bare npm name of deno.json or one of our files) a fresh
 * `deno run` with the V8 flags of deno.json's start task imports it and nothing else, collects
 * garbage, and prints its RssAnon, VmHWM and V8 heap used; the table gives the median of --runs
 * minus the empty program's. --root runs the same against another copy of the tree (e.g. main
 * exported with `git archive`), so two trees can be compared in one run.
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";

const here = resolve(dirname(new URL(import.meta.url).pathname), "..");

/** What is imported, by name in the table. */
export const ENTRIES: Record<string, string> = {
  "(empty)": "",
  "zod": "zod",
  "zod/mini": "zod/mini",
  "hono": "hono",
  "yaml": "yaml",
  "aws4fetch": "aws4fetch",
  "run: src/app/daemon.ts + wiring.ts": "./src/app/daemon.ts ./src/app/wiring.ts",
  "once: src/app/once.ts": "./src/app/once.ts",
  "report: src/report/command.ts": "./src/report/command.ts",
  "doctor: src/doctor/command.ts": "./src/doctor/command.ts",
  "main.ts commands (src/app/commands.ts)": "./src/app/commands.ts",
  "`run` start to its loop (main.ts run --help)": "MAIN",
};

interface Probe {
  anonKiB: number;
  hwmKiB: number;
  heapKiB: number;
}

function probeSource(specs: string): string {
  const imports = specs.split(" ").filter(Boolean).map((s) =>
    `await import(${JSON.stringify(s.startsWith("./") ? `../../${s.slice(2)}` : s)});`
  );
  return [
    ...imports,
    `(globalThis as unknown as { gc?: () => void }).gc?.();`,
    `const st = Deno.readTextFileSync("/proc/self/status");`,
    `const kib = (k: string) => Number(new RegExp("^" + k + ":\\\\s+(\\\\d+) kB$", "m").exec(st)![1]);`,
    `console.log(JSON.stringify({ anonKiB: kib("RssAnon"), hwmKiB: kib("VmHWM"),`,
    `  heapKiB: Math.round(Deno.memoryUsage().heapUsed / 1024) }));`,
  ].join("\n");
}

function startV8Flags(root: string): string[] {
  const deno = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")));
  const start: string = deno.tasks?.start ?? "";
  const flag = start.split(/\s+/).find((t) => t.startsWith("--v8-flags="));
  return [flag ? `${flag},--expose-gc` : "--v8-flags=--expose-gc"];
}

async function once(root: string, specs: string, file: string): Promise<Probe> {
  const v8 = startV8Flags(root);
  if (specs === "MAIN") {
    // the program as main.ts loads it for `run`, up to the command (here: its help text)
    const wrap = `const { COMMANDS } = await import("../../src/app/commands.ts");\n` +
      `const { main } = await import("../../src/app/cli.ts");\n` +
      `await main(["run", "--help"], COMMANDS);\n` + probeSource("");
    await Deno.writeTextFile(file, wrap);
  } else await Deno.writeTextFile(file, probeSource(specs));
  const args = ["run", "-A", "--no-prompt", ...v8, file];
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: root, stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success || !text.startsWith("{")) {
    throw new Error(
      `probe of ${specs} in ${root} failed: ${new TextDecoder().decode(out.stderr).slice(-400)}`,
    );
  }
  return JSON.parse(text);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median probe per entry, for one tree. */
export async function measureTree(root: string, runs: number): Promise<Map<string, Probe>> {
  const dir = join(root, ".cache", `modprobe-${Deno.pid}`);
  await Deno.mkdir(dir, { recursive: true });
  const result = new Map<string, Probe>();
  try {
    for (const [name, specs] of Object.entries(ENTRIES)) {
      const got: Probe[] = [];
      for (let i = 0; i < runs; i++) {
        got.push(
          await once(root, specs, join(dir, `probe.ts`)).catch(() => ({
            anonKiB: NaN,
            hwmKiB: NaN,
            heapKiB: NaN,
          })),
        );
      }
      result.set(name, {
        anonKiB: median(got.map((g) => g.anonKiB)),
        hwmKiB: median(got.map((g) => g.hwmKiB)),
        heapKiB: median(got.map((g) => g.heapKiB)),
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return result;
}

function mib(kib: number): string {
  return Number.isFinite(kib) ? (kib / 1024).toFixed(1) : "n/a";
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { root: { type: "string", multiple: true }, runs: { type: "string" } },
  });
  const roots = values.root?.length ? values.root.map((r) => resolve(r)) : [here];
  const runs = Number(values.runs ?? 3);
  const trees = [];
  for (const r of roots) trees.push({ root: r, m: await measureTree(r, runs) });
  const head = ["module", ...trees.flatMap((_, i) => [`anon+ #${i}`, `hwm #${i}`, `heap+ #${i}`])];
  console.log(trees.map((t, i) => `#${i}: ${t.root}`).join("\n"));
  console.log(head.join("\t"));
  for (const name of Object.keys(ENTRIES)) {
    const cells = trees.flatMap((t) => {
      const p = t.m.get(name)!;
      const e = t.m.get("(empty)")!;
      return name === "(empty)"
        ? [mib(p.anonKiB), mib(p.hwmKiB), mib(p.heapKiB)]
        : [mib(p.anonKiB - e.anonKiB), mib(p.hwmKiB), mib(p.heapKiB - e.heapKiB)];
    });
    console.log([name, ...cells].join("\t"));
  }
  console.log(
    `BENCH_MODULES_JSON ${
      JSON.stringify(trees.map((t) => ({ root: t.root, probes: Object.fromEntries(t.m) })))
    }`,
  );
  return 0;
}

if (import.meta.main) Deno.exitCode = await main();
