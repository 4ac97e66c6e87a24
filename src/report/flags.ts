/**
 * The flags of `report`, apart from its code: the command line parses and prints them for every
 * command, and `run` must not load the report code to do so (src/app/commands.ts). Their values
 * are checked by options.ts.
 */

export const REPORT_FLAGS = {
  format: {
    type: "string",
    help: "text (default) | json | html | textfmt | covdata | cobertura | lcov | sonar | codecov",
  },
  out: {
    type: "string",
    help: "write to this file (covdata: this directory or s3://bucket/prefix) instead of stdout",
  },
  binary: { type: "string", help: "only this binary" },
  namespace: { type: "string", help: "only this namespace" },
  node: { type: "string", help: "only this node (host name in the stored path)" },
  since: { type: "string", help: "only servers discovered at or after this time (ISO 8601)" },
  until: { type: "string", help: "only servers discovered at or before this time (ISO 8601)" },
  diff: {
    type: "string",
    help: "compare with another source: what each covers the other does not",
  },
  concurrency: { type: "string", help: "prefixes read at once (default 16)" },
  "strip-prefix": {
    type: "string",
    multiple: true,
    help: "cobertura/lcov/sonar: drop this import-path prefix from file names (repeatable)",
  },
  "path-map": {
    type: "string",
    multiple: true,
    help: "cobertura/lcov/sonar: FROM=TO, import-path prefix FROM becomes TO (repeatable)",
  },
  "exclude-file": {
    type: "string",
    multiple: true,
    help: "cobertura/lcov/sonar: leave out files matching this glob (repeatable)",
  },
  windows: {
    type: "string",
    help: "file of named windows, `name start end` a line (RFC 3339): what each first covered",
  },
  "covered-since": {
    type: "string",
    help: "only blocks first covered after this time (RFC 3339; from the stored timelines)",
  },
  "covered-until": {
    type: "string",
    help: "only blocks first covered at or before this time (RFC 3339)",
  },
  source: {
    type: "string",
    multiple: true,
    help: "html: Go source under this directory (checkout, GOPATH/GOROOT, module cache or vendor " +
      "tree) shown annotated (repeatable; read from disk only)",
  },
  shard: {
    type: "string",
    help: "K/N: read only shard K (0 to N-1) of the prefixes and write a partial " +
      "(--format covdata --out DIR); a source of partials reads as one store",
  },
  "group-by": {
    type: "string",
    help: "binary (default) | owner (the pod's workload) | namespace | node; text and json",
  },
  "diff-base": {
    type: "string",
    help: "incremental coverage: changed lines of `git diff REF` in --repo that were run, and not",
  },
  repo: { type: "string", help: "the git checkout --diff-base diffs (default .)" },
  "diff-file": { type: "string", help: "incremental coverage against a unified diff in this file" },
} as const;
