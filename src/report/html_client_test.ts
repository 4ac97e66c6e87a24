import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { CLIENT_SCRIPT } from "./html_client.ts";
import { scriptJson } from "./html_data.ts";

Deno.test("the page's script cannot end its own element, and holds the source view", () => {
  ok(!CLIENT_SCRIPT.includes("</") && !CLIENT_SCRIPT.includes("<!--"));
  ok(CLIENT_SCRIPT.includes("function renderSource(text, bl, lineLink)"));
  ok(!CLIENT_SCRIPT.includes("${"), "a template hole left in the script");
});

Deno.test("scriptJson: no <, no raw terminal control, and JSON.parse gives the value back", () => {
  const v = { name: "</script><!--\u009b\u2028\u202e\x1b\x7f", n: [1, 2] };
  const s = scriptJson(v);
  ok(!s.includes("<"), s);
  // deno-lint-ignore no-control-regex
  ok(!/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/.test(s), s);
  assertEquals(JSON.parse(s), v);
});
