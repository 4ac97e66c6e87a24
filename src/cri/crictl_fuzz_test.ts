/**
 * Property tests: whatever crictl prints (a runtime's answer about pods we do not control) gives
 * parsed output or a CrictlError, in about linear time.
 */

import fc from "fast-check";
import assert from "node:assert/strict";
import { Crictl, CrictlError } from "./crictl.ts";
import type { System } from "../system.ts";
import {
  assertNearLinear,
  fuzzRuns,
  mutatedJson,
  mutatedText,
  outcomeAsync,
} from "../../tests/harness/fuzz.ts";
import { sampleText } from "../../tests/testdata/samples.ts";

/** A System whose only program prints `stdout` (the fault injection: no real crictl prints
 * arbitrary bytes on demand). */
function printing(stdout: string): System {
  const no = () => Promise.reject(new Error("not used"));
  return {
    hostRoot: "/",
    hostPath: (p) => p,
    readText: no,
    readBytes: no,
    readLink: no,
    readDir: no,
    run: () => Promise.resolve({ code: 0, stdout, stderr: "" }),
    now: () => 0,
    monotonic: () => 0,
  };
}

const SAMPLES = {
  ps: sampleText("crictl-ps.json"),
  inspect: sampleText("crictl-inspect.json"),
  inspectp: sampleText("crictl-inspectp-pod-network.json"),
  inspectpHost: sampleText("crictl-inspectp-host-network.json"),
};

function ask(kind: "ps" | "inspect" | "inspectp", stdout: string): Promise<"value" | "error"> {
  const c = new Crictl(printing(stdout), { command: "crictl", timeoutMs: 1000 });
  const call = kind === "ps"
    ? () => c.ps()
    : kind === "inspect"
    ? () => c.inspect("id")
    : () => c.inspectp("id");
  return outcomeAsync(call, CrictlError);
}

Deno.test("fuzz: arbitrary and edited crictl output gives parsed output or a CrictlError", async () => {
  for (const k of ["ps", "inspect", "inspectp"] as const) {
    assert.equal(await ask(k, SAMPLES[k]), "value", k);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), (s) => ask(k, s).then(() => {})),
      fuzzRuns(100),
    );
  }
  for (
    const [k, sample] of [
      ["ps", SAMPLES.ps],
      ["inspect", SAMPLES.inspect],
      ["inspectp", SAMPLES.inspectp],
      ["inspectp", SAMPLES.inspectpHost],
    ] as const
  ) {
    await fc.assert(
      fc.asyncProperty(mutatedText(sample), (s) => ask(k, s).then(() => {})),
      fuzzRuns(200),
    );
    await fc.assert(
      fc.asyncProperty(mutatedJson(sample), (s) => ask(k, s).then(() => {})),
      fuzzRuns(300),
    );
  }
});

Deno.test("crictl ps parsing time grows about linearly with the containers listed", async () => {
  const one = (JSON.parse(SAMPLES.ps) as { containers: unknown[] }).containers[1];
  await assertNearLinear(
    "crictl ps",
    (n) => JSON.stringify({ containers: Array.from({ length: n }, () => one) }),
    (s) => new Crictl(printing(s), { command: "crictl", timeoutMs: 1000 }).ps(),
    { n: 300 },
  );
});
