import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { jsonErrorPlace, yamlErrorPlace } from "./quote_free.ts";

const SECRET = "s3cr3t-value-never-quoted";

Deno.test("jsonErrorPlace gives the place of the fault, never the text around it", () => {
  for (
    const text of [
      `{"a": ${SECRET}}`,
      `{"a": "x",\n "b": "${SECRET}" "c"}`,
      `{"a": "${SECRET}"`,
      SECRET,
    ]
  ) {
    let err: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SyntaxError);
    assert.ok(!jsonErrorPlace(err).includes("s3cr3t"), jsonErrorPlace(err));
    assert.match(
      jsonErrorPlace(err),
      /^(invalid at (line \d+, column \d+|position \d+)|ends too early|invalid JSON)$/,
    );
  }
});

Deno.test("yamlErrorPlace gives the code and line of the fault, never the quoted line", () => {
  let err: unknown;
  try {
    parseYaml(`users:\n- name: u\n  user:\n    token: ${SECRET}: x\n`);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error && err.message.includes(SECRET), "the yaml package quotes it");
  assert.match(yamlErrorPlace(err), /^[A-Z_]+ at line 4, column \d+$/);
  assert.equal(yamlErrorPlace(new Error("odd")), "syntax error");
});
