import assert from "node:assert/strict";
import { formatSchedule, nextDelay, parseSchedule } from "./schedule.ts";

Deno.test("the default schedule pulls every 1s, then 5s, then 10s", () => {
  const s = parseSchedule("1s@10s,5s@5m,10s");
  assert.equal(nextDelay(s, 0), 1000);
  assert.equal(nextDelay(s, 9_999), 1000);
  assert.equal(nextDelay(s, 10_000), 5000);
  assert.equal(nextDelay(s, 299_999), 5000);
  assert.equal(nextDelay(s, 300_000), 10_000);
  assert.equal(nextDelay(s, 86_400_000), 10_000);
  assert.equal(formatSchedule(s), "1s@10s,5s@5m,10s");
});

Deno.test("a schedule with errors says which step is wrong", () => {
  assert.throws(() => parseSchedule(""), /empty/);
  assert.throws(() => parseSchedule("1s@10s"), /last step "1s@10s" must not have an end/);
  assert.throws(() => parseSchedule("1s,10s"), /step "1s" needs an end/);
  assert.throws(() => parseSchedule("1s@10s,5s@5s,10s"), /must end later/);
  assert.throws(() => parseSchedule("10ms@1s,1s"), /below 100ms/);
});
