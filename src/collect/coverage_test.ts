import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { CoverageError, decodeCoverage, decodeMeta, toHex, verifyMeta } from "./coverage.ts";
import {
  b64,
  coverageBody,
  fakeBuild,
  makeCounters,
  makeMeta,
} from "../../tests/harness/covfiles.ts";
import { encodeMetaFile, overlappingMeta } from "../../tests/harness/metafile.ts";
import { StatementTables } from "../coverage/live.ts";

const HASH = fakeBuild("app").hash;
const OTHER = fakeBuild("other").hash;

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CoverageError) return e.kind;
    throw e;
  }
  return "no error";
}

Deno.test("the body may be given as text", () => {
  const text = JSON.stringify(coverageBody(makeMeta(HASH), makeCounters(HASH)));
  assertEquals(decodeCoverage(text, { expectMeta: true }).meta?.hash, HASH);
});

Deno.test("a full pull decodes meta and counters and computes the hash from the contents", () => {
  const d = decodeCoverage(coverageBody(makeMeta(HASH), makeCounters(HASH, 7), 42), {
    expectMeta: true,
  });
  assertEquals(d.meta?.hash, HASH);
  assertEquals(d.counters.metaHash, HASH);
  assertEquals(d.counters.pid, 42);
  assertEquals(d.counters.flavor, 2);
  assertEquals(d.counters.bytes, makeCounters(HASH, 7));
});

Deno.test("the server's own file name hash (bytes 16..32) is not used", () => {
  const body = coverageBody(makeMeta(HASH), makeCounters(HASH));
  const serverName = String(body.meta_filename).slice("covmeta.".length);
  const d = decodeCoverage(body, { expectMeta: true });
  assertEquals(serverName === d.meta?.hash, false);
});

Deno.test("a nometa pull is checked against the hash known from the first pull", () => {
  const ok = decodeCoverage(coverageBody(null, makeCounters(HASH)), {
    expectMeta: false,
    metaHash: HASH,
  });
  assertEquals(ok.meta, undefined);
  assertEquals(
    kindOf(() =>
      decodeCoverage(coverageBody(null, makeCounters(OTHER)), {
        expectMeta: false,
        metaHash: HASH,
      })
    ),
    "hash",
  );
});

Deno.test("counters of a foreign meta hash are rejected", () => {
  assertEquals(
    kindOf(() =>
      decodeCoverage(coverageBody(makeMeta(HASH), makeCounters(OTHER)), { expectMeta: true })
    ),
    "hash",
  );
});

Deno.test("a meta-data file of another hash than the first pull's is rejected", () => {
  assertEquals(
    kindOf(() =>
      decodeCoverage(coverageBody(makeMeta(OTHER), makeCounters(OTHER)), {
        expectMeta: true,
        metaHash: HASH,
      })
    ),
    "hash",
  );
});

Deno.test("truncated meta-data is rejected", () => {
  const meta = makeMeta(HASH);
  assertEquals(kindOf(() => decodeMeta(meta.subarray(0, 120))), "truncated");
  assertEquals(kindOf(() => decodeMeta(meta.subarray(0, 40))), "truncated");
  const body = coverageBody(meta, makeCounters(HASH));
  body.meta_data = b64(meta.subarray(0, meta.length - 1));
  assertEquals(kindOf(() => decodeCoverage(body, { expectMeta: true })), "truncated");
});

Deno.test("meta-data longer than its header says is rejected", () => {
  const meta = new Uint8Array([...makeMeta(HASH), 0, 0]);
  assertEquals(kindOf(() => decodeMeta(meta)), "size");
});

Deno.test("wrong magic numbers are rejected", () => {
  const meta = makeMeta(HASH);
  meta[3] = 0x6e;
  assertEquals(kindOf(() => decodeMeta(meta)), "magic");
  const counters = makeCounters(HASH);
  counters[1] = 0;
  assertEquals(
    kindOf(() => decodeCoverage(coverageBody(makeMeta(HASH), counters), { expectMeta: true })),
    "magic",
  );
});

Deno.test("bad base64 is rejected", () => {
  const body = coverageBody(makeMeta(HASH), makeCounters(HASH));
  body.counters_data = "AAEC*==";
  assertEquals(kindOf(() => decodeCoverage(body, { expectMeta: true })), "base64");
  body.counters_data = "AAE";
  assertEquals(kindOf(() => decodeCoverage(body, { expectMeta: true })), "base64");
});

Deno.test("JSON of another shape, or a full pull without meta, is rejected", () => {
  assertEquals(kindOf(() => decodeCoverage({ hello: 1 }, { expectMeta: false })), "json");
  assertEquals(kindOf(() => decodeCoverage("<html>", { expectMeta: false })), "json");
  assertEquals(kindOf(() => decodeCoverage('"text"', { expectMeta: false })), "json");
  assertEquals(kindOf(() => decodeCoverage("[]", { expectMeta: false })), "json");
  assertEquals(
    kindOf(() => decodeCoverage(coverageBody(null, makeCounters(HASH)), { expectMeta: true })),
    "json",
  );
});

Deno.test("a counters file name without a PID is rejected", () => {
  const body = coverageBody(makeMeta(HASH), makeCounters(HASH));
  body.counters_filename = "covcounters.abc.x.1";
  assertEquals(kindOf(() => decodeCoverage(body, { expectMeta: true })), "name");
});

Deno.test("an old server's `unknown` hash in names is fine: the hash comes from the bytes", () => {
  const body = coverageBody(null, makeCounters(HASH), 9);
  assertEquals(String(body.counters_filename).startsWith("covcounters.unknown.9."), true);
  assertEquals(decodeCoverage(body, { expectMeta: false }).counters.pid, 9);
});

Deno.test("a meta-data file claiming a hash its contents do not give is refused (kind hash)", async () => {
  // The 253-byte forgery: a small build's file whose header claims the real build's hash.
  const small = {
    hash: "",
    mode: "atomic" as const,
    granularity: 1,
    packages: [{
      path: "x",
      name: "main",
      modulePath: "x",
      functions: [{
        name: "main",
        file: "x/main.go",
        literal: false,
        units: [{ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 3 }],
      }],
    }],
  };
  const forged = encodeMetaFile(small, { claim: HASH });
  const body = coverageBody(forged, makeCounters(HASH));
  assertEquals(kindOf(() => decodeCoverage(body, { expectMeta: true })), "hash");
  const e = await verifyMeta(forged, { tables: new StatementTables() }).catch((e) => e);
  assertEquals([e instanceof CoverageError, e.kind], [true, "hash"]);
});

Deno.test("meta-data whose function offsets overlap is refused (kind meta)", async () => {
  const hostile = overlappingMeta(300, 300);
  assertEquals(kindOf(() => decodeMeta(hostile)), "meta");
  const e = await verifyMeta(hostile, { tables: new StatementTables() }).catch((e) => e);
  assertEquals([e instanceof CoverageError, e.kind], [true, "meta"]);
});

Deno.test("a counters file name must name the build: its hash, the field's bytes 16..32, or unknown", () => {
  const body = coverageBody(makeMeta(HASH), makeCounters(HASH));
  assertEquals(decodeCoverage(body, { expectMeta: true }).meta?.names.length, 2);
  body.counters_filename = `covcounters.${HASH}.1.1`;
  assertEquals(decodeCoverage(body, { expectMeta: true }).counters.pid, 1);
  body.counters_filename = `covcounters.${OTHER}.1.1`;
  assertEquals(kindOf(() => decodeCoverage(body, { expectMeta: true })), "hash");
  // A nometa pull: checked against the names of the first pull's build.
  const names = decodeMeta(makeMeta(HASH)).names;
  const nometa = coverageBody(null, makeCounters(HASH));
  nometa.counters_filename = `covcounters.${names[1]}.1.1`;
  assertEquals(
    decodeCoverage(nometa, { expectMeta: false, metaHash: HASH, metaNames: names }).counters.pid,
    1,
  );
  nometa.counters_filename = `covcounters.${OTHER}.1.1`;
  assertEquals(
    kindOf(() => decodeCoverage(nometa, { expectMeta: false, metaHash: HASH, metaNames: names })),
    "hash",
  );
});

Deno.test("toHex is lower-case", () => {
  assertEquals(toHex(new Uint8Array([0xab, 0x01])), "ab01");
  assertThrows(() => decodeMeta(new Uint8Array(3)), CoverageError);
});
