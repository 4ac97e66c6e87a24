/** Property tests: a registry auth file gives credentials, none, or a CredentialsError. */

import fc from "fast-check";
import assert from "node:assert/strict";
import { CredentialsError, parseAuthFile, parseCoverageAuth } from "./registry_auth.ts";
import {
  assertNearLinear,
  fuzzRuns,
  mutatedBytes,
  mutatedJson,
  mutatedText,
  outcome,
} from "../../tests/harness/fuzz.ts";
import { sampleText } from "../../tests/testdata/samples.ts";

const REAL = sampleText("registry-config.json");
const FILE = "/var/lib/kubelet/config.json";
const ENTRY = "cluster-code-coverage.openshift.io";
const parse = (s: string) => void outcome(() => parseAuthFile(s, FILE), CredentialsError);

Deno.test("fuzz: arbitrary and edited auth files give credentials, none, or a CredentialsError", () => {
  assert.equal(parseAuthFile(REAL, FILE)?.region, "us-east-1");
  fc.assert(fc.property(fc.string({ maxLength: 300 }), parse), fuzzRuns());
  fc.assert(fc.property(mutatedText(REAL), parse), fuzzRuns(500));
  fc.assert(fc.property(mutatedJson(REAL), parse), fuzzRuns(500));
});

Deno.test("fuzz: the coverage entry's double base64, edited, gives credentials or an error", () => {
  const auth = (JSON.parse(REAL) as { auths: Record<string, { auth: string }> }).auths[ENTRY].auth;
  const inner = atob(auth).slice("coverage:".length);
  const json = atob(inner);
  const one = (a: string) =>
    void outcome(() => parseCoverageAuth(a, FILE, ENTRY), CredentialsError);
  fc.assert(fc.property(mutatedText(auth), one), fuzzRuns(300));
  const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
  const innerBytes = new TextEncoder().encode(inner);
  fc.assert(
    fc.property(mutatedBytes(innerBytes).map((i) => btoa("coverage:" + latin1(i))), one),
    fuzzRuns(300),
  );
  fc.assert(
    fc.property(mutatedJson(json), (j) => {
      let b: string;
      try {
        b = btoa(j);
      } catch {
        return; // not Latin-1: cannot be in base64 as written by clusters
      }
      one(btoa("coverage:" + b));
    }),
    fuzzRuns(300),
  );
});

Deno.test("auth file parsing time grows about linearly", async () => {
  const parsed = JSON.parse(REAL) as { auths: Record<string, unknown> };
  await assertNearLinear(
    "parseAuthFile, many registries",
    (n) => {
      const auths: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) auths[`registry-${i}.example`] = { auth: "dTpw" };
      return JSON.stringify({ auths: { ...auths, ...parsed.auths } });
    },
    (s) => parseAuthFile(s, FILE),
    { n: 2_000 },
  );
  await assertNearLinear(
    "parseCoverageAuth, a long auth",
    (n) => "A".repeat(n * 4),
    (a) => parseCoverageAuth(a, FILE, ENTRY),
    { n: 50_000 },
  );
});
