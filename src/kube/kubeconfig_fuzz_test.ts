/** Property tests: a kubeconfig from the node gives a spec or a KubeconfigError, in linear time. */

import fc from "fast-check";
import assert from "node:assert/strict";
import { KubeconfigError, parseKubeconfig } from "./kubeconfig.ts";
import { assertNearLinear, fuzzRuns, mutatedText, outcome } from "../../tests/harness/fuzz.ts";
import { sampleText } from "../../tests/testdata/samples.ts";

const REAL = sampleText("kubelet-kubeconfig.yaml");
const parse = (text: string) =>
  outcome(() => parseKubeconfig(text, { path: "/var/lib/kubelet/kubeconfig" }), KubeconfigError);

Deno.test("fuzz: arbitrary and edited kubeconfigs give a spec or a KubeconfigError", () => {
  assert.equal(parse(REAL), "value");
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => void parse(s)), fuzzRuns());
  fc.assert(fc.property(mutatedText(REAL), (s) => void parse(s)), fuzzRuns(500));
  // Line-wise edits keep the YAML shape: values of the wrong kind, lines dropped or repeated.
  const lines = REAL.split("\n");
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          at: fc.nat(lines.length - 1),
          op: fc.constantFrom("drop", "dup", "value"),
          v: fc.oneof(fc.string(), fc.jsonValue().map((j) => JSON.stringify(j))),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      (edits) => {
        const out = [...lines];
        for (const e of edits) {
          const at = e.at % Math.max(1, out.length);
          if (e.op === "drop") out.splice(at, 1);
          else if (e.op === "dup") out.splice(at, 0, out[at] ?? "");
          else out[at] = (out[at] ?? "").replace(/:.*$/, `: ${e.v}`);
        }
        parse(out.join("\n"));
      },
    ),
    fuzzRuns(500),
  );
});

Deno.test("an alias bomb and deep nesting are refused or parsed in about linear time", async () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 12; i++) {
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} ` +
        `[${Array(10).fill("*" + String.fromCharCode(96 + i)).join(", ")}]`,
    );
  }
  assert.equal(parse(bomb.join("\n")), "error");
  await assertNearLinear(
    "parseKubeconfig, deep flow nesting",
    (n) => "x: " + "[".repeat(n) + "]".repeat(n),
    (s) => parseKubeconfig(s, { path: "k" }),
    { n: 200 },
  );
  await assertNearLinear(
    "parseKubeconfig, many users",
    (n) => REAL + "\n" + Array.from({ length: n }, (_, i) => `x${i}: ${i}`).join("\n"),
    (s) => parseKubeconfig(s, { path: "k" }),
    { n: 500 },
  );
});
