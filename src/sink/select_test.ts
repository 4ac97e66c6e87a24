import assert from "node:assert/strict";
import { join } from "node:path";
import { createSink, type SinkDeps } from "./select.ts";
import { DirSink } from "./dir.ts";
import { SpoolingSink } from "./spool.ts";
import { ConfigError } from "../config.ts";
import { createSystem } from "../system.ts";
import { createLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Health } from "../health.ts";

const SECRET = "select-test-secret-value";

async function setup(
  over: Partial<SinkDeps["config"]>,
  auth: string | null,
  fn: (deps: SinkDeps, lines: string[], root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "select-test-" });
  if (auth !== null) {
    await Deno.mkdir(join(root, "var/lib/kubelet"), { recursive: true });
    await Deno.writeTextFile(join(root, "var/lib/kubelet/config.json"), auth);
  }
  const lines: string[] = [];
  const deps: SinkDeps = {
    config: {
      sink: "auto",
      outputDir: join(root, "out"),
      stateDir: join(root, "state"),
      spoolMax: 1 << 20,
      spoolPodMax: 1 << 20,
      credentialsFile: "",
      s3Endpoint: "",
      s3PathStyle: false,
      ...over,
    },
    system: createSystem(root),
    log: createLogger({ write: (l) => lines.push(l) }),
    metrics: new Metrics(),
    health: new Health(),
  };
  try {
    await fn(deps, lines, root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const authFile = (payload: unknown) =>
  JSON.stringify({
    auths: {
      "cluster-code-coverage.io": { auth: btoa("coverage:" + btoa(JSON.stringify(payload))) },
    },
  });
const GOOD = {
  service: "s3",
  s3: { accessKey: "AK", secretKey: SECRET, bucket: "bkt", region: "us-east-2", s3BasePath: "b/p" },
};

Deno.test("sink=dir is the output directory, credentials or not", () =>
  setup({ sink: "dir" }, authFile(GOOD), async (deps, _lines, root) => {
    const sink = await createSink(deps);
    assert.ok(sink instanceof DirSink);
    assert.equal(sink.description, `dir:${join(root, "out")}`);
    assert.equal(deps.health.get("sink")?.ready, true);
  }));

Deno.test("sink=s3 without credentials is a ConfigError listing the files tried", () =>
  setup({ sink: "s3" }, null, async (deps) => {
    const err = await createSink(deps).then(() => assert.fail("made a sink"), (e: unknown) => e);
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(
      err.message,
      /^--sink s3: no S3 credentials found .*\/var\/lib\/kubelet\/config\.json/,
    );
  }));

Deno.test("sink=auto without credentials: the directory, and one log line saying why", () =>
  setup({}, null, async (deps, lines) => {
    const sink = await createSink(deps);
    assert.ok(sink instanceof DirSink);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /level=info .*local directory.*reason=.*no S3 credentials found/);
  }));

Deno.test("sink=auto with a broken entry: the directory, with a warning naming the file", () =>
  setup({}, authFile({ ...GOOD, service: "gcs" }), async (deps, lines) => {
    assert.ok(await createSink(deps) instanceof DirSink);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /level=warn .*\/var\/lib\/kubelet\/config\.json.*service is/);
  }));

Deno.test("sink=auto with credentials: S3 behind the spool, AWS URL, no secret logged", () =>
  setup({}, authFile(GOOD), async (deps, lines) => {
    const sink = await createSink(deps);
    assert.ok(sink instanceof SpoolingSink);
    assert.equal(sink.description, "s3://bkt/b/p");
    assert.equal(sink.status().url, "https://bkt.s3.us-east-2.amazonaws.com/");
    assert.ok(lines.every((l) => !l.includes(SECRET)));
    assert.ok(lines.some((l) => l.includes("storing coverage in S3") && l.includes("bucket=bkt")));
  }));

Deno.test("the endpoint override with path style changes the URL", () =>
  setup(
    { s3Endpoint: "http://127.0.0.1:9000", s3PathStyle: true },
    authFile(GOOD),
    async (deps) => {
      const sink = await createSink(deps);
      assert.equal((sink as SpoolingSink).status().url, "http://127.0.0.1:9000/bkt/");
    },
  ));

Deno.test("the S3 spool is shared out per pod: an object past --spool-pod-max is not spooled", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close(); // nothing listens there: every PUT is refused, so it goes to the spool
  await setup(
    { s3Endpoint: `http://127.0.0.1:${port}`, s3PathStyle: true, spoolPodMax: 100 },
    authFile(GOOD),
    async (deps) => {
      const sink = await createSink(deps, { retry: { attempts: 1 } });
      const pod = "n/ns/p/c/20261122T100005Z/img/app";
      await sink.put(`${pod}/covcounters.ab.1.1`, new Uint8Array(100));
      await assert.rejects(
        sink.put(`${pod}/covcounters.ab.1.2`, new Uint8Array(101)),
        /exceed one pod's share of the spool \(100 bytes for n\/ns\/p\)/,
      );
      await sink.put(`${pod}/covcounters.ab.1.2`, new Uint8Array(60)); // the pod's older one goes
      assert.deepEqual((sink as SpoolingSink).spooled(), [`${pod}/covcounters.ab.1.2`]);
    },
  );
});
