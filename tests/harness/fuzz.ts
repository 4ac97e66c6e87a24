/**
 * Property-based testing of the parsers at trust boundaries (fast-check): inputs arbitrary or
 * mutated from real samples, runs deterministic (a fixed seed, a bounded number of runs), and a
 * check that work grows about linearly with the input.
 */

import fc from "fast-check";
import process from "node:process";

/** CPU time of this process in ms: unlike wall time, it does not grow when other programs
 * share the cores. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One seed for every fuzz test: a failure is reproduced by running the test again. */
export const FUZZ_SEED = 0x12c0ffee;

/**
 * fast-check parameters: the fixed seed, `numRuns` runs.
 * @example fc.assert(fc.property(fc.string(), (s) => ...), fuzzRuns(300))
 */
export function fuzzRuns(numRuns = 300): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns };
}

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Runs `parse`; "value" when it returns, "error" when it throws one of the `typed` errors.
 * Anything else (a TypeError, a RangeError: a crash) is thrown on, failing the property.
 *
 * @example outcome(() => parseWatchEvent(line), WatchParseError) // "error"
 */
export function outcome(parse: () => unknown, ...typed: ErrorClass[]): "value" | "error" {
  try {
    parse();
    return "value";
  } catch (e) {
    if (typed.some((t) => e instanceof t)) return "error";
    throw e;
  }
}

/**
 * The `kind` of the `typed` error that `parse` throws, "no error" when it returns; any other
 * error is thrown on.
 *
 * @example kindOf(() => parseMeta(bytes.subarray(0, 10)), MetaParseError) // "truncated"
 */
export function kindOf(
  parse: () => unknown,
  typed: abstract new (...args: never[]) => Error & { kind: string },
): string {
  try {
    parse();
  } catch (e) {
    if (e instanceof typed) return e.kind;
    throw e;
  }
  return "no error";
}

/** As `outcome`, for a parser that resolves or rejects. */
export async function outcomeAsync(
  parse: () => Promise<unknown>,
  ...typed: ErrorClass[]
): Promise<"value" | "error"> {
  try {
    await parse();
    return "value";
  } catch (e) {
    if (typed.some((t) => e instanceof t)) return "error";
    throw e;
  }
}

const SPECIAL_BYTES = [
  0,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x2c,
  0x3a,
  0x5b,
  0x5d,
  0x7b,
  0x7d,
  0x7f,
  0x80,
  0xff,
];

/** One edit of a byte string: flip, set, cut, insert, duplicate a range, or truncate. */
const edit = fc.record({
  op: fc.constantFrom("flip", "set", "cut", "insert", "dup", "truncate"),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 64 }),
  byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...SPECIAL_BYTES)),
});
type Edit = { op: string; at: number; len: number; byte: number };

function applyEdit(b: Uint8Array, e: Edit): Uint8Array {
  const at = b.length === 0 ? 0 : e.at % (b.length + 1);
  switch (e.op) {
    case "flip":
      if (at < b.length) b = b.slice(), b[at] ^= 1 << (e.byte % 8);
      return b;
    case "set":
      if (at < b.length) b = b.slice(), b[at] = e.byte;
      return b;
    case "cut":
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + e.len)));
    case "insert":
      return concat(b.subarray(0, at), new Uint8Array(e.len).fill(e.byte), b.subarray(at));
    case "dup":
      return concat(b.subarray(0, at + e.len), b.subarray(at));
    default:
      return b.subarray(0, at);
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

/**
 * Bytes made from a real sample by 1 to 8 random edits (so most of the shape survives and the
 * parser is driven past its first checks).
 *
 * @example fc.assert(fc.property(mutatedBytes(sample), (b) => outcome(() => parse(b), E)))
 */
export function mutatedBytes(sample: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) =>
    edits.reduce(applyEdit, sample)
  );
}

/** Text made from a real sample by random edits of its UTF-8 bytes (invalid UTF-8 included). */
export function mutatedText(sample: string): fc.Arbitrary<string> {
  const bytes = new TextEncoder().encode(sample);
  return mutatedBytes(bytes).map((b) => new TextDecoder().decode(b));
}

/**
 * JSON text made from a sample by replacing one value (found by path) with an arbitrary JSON
 * value: wrong types, huge numbers, deep nesting, where the parser expects something else.
 */
export function mutatedJson(sample: string): fc.Arbitrary<string> {
  const root: unknown = JSON.parse(sample);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    }
  };
  walk(root, []);
  return fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 4 })).map(([path, value]) => {
    if (path.length === 0) return JSON.stringify(value);
    const copy = structuredClone(root) as Record<string | number, unknown>;
    let at = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    at[path[path.length - 1]] = value;
    return JSON.stringify(copy);
  });
}

/**
 * Asserts that parsing an input `factor` times larger costs less than `maxRatio` times as much
 * in CPU time (linear is `factor`, quadratic `factor²`: by default 16, 256 and 64 allowed, far from both so a busy machine does not fail it): the best of `tries` timings each, generous bounds.
 * `make(n)` builds an input of size about n; `parse` may throw (a typed error is work too).
 *
 * @example assertNearLinear((n) => "x".repeat(n), (s) => parseWatchEvent(s), { n: 100_000 })
 */
export async function assertNearLinear<T>(
  what: string,
  make: (n: number) => T,
  parse: (input: T) => unknown,
  { n, factor = 16, maxRatio = 64, tries = 3 }: {
    n: number;
    factor?: number;
    maxRatio?: number;
    tries?: number;
  },
): Promise<void> {
  const best = async (input: T) => {
    let min = Infinity;
    for (let i = 0; i < tries; i++) {
      const t0 = cpuMs();
      try {
        await parse(input);
      } catch { /* errors are an outcome too: the cost is what is measured */ }
      min = Math.min(min, cpuMs() - t0);
    }
    return min;
  };
  const small = make(n);
  const large = make(n * factor);
  await best(small); // warm up (JIT)
  const a = Math.max(await best(small), 2); // below 2 ms, timers and GC are noise
  const b = await best(large);
  if (b / a > maxRatio) {
    throw new Error(
      `${what}: ${factor}× the input took ${(b / a).toFixed(1)}× the time ` +
        `(${a.toFixed(1)}ms → ${b.toFixed(1)}ms; linear is ${factor}×, allowed ${maxRatio}×)`,
    );
  }
}
