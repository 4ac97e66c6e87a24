/**
 * Fuzz: meta-data files whose package and function offsets are pointed at each other's bytes
 * (the shape that made an 18 KB file decode as GBs). Whatever the offsets say, a decode that
 * returns or refuses has done work linear in the bytes: every unit costs at least 5 bytes of its
 * own, every function at least 4 (its offset) more.
 */

import { ok } from "node:assert/strict";
import fc from "fast-check";
import { MetaParseError, type MetaWork, type ParsedMeta, parseMeta } from "./meta.ts";
import { encodeMetaFile, overlappingMeta } from "../../tests/harness/metafile.ts";
import { fuzzRuns } from "../../tests/harness/fuzz.ts";

const rec = <T>(r: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(r, { noNullPrototype: true });
const unit = rec({
  stLine: fc.nat(1000),
  stCol: fc.nat(200),
  enLine: fc.nat(1000),
  enCol: fc.nat(200),
  stmts: fc.nat(50),
});
const meta: fc.Arbitrary<ParsedMeta> = rec({
  hash: fc.constant(""),
  mode: fc.constantFrom("set", "count", "atomic"),
  granularity: fc.constantFrom(1, 2),
  packages: fc.array(
    rec({
      path: fc.string({ maxLength: 8 }),
      name: fc.string({ maxLength: 8 }),
      modulePath: fc.string({ maxLength: 8 }),
      functions: fc.array(
        rec({
          name: fc.string({ maxLength: 8 }),
          file: fc.string({ maxLength: 8 }),
          literal: fc.boolean(),
          units: fc.array(unit, { maxLength: 40 }),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

/** Decodes, returning the work done whether it returned or refused (MetaParseError only). */
function workOf(bytes: Uint8Array): MetaWork {
  const work: MetaWork = { functions: 0, units: 0 };
  try {
    parseMeta(bytes, work);
  } catch (e) {
    if (!(e instanceof MetaParseError)) throw e;
  }
  return work;
}

const linear = (bytes: Uint8Array, work: MetaWork) =>
  5 * work.units + 4 * work.functions <= bytes.length;

Deno.test("fuzz: function offsets pointed at other functions cost work linear in the bytes", () => {
  fc.assert(
    fc.property(
      meta,
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 12 }),
      (m, edits) => {
        const b = encodeMetaFile(m);
        const v = new DataView(b.buffer);
        const n = m.packages.length;
        for (const [p, to, from] of edits) {
          const pkg = Number(v.getBigUint64(56 + 8 * (p % n), true));
          const funcs = v.getUint32(pkg + 40, true);
          // Function `to` takes the offset of function `from` (earlier, later or itself).
          const src = v.getUint32(pkg + 44 + 4 * (from % funcs), true);
          v.setUint32(pkg + 44 + 4 * (to % funcs), src, true);
        }
        const work = workOf(b);
        ok(linear(b, work), `${JSON.stringify(work)} from ${b.length} bytes`);
      },
    ),
    fuzzRuns(300),
  );
});

Deno.test("fuzz: package slots pointed at other slots cost work linear in the bytes", () => {
  fc.assert(
    fc.property(
      meta,
      fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }),
      (m, edits) => {
        const b = encodeMetaFile(m);
        const v = new DataView(b.buffer);
        const n = m.packages.length;
        for (const [to, from] of edits) {
          // Package `to` takes the slot (offset and length) of package `from`.
          v.setBigUint64(56 + 8 * (to % n), v.getBigUint64(56 + 8 * (from % n), true), true);
          v.setBigUint64(
            56 + 8 * (n + to % n),
            v.getBigUint64(56 + 8 * (n + from % n), true),
            true,
          );
        }
        const work = workOf(b);
        ok(linear(b, work), `${JSON.stringify(work)} from ${b.length} bytes`);
      },
    ),
    fuzzRuns(300),
  );
});

Deno.test("fuzz: F offsets into one K-unit function cost K units, not F×K", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 200 }), fc.integer({ min: 1, max: 200 }), (f, k) => {
      const b = overlappingMeta(f, k);
      const work = workOf(b);
      ok(linear(b, work) && work.units === k, `${JSON.stringify(work)} from ${b.length} bytes`);
    }),
    fuzzRuns(40),
  );
});
