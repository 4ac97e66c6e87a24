import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { type ByteFaultKind, ByteReader, readStrings } from "./byte_reader.ts";

class Fault extends Error {
  constructor(readonly kind: ByteFaultKind, readonly offset: number, message: string) {
    super(message);
  }
}
const reader = (bytes: number[], start = 0, end = bytes.length) =>
  new ByteReader(Uint8Array.from(bytes), start, end, (k, at, m) => new Fault(k, at, m));
const fault = (kind: ByteFaultKind, offset: number, message?: RegExp) => (e: unknown) =>
  e instanceof Fault && e.kind === kind && e.offset === offset &&
  (message === undefined || message.test(e.message));

Deno.test("ByteReader reads u32 in both byte orders and ULEB128 up to 32 bits", () => {
  const r = reader([1, 0, 0, 0, 0, 0, 0, 2, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  assertEquals([r.u32("a"), r.u32("b", true), r.uleb("c"), r.uleb("d")], [1, 2, 300, 0xffffffff]);
  assertEquals(r.pos, r.end);
});

Deno.test("ByteReader throws the caller's error: truncated, too long, past 32 bits", () => {
  throws(() => reader([1, 2, 3]).u32("x"), fault("truncated", 0, /^x needs 4 bytes, 3 left$/));
  // The end bounds the reader, not the array.
  throws(() => reader([0x80, 0x80, 1], 0, 2).uleb("y"), fault("truncated", 2, /^y needs 1/));
  throws(
    () => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0]).uleb("z"),
    fault("value", 5, /^z is a ULEB128 longer than 5 bytes$/),
  );
  throws(
    () => reader([0xff, 0xff, 0xff, 0xff, 0x10]).uleb(() => "w"),
    fault("value", 4, /^w does not fit in 32 bits$/),
  );
  throws(() => reader([]).need(-1, "n"), fault("truncated", 0));
});

Deno.test("sub gives a bounded reader with its own error maker", () => {
  const r = reader([9, 0x80, 0x80, 7]);
  r.pos = 1;
  const sub = r.sub(2, "table", (_, at, m) => new Fault("strtab", at, m));
  throws(() => sub.uleb("v"), fault("strtab", 3));
  throws(() => r.sub(4, "table"), fault("truncated", 1, /^table needs 4 bytes, 3 left$/));
});

Deno.test("readStrings decodes a table, walks it without keeping, and rejects a lying count", () => {
  const table = [3, 1, 0x61, 0, 2, 0xc3, 0xa9];
  const r = reader(table);
  assertEquals(readStrings(r, "t"), ["a", "", "é"]);
  assertEquals(r.pos, table.length);
  const walk = reader(table);
  assertEquals(readStrings(walk, "t", false), []);
  assertEquals(walk.pos, table.length);
  throws(() => readStrings(reader([9, 1, 0x61]), "t"), fault("strtab", 1, /^t says 9 strings/));
  throws(
    () => readStrings(reader([2, 1, 0x61, 5, 0]), "t"),
    fault("truncated", 4, /^t string 1 needs 5/),
  );
});
