/**
 * Hostile binary names on a simulated node, with the daemon: servers answering
 * `X-Art-Coverage-Binary: ..`, `.` or a 2 KB name are stored under safe, bounded prefixes, and a
 * plain server next to them is collected as always (one bad identity harms only its server).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { MAX_SEGMENT_BYTES } from "../../src/layout.ts";
import {
  byPrefix,
  checkPrefixFiles,
  covdataPercent,
  e2eSkipReason,
  e2eTest,
  eventually,
  filesUnder,
  startServer,
} from "./e2e_util.ts";
import { withNode } from "./e2e_run.ts";

const skip = await e2eSkipReason();
const PORT = 57700;
const LONG = "n".repeat(2048);

e2eTest(
  "run: servers named '..', '.' and 2 KB long are stored under safe prefixes; the others too",
  skip,
  () =>
    withNode("e2e-hostile-names", async (r) => {
      const { node, out } = r;
      const pod = await node.addPod({ name: "hostile", namespace: "e2e-h" });
      const env = { COVERAGE_PORT: String(PORT) };
      const servers = [
        await startServer({ pod, container: "dotdot" }, { binary: "..", env }),
        await startServer({ pod, container: "dot" }, { binary: ".", env }),
        await startServer({ pod, container: "long" }, { binary: LONG, env }),
        await startServer({ pod, container: "plain" }, { binary: "plain-srv", env }),
      ];
      const c = await r.collector("run", PORT, [
        ...r.dirSink,
        "--pull-schedule",
        "1h",
        "--scan-interval",
        "1s",
      ]);
      await c.healthUrl();
      // container segment → binary segment
      const want: [string, RegExp][] = [
        ["dotdot", /^_\.\.$/],
        ["dot", /^_\.$/],
        ["long", /^n{111}-[0-9a-f]{16}$/],
        ["plain", /^plain-srv$/],
      ];
      const prefixes = await eventually("every server stored", async () => {
        // (host servers of other tests on this machine are stored too: only this pod's count)
        const all = new Map(
          [...byPrefix(await filesUnder(out))].filter(([p]) => p.startsWith("testnode/e2e-h/")),
        );
        for (const [container, binary] of want) {
          assert.ok(
            [...all.entries()].some(([p, names]) => {
              const seg = p.split("/");
              return seg[3] === container && binary.test(seg.at(-1)!) && names.length >= 3;
            }),
            `${container} not stored yet: ${[...all.keys()].join(" ")}`,
          );
        }
        return all;
      }, 60_000).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
      assert.equal(prefixes.size, servers.length, [...prefixes.keys()].join(" "));
      for (const [prefix, names] of prefixes) {
        checkPrefixFiles(prefix, names);
        for (const seg of prefix.split("/")) {
          assert.ok(![".", "..", ""].includes(seg), `unsafe segment in ${prefix}`);
          assert.ok(new TextEncoder().encode(seg).length <= MAX_SEGMENT_BYTES, prefix);
        }
        const info = JSON.parse(await Deno.readTextFile(join(out, prefix, "info.json")));
        const server = servers.find((s) => s.binary === info.binary);
        assert.ok(server, `info.json of ${prefix} names ${info.binary.slice(0, 40)}`);
        await covdataPercent(join(out, prefix));
      }
    }),
);
