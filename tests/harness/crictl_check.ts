/** Test helpers around crictl: zod schemas of its JSON and a runner. */

import assert from "node:assert/strict";
import { z } from "zod";

const Labels = z.object({
  "io.kubernetes.pod.name": z.string(),
  "io.kubernetes.pod.namespace": z.string(),
  "io.kubernetes.pod.uid": z.string(),
  "io.kubernetes.container.name": z.string(),
});
/** `crictl ps -o json`, the fields the collector uses. */
export const CrictlPs = z.object({
  containers: z.array(z.object({
    id: z.string().regex(/^[0-9a-f]{64}$/),
    podSandboxId: z.string(),
    metadata: z.object({ name: z.string(), attempt: z.number() }),
    imageRef: z.string(),
    state: z.literal("CONTAINER_RUNNING"),
    labels: Labels,
  })),
});
/** `crictl inspect <id>`, the fields the collector uses. */
export const CrictlInspect = z.object({
  status: z.object({ id: z.string(), imageRef: z.string(), labels: Labels, state: z.string() }),
  info: z.object({ pid: z.number(), sandboxID: z.string() }),
});
/** `crictl inspectp <id>`, the fields the collector uses. */
export const CrictlInspectp = z.object({
  status: z.object({
    id: z.string(),
    metadata: z.object({ name: z.string(), namespace: z.string(), uid: z.string() }),
    state: z.literal("SANDBOX_READY"),
    network: z.object({ ip: z.string(), additionalIps: z.array(z.string()) }),
    linux: z.object({
      namespaces: z.object({ options: z.object({ network: z.enum(["POD", "NODE"]) }) }),
    }),
  }),
});

/**
 * Runs a crictl (real or fake) and collects its output; killed (SIGTERM) after timeoutMs.
 * @example
 * const r = await runCrictl(node.crictlPath, ["ps", "-o", "json"]);
 */
export async function runCrictl(path: string, args: string[], timeoutMs = 5000): Promise<{
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}> {
  const out = await new Deno.Command(path, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/**
 * Runs crictl, asserts success and parses stdout as JSON.
 * @example
 * const ps = CrictlPs.parse(await crictlJson(node.crictlPath, ["ps", "-o", "json"]));
 */
export async function crictlJson(path: string, args: string[]): Promise<unknown> {
  const r = await runCrictl(path, args);
  assert.equal(r.code, 0, `crictl ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
