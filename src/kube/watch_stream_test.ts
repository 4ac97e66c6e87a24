import assert from "node:assert/strict";
import { lines, parseWatchEvent, WatchParseError } from "./watch_stream.ts";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => enc.encode(c)));
}

async function collect(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines(streamOf(chunks))) out.push(l);
  return out;
}

const pod = (uid: string, extra = "") =>
  `{"metadata":{"uid":"${uid}","name":"p-${uid}","namespace":"ns","resourceVersion":"5"${extra}}}`;

Deno.test("lines joins chunks split inside a line and splits chunks holding several", async () => {
  const a = `{"type":"ADDED","object":${pod("a")}}`;
  const b = `{"type":"DELETED","object":${pod("b")}}`;
  const text = `${a}\n${b}\n`;
  for (let cut = 1; cut < text.length; cut += 7) {
    assert.deepEqual(await collect([text.slice(0, cut), text.slice(cut)]), [a, b], `cut ${cut}`);
  }
  assert.deepEqual(await collect([a + "\r\n\n", b]), [a, b], "CRLF, blank lines, no final newline");
});

Deno.test("lines keeps multi-byte characters split across chunks", async () => {
  const bytes = new TextEncoder().encode('{"x":"é"}\n');
  const body = ReadableStream.from([bytes.slice(0, 7), bytes.slice(7)]);
  const out: string[] = [];
  for await (const l of lines(body)) out.push(l);
  assert.deepEqual(out, ['{"x":"é"}']);
});

Deno.test("lines refuses a line past the limit", async () => {
  await assert.rejects(async () => {
    for await (const _ of lines(streamOf(["x".repeat(50)]), { maxLine: 10 })) { /* drain */ }
  }, /longer than 10 bytes/);
});

Deno.test("parseWatchEvent reads pod events, bookmarks and 410 errors", () => {
  const m = parseWatchEvent(
    `{"type":"MODIFIED","object":${pod("u1", ',"deletionTimestamp":"2026-11-22T10:00:00Z"')}}`,
  );
  assert.equal(m.type, "MODIFIED");
  if (m.type === "MODIFIED") {
    assert.equal(m.object.metadata.uid, "u1");
    assert.equal(m.object.metadata.deletionTimestamp, "2026-11-22T10:00:00Z");
  }
  const bm = parseWatchEvent('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"77"}}}');
  assert.ok(bm.type === "BOOKMARK" && bm.object.metadata.resourceVersion === "77");
  const err = parseWatchEvent(
    '{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}',
  );
  assert.ok(err.type === "ERROR" && err.object.code === 410);
});

Deno.test("parseWatchEvent names what is wrong", () => {
  assert.throws(() => parseWatchEvent("{nope"), WatchParseError);
  assert.throws(
    () => parseWatchEvent('{"type":"ADDED","object":{"metadata":{"name":"x","namespace":"n"}}}'),
    /object\.metadata\.uid/,
  );
  assert.throws(() => parseWatchEvent('{"type":"WHAT","object":{}}'), /bad watch event/);
});
