/**
 * Property tests: the API server's watch stream (a peer's bytes) gives events or a typed error,
 * however it is split, in about linear time.
 */

import fc from "fast-check";
import assert from "node:assert/strict";
import { lines, parseWatchEvent, WatchParseError } from "./watch_stream.ts";
import {
  assertNearLinear,
  fuzzRuns,
  mutatedJson,
  mutatedText,
  outcome,
} from "../../tests/harness/fuzz.ts";

const EVENT = JSON.stringify({
  type: "ADDED",
  object: {
    kind: "Pod",
    metadata: {
      uid: "5f2b8a1e-0c1d-4a8e-9b6f-0123456789ab",
      name: "console-7d9f",
      namespace: "openshift-console",
      resourceVersion: "812345",
      deletionTimestamp: null,
    },
    spec: { nodeName: "worker-0" },
  },
});

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, maxLine?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines(body, { maxLine })) out.push(l);
  return out;
}

/** Splits bytes at the given cut points (sorted, deduplicated, in range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

Deno.test("fuzz: arbitrary and edited watch lines give an event or a WatchParseError", () => {
  assert.equal(parseWatchEvent(EVENT).type, "ADDED");
  const parse = (s: string) => void outcome(() => parseWatchEvent(s), WatchParseError);
  fc.assert(fc.property(fc.string({ maxLength: 300 }), parse), fuzzRuns());
  fc.assert(fc.property(fc.jsonValue().map((v) => JSON.stringify(v)), parse), fuzzRuns());
  fc.assert(fc.property(mutatedText(EVENT), parse), fuzzRuns(500));
  fc.assert(fc.property(mutatedJson(EVENT), parse), fuzzRuns(500));
});

Deno.test("fuzz: lines are the same however the stream is split into chunks", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.constant(EVENT), fc.string({ maxLength: 40 })), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      async (rows, cuts) => {
        const text = rows.map((r) => r.replaceAll("\n", " ")).join("\n");
        const bytes = new TextEncoder().encode(text);
        const want = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
        assert.deepEqual(await collect(streamOf(split(bytes, cuts))), want);
      },
    ),
    fuzzRuns(300),
  );
});

Deno.test("a long line in small chunks and many short lines cost about linear time", async () => {
  const enc = new TextEncoder();
  await assertNearLinear(
    "lines, one long line in 64-byte chunks",
    (n) => n,
    (n) => collect(streamOf(split(enc.encode("x".repeat(n) + "\n"), range(0, n, 64)))),
    { n: 20_000 },
  );
  await assertNearLinear(
    "lines, many short lines",
    (n) => n,
    (n) => collect(streamOf([enc.encode((EVENT + "\n").repeat(n / 100))])),
    { n: 50_000 },
  );
  await assertNearLinear(
    "parseWatchEvent, a long line",
    (n) => JSON.stringify({ type: "ADDED", object: { metadata: { uid: "x".repeat(n) } } }),
    (s) => parseWatchEvent(s),
    { n: 200_000 },
  );
});

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return out;
}
