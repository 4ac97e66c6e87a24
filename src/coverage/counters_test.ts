import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { CountersParseError, coveredSet, coversMore, parseCounters } from "./counters.ts";
import { encodeCounterFile } from "../../tests/harness/counterfile.ts";
import { kindOf } from "../../tests/harness/fuzz.ts";

const HASH = "00112233445566778899aabbccddeeff";
const FUNCS = [
  { pkgIdx: 0, funcIdx: 0, counters: [1, 0, 300] },
  { pkgIdx: 2, funcIdx: 7, counters: [0xffffffff, 128, 0] },
  { pkgIdx: 1, funcIdx: 3, counters: [] },
];

const kind = (bytes: Uint8Array) => kindOf(() => parseCounters(bytes), CountersParseError);

Deno.test("parseCounters decodes ULEB128 and raw (little- and big-endian) files alike", () => {
  for (
    const [flavor, bigEndian] of [[2, false], [1, false], [1, true]] as const
  ) {
    const bytes = encodeCounterFile({ hash: HASH, flavor, bigEndian, functions: FUNCS });
    assertEquals(parseCounters(bytes), { flavor, segments: 1, functions: FUNCS });
  }
});

Deno.test("parseCounters honours string-table and args lengths and the 4-byte padding", () => {
  // Args of several lengths move the padding through every remainder.
  for (const argv0 of ["a", "ab", "abc", "abcd", "x".repeat(200)]) {
    const bytes = encodeCounterFile({
      hash: HASH,
      segments: [{ args: { argc: "1", argv0, GOOS: "linux" }, functions: FUNCS }],
    });
    assertEquals(parseCounters(bytes).functions, FUNCS, argv0);
  }
});

Deno.test("parseCounters reads every segment (footer between segments)", () => {
  const second = [{ pkgIdx: 0, funcIdx: 1, counters: [5] }];
  const bytes = encodeCounterFile({
    hash: HASH,
    segments: [{ functions: FUNCS }, { args: {}, functions: second }],
  });
  const p = parseCounters(bytes);
  assertEquals([p.segments, p.functions], [2, [...FUNCS, ...second]]);
});

Deno.test("an empty segment (no functions) parses", () => {
  assertEquals(parseCounters(encodeCounterFile({ hash: HASH, functions: [] })).functions, []);
});

Deno.test("malformed counter data throws CountersParseError with its kind", () => {
  const good = encodeCounterFile({ hash: HASH, functions: FUNCS });
  const edit = (f: (b: Uint8Array, v: DataView) => void) => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const footer = good.length - 16;
  assertEquals(kind(good.subarray(0, 40)), "truncated");
  assertEquals(kind(edit((b) => b[1] = 0x64)), "magic");
  assertEquals(kind(edit((_, v) => v.setUint32(4, 2, true))), "version");
  assertEquals(kind(edit((b) => b[24] = 3)), "flavor");
  assertEquals(kind(edit((b) => b[footer] = 1)), "magic");
  assertEquals(kind(edit((_, v) => v.setUint32(footer + 8, 0, true))), "segments");
  assertEquals(kind(edit((_, v) => v.setUint32(footer + 8, 2, true))), "truncated");
  // More functions than the bytes hold; fewer functions leave bytes before the footer.
  assertEquals(kind(edit((_, v) => v.setBigUint64(32, 1n << 40n, true))), "truncated");
  assertEquals(kind(edit((_, v) => v.setBigUint64(32, 4n, true))), "truncated");
  assertEquals(kind(edit((_, v) => v.setBigUint64(32, 2n, true))), "segments");
  assertEquals(kind(edit((_, v) => v.setUint32(40, 0xffff, true))), "truncated");
  assertEquals(kind(edit((_, v) => v.setUint32(40, 1, true))), "strtab");
  // Cut inside the function entries, with a footer glued on.
  const cut = new Uint8Array([...good.subarray(0, footer - 3), ...good.subarray(footer)]);
  assertEquals(kind(cut), "truncated");
  // A ULEB128 value longer than 5 bytes.
  const long = encodeCounterFile({
    hash: HASH,
    functions: [{ pkgIdx: 0, funcIdx: 0, counters: [] }],
  });
  const at = long.length - 16 - 3;
  const bad = new Uint8Array([
    ...long.subarray(0, at),
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x00,
    ...long.subarray(at + 1),
  ]);
  assertEquals(kind(bad), "value");
  const e = (() => {
    try {
      parseCounters(edit((b) => b[24] = 9));
    } catch (e) {
      return e;
    }
  })();
  ok(e instanceof CountersParseError && /flavor 9.*at byte 24/.test(e.message), String(e));
});

Deno.test("coveredSet keeps nonzero counters; coversMore sees only new keys", () => {
  const set = coveredSet({ flavor: 2, segments: 1, functions: FUNCS });
  assertEquals([...set].sort(), ["0:0:0", "0:0:2", "2:7:0", "2:7:1"]);
  const more = coveredSet({
    flavor: 2,
    segments: 1,
    functions: [{ pkgIdx: 0, funcIdx: 0, counters: [9, 0, 9] }],
  });
  assertEquals(coversMore(more, set), false);
  assertEquals(coversMore(set, more), true);
  assertEquals(coversMore(new Set(["1:3:0"]), set), true);
});
