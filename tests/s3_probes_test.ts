/** doctor's storage probes against a real S3 store (versitygw on loopback). */

import assert from "node:assert/strict";
import { join } from "node:path";
import { canRunS3, type S3Server, startS3, writeRegistryAuth } from "./harness/s3.ts";
import { storageProbes } from "../src/sink/probes.ts";
import { SinkError } from "../src/sink/sink.ts";
import { createSystem } from "../src/system.ts";

const ignore = !await canRunS3(); // needs Go to install versitygw

async function withHost(
  s3: S3Server,
  secret: string,
  fn: (probes: ReturnType<typeof storageProbes>) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "probes-" });
  try {
    await writeRegistryAuth(join(root, "var/lib/kubelet/config.json"), {
      ...s3,
      secretKey: secret,
      s3BasePath: "ci/x",
    });
    const config = { credentialsFile: "", s3Endpoint: s3.endpoint, s3PathStyle: true };
    await fn(storageProbes({ config, system: createSystem(root) }));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test(
  { name: "probes: credentials, reach and a write test that leaves nothing", ignore },
  async () => {
    const s3 = await startS3();
    try {
      await withHost(s3, s3.secretKey, async (probes) => {
        assert.deepEqual(await probes.credentials(), {
          file: "/var/lib/kubelet/config.json",
          target: `s3://${s3.bucket}/ci/x (${s3.region})`,
        });
        const signal = AbortSignal.timeout(10_000);
        assert.match(await probes.reach(signal), /listing answered 200/);
        assert.match(await probes.writeTest(signal), /wrote and deleted s3:\/\/coverage\/ci\/x\//);
        assert.deepEqual(await s3.objects(), []);
      });
      await withHost(s3, "wrong", async (probes) => {
        await assert.rejects(
          probes.reach(AbortSignal.timeout(10_000)),
          (e) =>
            e instanceof SinkError && e.permanent && /403 SignatureDoesNotMatch/.test(e.message),
        );
      });
    } finally {
      await s3.close();
    }
  },
);

Deno.test("probes: no credentials is null, not an error", async () => {
  const root = await Deno.makeTempDir({ prefix: "probes-" });
  try {
    const config = { credentialsFile: "", s3Endpoint: "", s3PathStyle: false };
    assert.equal(await storageProbes({ config, system: createSystem(root) }).credentials(), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
