import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { MAX_WINDOWS_BYTES, parseWindows, readWindows, rfc3339, WindowsError } from "./windows.ts";

Deno.test("windows: names and RFC 3339 times a line, comments and blank lines skipped, overlaps kept", () => {
  const w = parseWindows(
    [
      "# phases of the run",
      "install 2026-12-02T10:00:00Z 2026-12-02T10:05:00Z",
      "",
      "  e2e\t2026-12-02T11:04:00+01:00 2026-12-02T10:30:00.250Z  # overlaps install",
    ].join("\r\n"),
    "w.txt",
  );
  assertEquals(w, [
    {
      name: "install",
      start: Date.UTC(2026, 11, 2, 10, 0, 0),
      end: Date.UTC(2026, 11, 2, 10, 5, 0),
    },
    {
      name: "e2e",
      start: Date.UTC(2026, 11, 2, 10, 4, 0),
      end: Date.UTC(2026, 11, 2, 10, 30, 0, 250),
    },
  ]);
});

function fails(text: string, want: RegExp) {
  throws(() => parseWindows(text, "phases.txt"), (e: unknown) => {
    ok(e instanceof WindowsError, String(e));
    ok(want.test(e.message), e.message);
    return true;
  });
}

Deno.test("windows: a bad line is an error naming file:line and what was wrong", () => {
  const ok1 = "a 2026-12-02T10:00:00Z 2026-12-02T10:05:00Z\n";
  fails(`${ok1}b 2026-12-02T10:00:00Z\n`, /^phases\.txt:2: 2 fields, want 3/);
  fails(`${ok1}b 2026-02-30T10:00:00Z 2026-03-01T10:00:00Z`, /^phases\.txt:2: start .* has day 30/);
  fails(`${ok1}b 2026-12-02 10:00 x`, /^phases\.txt:2: 4 fields/);
  fails(`b 2026-12-02T10:00:00Z 2026-12-02T24:00:00Z`, /:1: end .* has time 24:00:00/);
  fails(`b 2026-12-02T10:00:00Z 2026-12-02T10:00:00`, /:1: end .* is not an RFC 3339 time/);
  fails(
    `b 2026-12-02T10:00:00Z 2026-12-02T09:00:00Z`,
    /:1: window "b" ends at or before it starts/,
  );
  fails(
    `${ok1}a 2026-12-03T10:00:00Z 2026-12-03T10:05:00Z`,
    /:2: window "a" is listed already at line 1/,
  );
  // Hostile names: controls are refused and shown escaped, never raw.
  fails(
    `x\x1b[2J 2026-12-02T10:00:00Z 2026-12-02T10:05:00Z`,
    /:1: window name "x\\\\x1b\[2J" holds a control/,
  );
  fails(
    `${"n".repeat(201)} 2026-12-02T10:00:00Z 2026-12-02T10:05:00Z`,
    /:1: window name .* is 201 characters/,
  );
});

Deno.test("rfc3339: offsets and fractions; fields out of range are refused, not rolled over", () => {
  assertEquals(rfc3339("2026-12-02T10:00:00.5-02:30"), Date.UTC(2026, 11, 2, 12, 30, 0, 500));
  assertEquals(rfc3339("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  ok(typeof rfc3339("2026-02-29T00:00:00Z") === "string");
  ok(typeof rfc3339("2026-13-01T00:00:00Z") === "string");
  ok(typeof rfc3339("2026-12-01T00:00:60Z") === "string");
  ok(typeof rfc3339("2026-12-01T00:00:00+24:00") === "string");
});

Deno.test("readWindows: a file over the size bound or not UTF-8 is refused by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = join(dir, "big.txt");
    await Deno.writeFile(big, new Uint8Array(MAX_WINDOWS_BYTES + 1).fill(0x23));
    await readWindows(big).then(
      () => ok(false),
      (e) => ok(/big\.txt: \d+ bytes, over/.test(e.message), e.message),
    );
    const bin = join(dir, "bin.txt");
    await Deno.writeFile(bin, Uint8Array.of(0xff, 0xfe, 0x0a));
    await readWindows(bin).then(
      () => ok(false),
      (e) => ok(/bin\.txt: is not UTF-8/.test(e.message), e.message),
    );
    await readWindows(join(dir, "none.txt")).then(
      () => ok(false),
      (e) => ok(e instanceof WindowsError),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
