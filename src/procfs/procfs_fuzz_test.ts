/**
 * Property tests: /proc files of processes we do not control (their names, their environment)
 * give a value or null, never a crash, in about linear time.
 */

import fc from "fast-check";
import assert from "node:assert/strict";
import { parseStatus } from "./status.ts";
import { parseProcNetTcp } from "./net.ts";
import { containerIdOfCgroup } from "./cgroup.ts";
import { coveragePortOf } from "./environ.ts";
import { socketInodeOfLink } from "./fds.ts";
import { startTimeOfStat } from "./stat.ts";
import { assertNearLinear, fuzzRuns, mutatedText, outcome } from "../../tests/harness/fuzz.ts";
import { sampleText } from "../../tests/testdata/samples.ts";

const ID = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
/** Real shapes: a status and tcp6 table from the samples, the others as the kernel writes them. */
const PARSERS: [string, string, (s: string) => unknown][] = [
  ["status", sampleText("proc-status.txt"), parseStatus],
  ["net/tcp6", sampleText("proc-net-tcp6.txt"), (s) => parseProcNetTcp(s, 6)],
  [
    "net/tcp",
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
    "   0: 0100007F:D1C4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 412337 1 0000000000000000 100 0 0 10 0\n",
    (s) => parseProcNetTcp(s, 4),
  ],
  [
    "cgroup",
    `0::/kubepods.slice/kubepods-burstable.slice/kubepods-pod1.slice/crio-${ID}.scope\n`,
    containerIdOfCgroup,
  ],
  ["environ", "PATH=/usr/bin\0HOME=/\0COVERAGE_PORT=53700\0LANG=C\0", coveragePortOf],
  ["fd link", "socket:[412337]", socketInodeOfLink],
  [
    "stat",
    "48213 (my (odd) name) S 48190 48213 48213 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1 1 " +
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
    startTimeOfStat,
  ],
];

Deno.test("fuzz: arbitrary and edited /proc text gives a value or null, never a crash", () => {
  assert.equal(parseStatus(PARSERS[0][1]).pid, 48213);
  assert.equal(containerIdOfCgroup(PARSERS[3][1]), ID);
  assert.equal(coveragePortOf(PARSERS[4][1]), 53700);
  assert.equal(startTimeOfStat(PARSERS[6][1]), "123456");
  for (const [name, sample, parse] of PARSERS) {
    const ok = (s: string) => assert.equal(outcome(() => parse(s)), "value", name);
    fc.assert(fc.property(fc.string({ maxLength: 300 }), ok), fuzzRuns(200));
    fc.assert(fc.property(mutatedText(sample), ok), fuzzRuns(300));
  }
});

Deno.test("/proc parsing time grows about linearly with the file", async () => {
  for (const [name, sample, parse] of PARSERS) {
    await assertNearLinear(
      `${name}, repeated lines`,
      (n) => sample.repeat(Math.ceil(n / sample.length)),
      parse,
      { n: 100_000 },
    );
    await assertNearLinear(
      `${name}, one long line`,
      (n) => sample.replaceAll("\n", " ") + "x".repeat(n),
      parse,
      { n: 100_000 },
    );
  }
});
