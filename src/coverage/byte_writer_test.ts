import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ByteWriter, hexBytes } from "./byte_writer.ts";
import { ByteReader, readStrings } from "./byte_reader.ts";

Deno.test("ByteWriter writes what ByteReader reads back", () => {
  const values = [0, 1, 127, 128, 300, 2 ** 21, 0xffffffff];
  const w = new ByteWriter();
  for (const v of values) w.uleb(v);
  w.u32(0x01020304);
  w.u32(0x01020304, true);
  w.strings(["", "main", "é"]);
  const r = new ByteReader(w.toBytes(), 0, w.length, (_, __, m) => new Error(m));
  assertEquals(values.map(() => r.uleb("v")), values);
  assertEquals([r.u32("le"), r.u32("be", true)], [0x01020304, 0x01020304]);
  assertEquals(readStrings(r, "t"), ["", "main", "é"]);
  assertEquals(r.pos, w.length);
});

Deno.test("ByteWriter lays out u32, u64 and ULEB128 bytes as Go does", () => {
  const w = new ByteWriter();
  w.u32(0x01020304, true);
  w.u64(2 ** 32 + 5);
  w.uleb(300);
  w.push([7]);
  assertEquals(w.bytes, [1, 2, 3, 4, 5, 0, 0, 0, 1, 0, 0, 0, 0xac, 0x02, 7]);
  assertEquals(hexBytes("00ff10"), [0, 255, 16]);
});
