import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { globMatcher, PathFlagError, pathMapper } from "./paths.ts";

const M = "example.test/m";

Deno.test("without flags, the one module path of the report is stripped", () => {
  const p = pathMapper({}, [M, M, ""]);
  assertEquals(p.map(`${M}/a/a.go`, M), "a/a.go");
  assertEquals(p.map(`${M}/main.go`, M), "main.go");
  // a package outside the module (or with no module) keeps its name
  assertEquals(p.map("other.test/x/x.go", ""), "other.test/x/x.go");
});

Deno.test("without flags, several modules keep import paths", () => {
  const p = pathMapper({}, [M, "k8s.io/api"]);
  assertEquals(p.map(`${M}/a/a.go`, M), `${M}/a/a.go`);
});

Deno.test("a prefix matches at a segment boundary only", () => {
  const p = pathMapper({ stripPrefix: [M] }, [M]);
  assertEquals(p.map(`${M}x/a.go`, `${M}x`), `${M}x/a.go`);
  assertEquals(p.map(`${M}/a.go`, M), "a.go");
});

Deno.test("path maps and strips: the longest prefix wins, trailing slashes do not matter", () => {
  const p = pathMapper({
    stripPrefix: ["k8s.io/kubernetes/"],
    pathMap: ["k8s.io/api=staging/src/k8s.io/api/", "k8s.io/kubernetes/vendor/x=third/x"],
  }, []);
  assertEquals(p.map("k8s.io/kubernetes/pkg/a.go", "k8s.io/kubernetes"), "pkg/a.go");
  assertEquals(
    p.map("k8s.io/api/core/v1/t.go", "k8s.io/api"),
    "staging/src/k8s.io/api/core/v1/t.go",
  );
  assertEquals(p.map("k8s.io/kubernetes/vendor/x/y.go", ""), "third/x/y.go");
  assertEquals(p.map("elsewhere.io/z.go", ""), "elsewhere.io/z.go");
});

Deno.test("exclude globs: base name without a slash, whole path with one, ** across segments", () => {
  const p = pathMapper({ excludeFile: ["coverage_server.go", "gen/**", "**/zz_*.go"] }, [M]);
  assertEquals(p.map(`${M}/coverage_server.go`, M), undefined);
  assertEquals(p.map(`${M}/cmd/x/coverage_server.go`, M), undefined);
  assertEquals(p.map(`${M}/gen/a/b.go`, M), undefined);
  assertEquals(p.map(`${M}/api/zz_generated.go`, M), undefined);
  assertEquals(p.map(`${M}/zz_top.go`, M), undefined);
  assertEquals(p.map(`${M}/api/types.go`, M), "api/types.go");
  // the import path matches too
  assertEquals(pathMapper({ excludeFile: [`${M}/a/*`] }, [M]).map(`${M}/a/x.go`, M), undefined);
  // * stays in its segment, ? is one character
  assertEquals(globMatcher("a/*.go")("a/b/c.go"), false);
  assertEquals(globMatcher("a/?.go")("a/b.go"), true);
  assertEquals(globMatcher("a.go")("xa.go"), false);
  assertEquals(globMatcher("(x)+.go")("(x)+.go"), true);
});

Deno.test("bad flags are PathFlagErrors naming the flag and the value", () => {
  const bad: [Parameters<typeof pathMapper>[0], string, RegExp][] = [
    [{ pathMap: ["nodelimiter"] }, "path-map", /"nodelimiter" is not FROM=TO/],
    [{ pathMap: ["=to"] }, "path-map", /empty prefix/],
    [{ stripPrefix: ["/"] }, "strip-prefix", /empty prefix/],
    [{ stripPrefix: ["a\nb"] }, "strip-prefix", /control character/],
    [{ pathMap: ["a=x", "a/=y"] }, "path-map", /"a" is mapped twice/],
    [{ excludeFile: [""] }, "exclude-file", /empty glob/],
    [{ excludeFile: ["*".repeat(40)] }, "exclude-file", /40 wildcards/],
    [{ excludeFile: ["x".repeat(5000)] }, "exclude-file", /5000 characters/],
  ];
  for (const [flags, flag, msg] of bad) {
    throws(() => pathMapper(flags, []), (e: unknown) => {
      return e instanceof PathFlagError && e.flag === flag && msg.test(e.message);
    }, JSON.stringify(flags));
  }
  // the same mapping twice is no conflict
  pathMapper({ pathMap: ["a=x", "a/=x/"] }, []);
});
