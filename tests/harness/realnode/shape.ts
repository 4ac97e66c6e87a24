/** JSON shapes at chosen paths: what conformance tests compare between a fake and a real peer. */

function kind(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  return Array.isArray(v) ? "array" : typeof v;
}

/**
 * path → the JSON kinds found at that path (`a.b`, with `[]` expanding an array).
 * @example shapeAt({ items: [{ n: 1 }] }, ["items[].n", "x"]) // { "items[].n": ["number"], x: ["missing"] }
 */
export function shapeAt(doc: unknown, paths: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const path of paths) {
    let vals: unknown[] = [doc];
    for (const part of path.split(".")) {
      const arr = part.endsWith("[]");
      const key = arr ? part.slice(0, -2) : part;
      vals = vals.map((v) =>
        v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined
      );
      if (arr) vals = vals.flatMap((v) => Array.isArray(v) ? v : [v]);
    }
    out[path] = [...new Set(vals.map(kind))].sort();
  }
  return out;
}
