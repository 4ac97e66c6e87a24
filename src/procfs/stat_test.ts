import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { startTimeOfStat, stateOfStat } from "./stat.ts";

Deno.test("state and start time are read after the last ')' of the command name", () => {
  const line = "42 (my (a) Z app) Z 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 98765 0";
  assertEquals([stateOfStat(line), startTimeOfStat(line)], ["Z", "98765"]);
  assertEquals([stateOfStat("no stat line"), startTimeOfStat("no stat line")], [null, null]);
  assertEquals(stateOfStat("42 (app)"), null);
});
