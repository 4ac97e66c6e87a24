/**
 * A field-size coverage server: versitygw v1.8.0 (a large real Go program from the module proxy)
 * built with `-cover -covermode=atomic -coverpkg=<COVERPKG>` and our
 * coverage-server file (tests/fixtures/bigcover/coverage_server.go) added to its main package, the
 * way the field's build injects it. Its meta-data is MBs. Built once into the cache (outside the
 * clone) with `nice -n 19`; the source comes from the Go module cache (`go mod download`).
 */

import { join } from "node:path";
import { announceBuild, cacheDir } from "./cache.ts";
import { repoRoot } from "./gobuild.ts";

const MODULE = "github.com/versity/versitygw";
const VERSION = "v1.8.0";
/**
 * What is instrumented: the module itself gives only 0.4 MB of meta-data (etcd server v3.7.3's
 * gives 0.15 MB); with the AWS SDK it links, the meta-data is MBs, like the field's binaries.
 */
const COVERPKG = `${MODULE}/...,github.com/aws/aws-sdk-go-v2/...`;

async function go(args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command("nice", {
    args: ["-n", "19", "go", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`go ${args.join(" ")} (in ${cwd ?? "."}) failed: ${err}`);
  }
  return text;
}

let building: Promise<string> | undefined;

/**
 * The path of the built big server (building it the first time, a few minutes).
 * @example const bin = await bigCoverBinary(); // …/bigcover/versitygw-v1.8.0/<hash>/versitygw
 */
export function bigCoverBinary(): Promise<string> {
  building ??= (async () => {
    const file = join(repoRoot, "tests", "fixtures", "bigcover", "coverage_server.go");
    const source = await Deno.readFile(file);
    const key = new Uint8Array([...source, ...new TextEncoder().encode(COVERPKG)]);
    const hash = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", key)).subarray(0, 6),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const dir = join(cacheDir(), "bigcover", `versitygw-${VERSION}`, hash);
    const bin = join(dir, "versitygw");
    try {
      await Deno.stat(bin);
      return bin;
    } catch { /* build it */ }
    announceBuild(`versitygw ${VERSION} with -cover and a coverage server`, "about 5 min");
    const modDir = JSON.parse(
      await go(["mod", "download", "-json", `${MODULE}@${VERSION}`], cacheDir()),
    ).Dir as string;
    const src = join(dir, "src");
    await Deno.remove(src, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    const cp = await new Deno.Command("cp", { args: ["-r", modDir, src] }).output();
    if (!cp.success) throw new Error(`copying ${modDir} to ${src} failed`);
    await new Deno.Command("chmod", { args: ["-R", "u+w", src] }).output();
    await Deno.writeFile(join(src, "cmd", "versitygw", "zz_coverage_server.go"), source);
    await go([
      "build",
      "-cover",
      "-covermode=atomic",
      `-coverpkg=${COVERPKG}`,
      "-o",
      bin + ".tmp",
      "./cmd/versitygw",
    ], src);
    await Deno.rename(bin + ".tmp", bin);
    await Deno.remove(src, { recursive: true }).catch(() => {});
    return bin;
  })();
  return building;
}

/** A running big server. */
export interface BigServer {
  pid: number;
  coveragePort: number;
  stop(): Promise<void>;
}

/**
 * Starts one big server on the host (outside any container): its S3 port on a free loopback
 * port, its coverage server on the first free of `coveragePort`..+49.
 * @example const s = await startBigServer(bin, 54350); ... await s.stop();
 */
export async function startBigServer(
  bin: string,
  coveragePort: number,
  env: Record<string, string> = {},
): Promise<BigServer> {
  const dir = await Deno.makeTempDir({ prefix: "bigcover-" });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const child = new Deno.Command(bin, {
    args: [
      "--access",
      "a",
      "--secret",
      "bigcover-secret",
      "--port",
      `127.0.0.1:${port}`,
      "--quiet",
      "posix",
      dir,
    ],
    env: { ...env, COVERAGE_PORT: String(coveragePort) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let bound = 0;
  const deadline = Date.now() + 30_000;
  while (!bound && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    bound = Number(/coverage-port=(\d+)/.exec(text)?.[1] ?? 0);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  if (!bound) {
    child.kill("SIGKILL");
    throw new Error(`big server ${bin} did not say coverage-port=: ${text.slice(-500)}`);
  }
  return {
    pid: child.pid,
    coveragePort: bound,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
