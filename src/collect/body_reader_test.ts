import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { BodyError, CoverageBodyReader, type CoverageFields } from "./body_reader.ts";
import { Base64Decoder } from "./base64_stream.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function readAll(text: string, chunk = Infinity): CoverageFields {
  const r = new CoverageBodyReader();
  const bytes = enc(text);
  for (let i = 0; i < bytes.length; i += chunk) {
    r.push(bytes.subarray(i, Math.min(bytes.length, i + chunk)));
  }
  return r.finish();
}

function kindOf(text: string): string {
  try {
    readAll(text);
  } catch (e) {
    if (e instanceof BodyError) return e.kind;
    throw e;
  }
  return "no error";
}

const META = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
const COUNTERS = new Uint8Array(61).map((_, i) => (i * 13) & 0xff);
const BODY = JSON.stringify({
  meta_filename: "covmeta.abc",
  meta_data: META.toBase64(),
  counters_filename: "covcounters.abc.1.2",
  counters_data: COUNTERS.toBase64(),
  timestamp: 1732270000123456800,
});

Deno.test("a body split at every byte gives the same fields as the body whole", () => {
  const whole = readAll(BODY);
  assertEquals(whole.meta_data, META);
  assertEquals(whole.counters_data, COUNTERS);
  assertEquals(whole.meta_filename, "covmeta.abc");
  assertEquals(whole.timestamp, 1732270000123456800);
  for (const size of [1, 2, 3, 5, 7, 64]) assertEquals(readAll(BODY, size), whole, `chunk ${size}`);
});

Deno.test("escapes, white space in base64, unknown fields of any shape are read as JSON says", () => {
  const b64 = COUNTERS.toBase64();
  const body = `{ "extra": {"a": [1, "}\\"]", {"b": null}]}, "n": -1.5e3, "t": true,\n` +
    `"counters_filename": "covcounters.\\u0061bc.1.2", "counters_data": "${b64.slice(0, 10)}\\n` +
    `${b64.slice(10, 20)} \\u00${b64.charCodeAt(20).toString(16)}${b64.slice(21)}",` +
    `"timestamp": "1732270000123456789", "meta_data": "" }  \n`;
  const f = readAll(body, 3);
  assertEquals(f.counters_filename, "covcounters.abc.1.2");
  assertEquals(f.counters_data, COUNTERS);
  assertEquals(f.meta_data.byteLength, 0);
  assertEquals(f.timestamp, "1732270000123456789");
});

Deno.test("what is not the /coverage JSON is refused as json", () => {
  for (
    const bad of [
      "<html>",
      "[]",
      '"text"',
      "{}",
      `{"counters_filename": "x"}`,
      `{"counters_filename": 1, "counters_data": ""}`,
      `{"counters_filename": "a", "counters_data": "", "counters_data": ""}`,
      `{"counters_filename": "a", "counters_data": "",}`,
      `{"counters_filename": "a", "counters_data": ""} x`,
      `{"counters_filename": "a", "counters_data": ""`,
      `{"counters_filename": "a\u0001", "counters_data": ""}`,
      `{"counters_filename": "a", "counters_data": "", "timestamp": tru}`,
      `{"counters_filename": "a", "counters_data": "", "timestamp": [1]}`,
      `{"counters_filename": "${"x".repeat(5000)}", "counters_data": ""}`,
    ]
  ) assertEquals(kindOf(bad), "json", bad.slice(0, 80));
});

Deno.test("bad base64 is refused as base64, naming the field", () => {
  for (const bad of ["AAE", "AA=A", "AA==AAAA", "AB==", "A-_A", "AA==\\u0041"]) {
    const body = `{"counters_filename": "a", "counters_data": "${bad}"}`;
    assertEquals(kindOf(body), "base64", bad);
  }
  assertThrows(
    () => readAll(`{"counters_filename": "a", "counters_data": "AAE"}`),
    /counters_data is not valid base64/,
  );
});

Deno.test("the base64 decoder joins pieces cut anywhere", () => {
  const data = new Uint8Array(1000).map((_, i) => i & 0xff);
  const text = data.toBase64();
  for (const cut of [1, 2, 3, 4, 5, 333]) {
    const d = new Base64Decoder();
    for (let i = 0; i < text.length; i += cut) d.push(enc(text.slice(i, i + cut)));
    assertEquals(d.finish(), data);
  }
});

Deno.test("a 16 MiB body fed in 64 KiB chunks decodes whole, last byte included", () => {
  const size = 16 << 20;
  const data = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  const text = data.toBase64();
  const head = enc(`{"counters_filename": "a", "counters_data": "`);
  const tail = enc(`"}`);
  const r = new CoverageBodyReader();
  r.push(head);
  // chunks as fetch gives them; the text itself is the test's, not the reader's
  for (let i = 0; i < text.length; i += 65536) r.push(enc(text.slice(i, i + 65536)));
  r.push(tail);
  const out = r.finish().counters_data;
  assertEquals(out.byteLength, size);
  assertEquals(out[size - 1], ((size - 1) * 31) & 0xff);
});
