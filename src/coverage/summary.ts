/**
 * Figures of merged coverage, computed as `go tool covdata percent`, `func` and `textfmt` compute
 * them: units are keyed per package import path by (file, function, literal, span, statements),
 * equal units add up, a unit's statements count as covered when its count is nonzero; functions
 * are listed from the units sorted by file and position, a new entry starting where the function
 * name changes, literals counted but not listed.
 */

import type { CounterMode } from "./meta.ts";
import type { Profile } from "./profile.ts";

interface Fn {
  file: string;
  name: string;
  literal: boolean;
}

interface Unit {
  fn: number;
  stLine: number;
  stCol: number;
  enLine: number;
  enCol: number;
  stmts: number;
  count: number;
}

interface PkgTable {
  fns: Fn[];
  fnIndex: Map<string, number>;
  units: Map<string, Unit>;
}

/** Statements of a function or package: total and covered. */
export interface Figures {
  statements: number;
  covered: number;
}

export interface FunctionFigures extends Figures {
  file: string;
  line: number;
  name: string;
}

export interface PackageFigures extends Figures {
  path: string;
  functions: FunctionFigures[];
}

/**
 * Accumulates units of one or more profiles (like covdata's formatter) and emits the figures.
 *
 * @example const t = new UnitTable("atomic"); t.addProfile(p); t.packages()[0].covered
 */
export class UnitTable {
  readonly #pkgs = new Map<string, PkgTable>();
  constructor(readonly mode: CounterMode) {}

  addProfile(profile: Profile): void {
    profile.meta.packages.forEach((pkg, p) => {
      let t = this.#pkgs.get(pkg.path);
      if (!t) this.#pkgs.set(pkg.path, t = { fns: [], fnIndex: new Map(), units: new Map() });
      pkg.functions.forEach((fn, f) => {
        const fkey = `${fn.file}\0${fn.name}\0${fn.literal}`;
        let fi = t.fnIndex.get(fkey);
        if (fi === undefined) {
          fi = t.fns.length;
          t.fns.push({ file: fn.file, name: fn.name, literal: fn.literal });
          t.fnIndex.set(fkey, fi);
        }
        const counts = profile.funcs[p][f];
        fn.units.forEach((u, i) => {
          const count = counts?.[i] ?? 0;
          const ukey = `${fi}:${u.stLine}:${u.stCol}:${u.enLine}:${u.enCol}:${u.stmts}`;
          const have = t.units.get(ukey);
          if (!have) t.units.set(ukey, { fn: fi, ...u, count: this.#merge(0, count) });
          else have.count = this.#merge(have.count, count);
        });
      });
    });
  }

  #merge(a: number, b: number): number {
    if (this.mode === "set") return a !== 0 || b !== 0 ? 1 : 0;
    return Math.min(0xffffffff, a + b);
  }

  #sorted(t: PkgTable): Unit[] {
    return [...t.units.values()].sort((a, b) => {
      const fa = t.fns[a.fn].file, fb = t.fns[b.fn].file;
      if (fa !== fb) return fa < fb ? -1 : 1;
      return a.stLine - b.stLine || a.enLine - b.enLine || a.stCol - b.stCol ||
        a.enCol - b.enCol || a.stmts - b.stmts;
    });
  }

  /** Packages sorted by import path, with their functions as `covdata func` lists them. */
  packages(): PackageFigures[] {
    const paths = [...this.#pkgs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return paths.map((path) => {
      const t = this.#pkgs.get(path)!;
      const functions: FunctionFigures[] = [];
      let statements = 0, covered = 0;
      let cur: { fn: Fn; line: number } | undefined;
      let ts = 0, cs = 0;
      const emit = () => {
        if (cur && !cur.fn.literal) {
          functions.push({
            file: cur.fn.file,
            line: cur.line,
            name: cur.fn.name,
            statements: ts,
            covered: cs,
          });
        }
        ts = cs = 0;
      };
      for (const u of this.#sorted(t)) {
        const fn = t.fns[u.fn];
        if (cur === undefined || cur.fn.name !== fn.name) {
          emit();
          cur = { fn, line: u.stLine };
        }
        ts += u.stmts;
        statements += u.stmts;
        if (u.count !== 0) {
          cs += u.stmts;
          covered += u.stmts;
        }
      }
      emit();
      return { path, statements, covered, functions };
    });
  }

  /**
   * Covered units per package: `file:span` → statements (for diffs between two runs).
   *
   * @example t.coveredUnits().get("example.test/x")?.get("x/a.go:3.1,4.2") // 2
   */
  coveredUnits(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const [path, t] of this.#pkgs) {
      const m = new Map<string, number>();
      for (const u of t.units.values()) {
        if (u.count === 0) continue;
        const key = `${t.fns[u.fn].file}:${u.stLine}.${u.stCol},${u.enLine}.${u.enCol}`;
        m.set(key, (m.get(key) ?? 0) + u.stmts);
      }
      out.set(path, m);
    }
    return out;
  }

  /**
   * Every merged unit with its package path, file and count (for per-line figures).
   *
   * @example t.eachUnit((pkg, file, u) => lines.add(file, u.stLine, u.enLine, u.count));
   */
  eachUnit(
    visit: (pkg: string, file: string, unit: Readonly<Omit<Unit, "fn">>) => void,
  ): void {
    for (const [path, t] of this.#pkgs) {
      for (const u of t.units.values()) visit(path, t.fns[u.fn].file, u);
    }
  }

  /** The legacy coverprofile (`go tool covdata textfmt`), one line per unit, sorted. */
  textfmt(): string {
    const lines = [`mode: ${this.mode}`];
    const paths = [...this.#pkgs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const path of paths) {
      const t = this.#pkgs.get(path)!;
      for (const u of this.#sorted(t)) {
        lines.push(
          `${t.fns[u.fn].file}:${u.stLine}.${u.stCol},${u.enLine}.${u.enCol} ${u.stmts} ${u.count}`,
        );
      }
    }
    return lines.join("\n") + "\n";
  }
}

/**
 * Percent with one decimal, as Go prints `%.1f` of 100*covered/total (0 statements: 0.0):
 * rounded to nearest, exact halves to even (JavaScript's toFixed rounds those up).
 *
 * @example percentText({ statements: 400, covered: 49 }) // "12.2"
 */
export function percentText(f: Figures): string {
  if (f.statements === 0) return "0.0";
  const n = 1000 * f.covered;
  let q = Math.floor(n / f.statements);
  const r2 = 2 * (n - q * f.statements);
  if (r2 > f.statements || (r2 === f.statements && q % 2 === 1)) q++;
  return `${Math.floor(q / 10)}.${q % 10}`;
}
