import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { Base64Decoder, Base64Error } from "./base64_stream.ts";

Deno.test("fields small and large (past the plain buffer) decode the same in any pieces", () => {
  for (const size of [0, 1, 5, 4096, 65535, 65536, 65537, 300_000]) {
    const data = new Uint8Array(size).map((_, i) => (i * 7919) % 251);
    const text = new TextEncoder().encode(data.toBase64());
    const d = new Base64Decoder(size + 10);
    for (let at = 0, step = 1; at < text.length; at += step, step = step * 3 + 1 & 0xffff) {
      d.push(text.subarray(at, at + step));
    }
    const out = d.finish();
    assertEquals([out.length, out.buffer.byteLength], [size, size], `size ${size}`);
    assertEquals(out, data, `size ${size}`);
  }
});

Deno.test("the decoded size limit holds past the plain buffer", () => {
  const d = new Base64Decoder(100_000);
  const text = new TextEncoder().encode(new Uint8Array(120_000).toBase64());
  throws(() => d.push(text), Base64Error);
});
