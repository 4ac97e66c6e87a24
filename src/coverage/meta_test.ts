import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import fc from "fast-check";
import {
  MetaParseError,
  type MetaWork,
  type ParsedMeta,
  parseMeta,
  parseMetaAsync,
} from "./meta.ts";
import { encodeMetaFile, overlappingMeta, withRealHash } from "../../tests/harness/metafile.ts";
import { kindOf } from "../../tests/harness/fuzz.ts";

const META: ParsedMeta = {
  hash: "00112233445566778899aabbccddeeff",
  mode: "atomic",
  granularity: 1,
  packages: [
    {
      path: "example.test/app",
      name: "main",
      modulePath: "example.test",
      functions: [
        {
          name: "main",
          file: "example.test/app/main.go",
          literal: false,
          units: [
            { stLine: 5, stCol: 13, enLine: 7, enCol: 2, stmts: 2 },
            { stLine: 300, stCol: 1, enLine: 301, enCol: 200, stmts: 129 },
          ],
        },
        { name: "main.func1", file: "example.test/app/main.go", literal: true, units: [] },
      ],
    },
    { path: "example.test/app/ü", name: "ü", modulePath: "example.test", functions: [] },
  ],
};

const kind = (bytes: Uint8Array) => kindOf(() => parseMeta(bytes), MetaParseError);

Deno.test("parseMeta decodes packages, functions and units (literals, non-ASCII, big ULEB128)", () => {
  assertEquals(parseMeta(encodeMetaFile(META)), withRealHash(META));
  for (const mode of ["set", "count"] as const) {
    assertEquals(parseMeta(encodeMetaFile({ ...META, mode })).mode, mode);
  }
});

Deno.test("malformed meta-data throws MetaParseError with its kind and byte", () => {
  const good = encodeMetaFile(META);
  const edit = (f: (b: Uint8Array, v: DataView) => void) => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  assertEquals(kind(good.subarray(0, 40)), "truncated");
  assertEquals(kind(edit((b) => b[2] = 0x77)), "magic");
  assertEquals(kind(edit((_, v) => v.setUint32(4, 2, true))), "version");
  assertEquals(kind(edit((b) => b[48] = 4)), "mode");
  assertEquals(
    kind(edit((_, v) => v.setBigUint64(8, BigInt(good.length + 1), true))),
    "truncated",
  );
  assertEquals(kind(edit((_, v) => v.setBigUint64(16, 1n << 40n, true))), "package");
  // Package 0's offset past the end, and its length past the end.
  assertEquals(kind(edit((_, v) => v.setBigUint64(56, 1n << 33n, true))), "package");
  assertEquals(kind(edit((_, v) => v.setBigUint64(72, 1n << 33n, true))), "package");
  const pkg0 = Number(new DataView(good.buffer).getBigUint64(56, true));
  // Too many functions, a string index past the table, a function offset inside the header.
  assertEquals(kind(edit((_, v) => v.setUint32(pkg0 + 40, 1 << 20, true))), "package");
  assertEquals(kind(edit((_, v) => v.setUint32(pkg0 + 8, 99, true))), "strtab");
  assertEquals(kind(edit((_, v) => v.setUint32(pkg0 + 44, 3, true))), "function");
  const e = (() => {
    try {
      parseMeta(edit((b) => b[48] = 9));
    } catch (e) {
      return e;
    }
  })();
  ok(e instanceof MetaParseError && /counter mode 9.*at byte 48/.test(e.message), String(e));
});

Deno.test("function offsets into one function are refused after decoding it once", () => {
  // 300 offsets into one function of 300 units: 90,000 units if believed, from 2 KB.
  const bytes = overlappingMeta(300, 300);
  const work: MetaWork = { functions: 0, units: 0 };
  assertEquals(kindOf(() => parseMeta(bytes, work), MetaParseError), "function");
  assertEquals(work, { functions: 1, units: 300 });
  ok(5 * work.units <= bytes.length);
});

Deno.test("package slots that overlap or go backwards are refused", () => {
  const two = { ...META, packages: [META.packages[0], META.packages[0]] };
  const good = encodeMetaFile(two);
  const v = (b: Uint8Array) => new DataView(b.buffer);
  const first = v(good).getBigUint64(56, true);
  // Package 1 in package 0's slot: the same bytes twice.
  const same = good.slice();
  v(same).setBigUint64(64, first, true);
  assertEquals(kind(same), "package");
  // A slot inside the offset tables.
  const early = good.slice();
  v(early).setBigUint64(56, 60n, true);
  assertEquals(kind(early), "package");
  assertEquals(parseMeta(good).packages.length, 2);
});

Deno.test("hashes are computed: a claimed MetaFileHash or MetaHash the contents do not give is refused", () => {
  const real = withRealHash(META);
  // What `go build -cover` of the fixture writes (its real file's name, computed here).
  ok(/^[0-9a-f]{32}$/.test(real.hash));
  const forged = encodeMetaFile(META, { claim: "00112233445566778899aabbccddeeff" });
  const e = (() => {
    try {
      parseMeta(forged);
    } catch (e) {
      return e;
    }
  })();
  ok(e instanceof MetaParseError && e.kind === "hash" && e.offset === 24, String(e));
  ok(e.message.includes(real.hash), e.message);
  // One unit's statement count changed: package 0's MetaHash no longer matches.
  const edited = encodeMetaFile({
    ...META,
    packages: [{
      ...META.packages[0],
      functions: [{
        ...META.packages[0].functions[0],
        units: [
          { ...META.packages[0].functions[0].units[0], stmts: 3 },
          META.packages[0].functions[0].units[1],
        ],
      }, META.packages[0].functions[1]],
    }, META.packages[1]],
  });
  const good = encodeMetaFile(META);
  const pkg0 = Number(new DataView(good.buffer).getBigUint64(56, true));
  edited.set(good.subarray(pkg0 + 16, pkg0 + 32), pkg0 + 16);
  assertEquals(kind(edited), "hash");
  const g = good.slice();
  g[49] = 3;
  assertEquals(kind(g), "mode");
});

Deno.test("parseMetaAsync gives what parseMeta gives, and stops when its signal aborts", async () => {
  const bytes = encodeMetaFile(META);
  assertEquals(await parseMetaAsync(bytes, { budgetMs: 0 }), parseMeta(bytes));
  const ac = new AbortController();
  ac.abort(new Error("stop"));
  const e = await parseMetaAsync(bytes, { signal: ac.signal }).catch((e) => e);
  ok(e instanceof Error && e.message === "stop", String(e));
});

const rec = <T>(r: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(r, { noNullPrototype: true });
const unit = rec({
  stLine: fc.nat(),
  stCol: fc.nat(),
  enLine: fc.nat(),
  enCol: fc.nat(),
  stmts: fc.nat(),
});
const meta: fc.Arbitrary<ParsedMeta> = rec({
  hash: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) =>
    Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
  ),
  mode: fc.constantFrom("set", "count", "atomic"),
  granularity: fc.constantFrom(1, 2),
  packages: fc.array(
    rec({
      path: fc.string({ unit: "grapheme" }),
      name: fc.string({ unit: "grapheme" }),
      modulePath: fc.string({ unit: "grapheme" }),
      functions: fc.array(
        rec({
          name: fc.string({ unit: "grapheme" }),
          file: fc.string({ unit: "grapheme" }),
          literal: fc.boolean(),
          units: fc.array(unit, { maxLength: 6 }),
        }),
        { maxLength: 5 },
      ),
    }),
    { maxLength: 4 },
  ),
});

Deno.test("fuzz: any meta-data file round-trips through parseMeta", () => {
  fc.assert(
    fc.property(meta, (m) => {
      assertEquals(parseMeta(encodeMetaFile(m)), withRealHash(m));
    }),
    { numRuns: 300 },
  );
});

Deno.test("fuzz: random bytes and damaged files never throw anything but MetaParseError", () => {
  const check = (bytes: Uint8Array) => {
    try {
      parseMeta(bytes);
    } catch (e) {
      if (!(e instanceof MetaParseError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { numRuns: 500 });
  // Valid files with bytes flipped, cut short, or with a field set to an extreme value.
  fc.assert(
    fc.property(
      meta,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      (m, flips, cut) => {
        const b = encodeMetaFile(m);
        for (const [at, v] of flips) b[at % b.length] = v;
        check(b);
        check(b.subarray(0, cut % (b.length + 1)));
      },
    ),
    { numRuns: 500 },
  );
});
