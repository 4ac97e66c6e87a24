import assert from "node:assert/strict";
import { nextDelay, serverAge, withIdle } from "./schedule.ts";
import { formatSchedule, parseIdleRule, parseSchedule } from "../units.ts";

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

Deno.test("a server's age counts on the monotonic clock: the wall clock set back or forward by hours changes nothing", () => {
  const HOURS = 3 * 3_600_000;
  const clock = { wall: 1_800_000_000_000, mono: 500 };
  const system = { now: () => clock.wall, monotonic: () => clock.mono };
  const age = serverAge(system, new Date(clock.wall - 20_000)); // found 20 s ago
  const steps = parseSchedule("1s@1m,1h");
  assert.equal(age(), 20_000);
  clock.wall -= HOURS; // set back: no burst of 1 s pulls for hours
  clock.mono += 50_000;
  assert.equal(age(), 70_000);
  assert.equal(nextDelay(steps, age()), 3_600_000);
  clock.wall += 2 * HOURS; // set forward: a young server stays young
  const young = serverAge(system, new Date(clock.wall - 1_000));
  clock.wall += HOURS;
  assert.equal(young(), 1_000);
  assert.equal(nextDelay(steps, young()), 1_000);
  // discovered "in the future" (the clock was set back since): age 0, not negative
  assert.equal(serverAge(system, new Date(clock.wall + HOURS))(), 0);
});

Deno.test("the idle rule: past <after> without new coverage a server waits at least <every>; off leaves the schedule", () => {
  const rule = parseIdleRule("60s@5m")!;
  assert.deepEqual(rule, { everyMs: 60_000, afterMs: 300_000 });
  assert.equal(withIdle(10_000, rule, 299_999), 10_000);
  assert.equal(withIdle(10_000, rule, 300_000), 60_000);
  assert.equal(withIdle(120_000, rule, 300_000), 120_000); // a longer schedule step stays
  assert.equal(parseIdleRule("off"), null);
  assert.equal(withIdle(10_000, null, 1e9), 10_000);
  assert.throws(() => parseIdleRule("60s"), /<every>@<after>/);
  assert.throws(() => parseIdleRule("10ms@1m"), /below 100ms/);
});
