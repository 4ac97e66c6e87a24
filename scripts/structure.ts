/**
 * The structure test of `src/` (run by `deno task check`): no import circle between files, and
 * every import goes down the layer order of LAYERS, never up or sideways into another folder of
 * its own row. Imports are read statically from the text (`import … from "…"`, `export … from
 * "…"`, `import "…"`, `import("…")`); only relative specifiers that land in the checked tree count.
 * Test files (`*_test.ts`) are left out: nothing imports them, and a test may set its subject up
 * with a higher layer.
 *
 * @example deno run --allow-read scripts/structure.ts   # prints each offence, exits 1 if any
 */

import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * The layers, top first: a file may import its own folder, and any folder of a row below its
 * own. Folders in one row do not import each other. A path is matched by its longest prefix
 * (relative to the checked root, `/`-separated); "*" is the root files of `src/` (the base).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["main.ts"],
  ["src/app/"],
  ["src/doctor/", "src/report/"],
  ["src/engine/"],
  ["src/discover/", "src/collect/", "src/kube/"],
  ["src/probe/", "src/sink/"],
  ["src/cri/", "src/procfs/", "src/coverage/"],
  ["src/*"],
];

/** One import statement of a file. */
export interface ImportSite {
  /** 1-based line of the statement's `import`/`export` keyword. */
  line: number;
  specifier: string;
}

/** One offence, as printed: `file:line → target: why`. */
export interface Offence {
  file: string;
  line: number;
  target: string;
  why: string;
}

type Token = { kind: "word" | "string" | "punct"; text: string; line: number };

/**
 * Splits TypeScript into words, string literals and punctuation, skipping comments, template
 * literals and regular expressions (enough to find import statements, not a full lexer).
 *
 * @example tokens('import { a } from "./a.ts";').map((t) => t.text) // ["import","{","a","}","from","./a.ts",";"]
 */
export function tokens(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  const last = () => out[out.length - 1];
  // A "/" starts a regular expression unless it follows a value (a name, a literal, a closer).
  const slashIsDivide = () => {
    const t = last();
    if (!t) return false;
    if (t.kind === "string") return true;
    if (t.kind === "word") {
      return !/^(return|typeof|case|do|else|in|of|new|delete|void|throw)$/.test(t.text);
    }
    return t.text === ")" || t.text === "]" || t.text === "}";
  };
  while (i < n) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === "\n") line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = line;
      let j = i + 1;
      let value = "";
      while (j < n && text[j] !== c && text[j] !== "\n") {
        if (text[j] === "\\") j++;
        value += text[j] ?? "";
        j++;
      }
      out.push({ kind: "string", text: value, line: start });
      i = j + 1;
    } else if (c === "`") {
      // Skipped whole, `${…}` included (a template's code holds no import statement).
      let j = i + 1;
      let depth = 0;
      while (j < n) {
        const d = text[j];
        if (d === "\\") j++;
        else if (d === "\n") line++;
        else if (depth === 0 && d === "`") break;
        else if (d === "$" && text[j + 1] === "{") {
          depth++;
          j++;
        } else if (depth > 0 && d === "}") depth--;
        j++;
      }
      out.push({ kind: "string", text: "", line });
      i = j + 1;
    } else if (c === "/" && !slashIsDivide()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && text[j] !== "\n") {
        const d = text[j];
        if (d === "\\") j++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      out.push({ kind: "string", text: "", line });
      i = j + 1;
    } else if (/[A-Za-z_$0-9]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z_$0-9]/.test(text[j])) j++;
      out.push({ kind: "word", text: text.slice(i, j), line });
      i = j;
    } else {
      out.push({ kind: "punct", text: c, line });
      i++;
    }
  }
  return out;
}

/**
 * The import and re-export statements of a module's text, in order.
 *
 * @example importsOf('export { x } from "./x.ts";') // [{ line: 1, specifier: "./x.ts" }]
 */
export function importsOf(text: string): ImportSite[] {
  const t = tokens(text);
  const out: ImportSite[] = [];
  for (let i = 0; i < t.length; i++) {
    const k = t[i];
    if (k.kind !== "word" || (k.text !== "import" && k.text !== "export")) continue;
    if (t[i - 1]?.text === ".") continue; // import.meta, x.import
    const next = t[i + 1];
    if (!next) break;
    if (k.text === "import" && next.kind === "string") {
      out.push({ line: k.line, specifier: next.text });
      continue;
    }
    if (k.text === "import" && next.text === "(") {
      if (t[i + 2]?.kind === "string" && t[i + 3]?.text === ")") {
        out.push({ line: k.line, specifier: t[i + 2].text });
      }
      continue;
    }
    if (k.text === "export") {
      // Only `export {…} from`, `export * from`, `export type {…} from` re-export.
      let j = i + 1;
      if (t[j]?.text === "type") j++;
      if (t[j]?.text !== "{" && t[j]?.text !== "*") continue;
    }
    // Up to the `from "…"` that ends the statement, or a `;` (not an import after all).
    for (let j = i + 1; j < t.length && t[j].text !== ";"; j++) {
      if (t[j].kind === "word" && t[j].text === "from" && t[j + 1]?.kind === "string") {
        out.push({ line: k.line, specifier: t[j + 1].text });
        break;
      }
      if (t[j].kind === "word" && (t[j].text === "import" || t[j].text === "export")) break;
    }
  }
  return out;
}

/** `a/b/c.ts` under `root`, with `/` whatever the platform. */
function rel(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}

/** Which row of `layers` a file is in, and the folder (or "*" root entry) it matched. */
export function layerOf(
  file: string,
  layers: readonly (readonly string[])[] = LAYERS,
): { row: number; unit: string } | null {
  let best: { row: number; unit: string } | null = null;
  layers.forEach((row, r) => {
    for (const unit of row) {
      let hit: boolean;
      if (unit.endsWith("/*")) {
        const dir = unit.slice(0, -1);
        hit = file.startsWith(dir) && !file.slice(dir.length).includes("/");
      } else if (unit.endsWith("/")) hit = file.startsWith(unit);
      else hit = file === unit;
      if (hit && (!best || unit.length > best.unit.length)) best = { row: r, unit };
    }
  });
  return best;
}

/** Every `.ts` file under `root`'s checked paths, minus tests, `/`-separated from `root`. */
export async function sourceFiles(root: string, paths = ["main.ts", "src"]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string): Promise<void> => {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(abs);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    if (st.isDirectory) {
      const names = [];
      for await (const e of Deno.readDir(abs)) names.push(e.name);
      for (const name of names.sort()) await walk(join(abs, name));
    } else if (abs.endsWith(".ts") && !abs.endsWith("_test.ts")) out.push(rel(root, abs));
  };
  for (const p of paths) await walk(join(root, p));
  return out;
}

/** The import graph: each file's imports that land on another checked file. */
export async function importGraph(
  root: string,
  files: string[],
): Promise<Map<string, { line: number; target: string }[]>> {
  const known = new Set(files);
  const graph = new Map<string, { line: number; target: string }[]>();
  for (const file of files) {
    const text = await Deno.readTextFile(join(root, file));
    const edges = [];
    for (const site of importsOf(text)) {
      if (!site.specifier.startsWith("./") && !site.specifier.startsWith("../")) continue;
      const target = rel(root, resolve(root, dirname(file), site.specifier));
      if (known.has(target)) edges.push({ line: site.line, target });
    }
    graph.set(file, edges);
  }
  return graph;
}

/**
 * Every import against the layer order, and one offence per import circle (its closing import,
 * with the whole circle in `why`). Linear in files + imports.
 */
export function offences(
  graph: Map<string, { line: number; target: string }[]>,
  layers: readonly (readonly string[])[] = LAYERS,
): Offence[] {
  const out: Offence[] = [];
  for (const [file, edges] of graph) {
    const from = layerOf(file, layers);
    if (!from) {
      out.push({ file, line: 1, target: file, why: "in no layer of the table" });
      continue;
    }
    for (const e of edges) {
      const to = layerOf(e.target, layers);
      if (!to || to.unit === from.unit) continue;
      if (to.row < from.row) {
        out.push({ ...e, file, why: `imports upward (${from.unit} → ${to.unit})` });
      } else if (to.row === from.row) {
        out.push({ ...e, file, why: `imports a sibling of its layer (${from.unit} → ${to.unit})` });
      }
    }
  }
  // Circles: a depth-first walk; an edge to a file still on the path closes one.
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const e of graph.get(file) ?? []) {
      const s = state.get(e.target);
      if (s === "open") {
        const circle = [...path.slice(path.indexOf(e.target)), e.target].join(" → ");
        out.push({ ...e, file, why: `closes an import circle: ${circle}` });
      } else if (s === undefined && graph.has(e.target)) visit(e.target);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return out;
}

/** The offences of the tree at `root` (default: this repository). */
export async function checkStructure(root: string): Promise<Offence[]> {
  const files = await sourceFiles(root);
  return offences(await importGraph(root, files));
}

if (import.meta.main) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
  const found = await checkStructure(root);
  for (const o of found) console.error(`${o.file}:${o.line} → ${o.target}: ${o.why}`);
  if (found.length > 0) {
    console.error(`structure: ${found.length} offending imports (layers in scripts/structure.ts)`);
    Deno.exit(1);
  }
  console.log("structure: no import circle, every import goes down the layers");
}
