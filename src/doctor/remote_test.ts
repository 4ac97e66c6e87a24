import assert from "node:assert/strict";
import { kubeChecks, type KubePeer, storageChecks, type StoragePeer } from "./remote.ts";

const signal = AbortSignal.timeout(10_000);
const summary = (cs: { status: string; name: string }[]) => cs.map((c) => `${c.status} ${c.name}`);

function kube(over: Partial<KubePeer> = {}): KubePeer {
  return {
    kubeconfig: () =>
      Promise.resolve({ path: "/var/lib/kubelet/kubeconfig", source: "kubelet-cmdline" }),
    apiServer: () => Promise.resolve("https://api.example:6443 (v1.31.4)"),
    nodeName: () => Promise.resolve({ name: "worker-1", source: "selfsubjectreview-v1" }),
    pods: () => Promise.resolve(17),
    ...over,
  };
}

Deno.test("kube checks: all answer → four OK lines with what answered", async () => {
  const r = await kubeChecks(kube(), signal);
  assert.deepEqual(r.map((c) => c.detail), [
    "/var/lib/kubelet/kubeconfig (from kubelet-cmdline)",
    "https://api.example:6443 (v1.31.4)",
    "worker-1 (from selfsubjectreview-v1)",
    "17 pods on worker-1",
  ]);
  assert.ok(r.every((c) => c.status === "OK"));
});

Deno.test("kube checks: no kubeconfig warns and the rest are not checked", async () => {
  const r = await kubeChecks(kube({ kubeconfig: () => Promise.resolve(undefined) }), signal);
  assert.deepEqual(summary(r), [
    "WARN kubeconfig",
    "WARN API server",
    "WARN node identity",
    "WARN pod list",
  ]);
  assert.match(r[0].fix, /--kubeconfig PATH/);
  assert.equal(r[1].detail, "not checked: no kubeconfig");
});

Deno.test("kube checks: an API failure fails once and names the kubeconfig in the fix", async () => {
  const r = await kubeChecks(
    kube({ apiServer: () => Promise.reject(new Error("https://api:6443: connection refused")) }),
    signal,
  );
  assert.deepEqual(summary(r), [
    "OK kubeconfig",
    "FAIL API server",
    "WARN node identity",
    "WARN pod list",
  ]);
  assert.equal(r[1].detail, "https://api:6443: connection refused");
  assert.match(r[1].fix, /\/var\/lib\/kubelet\/kubeconfig/);
});

Deno.test("kube checks: a forbidden pod list fails with the node-credentials fix", async () => {
  const r = await kubeChecks(
    kube({ pods: () => Promise.reject(new Error("GET /api/v1/pods: 403 pods is forbidden")) }),
    signal,
  );
  assert.equal(r[3].status, "FAIL");
  assert.match(r[3].fix, /system:node:<name>/);
});

function storage(calls: string[], over: Partial<StoragePeer> = {}): StoragePeer {
  return {
    credentials: () =>
      Promise.resolve({ file: "/var/lib/kubelet/config.json", target: "s3://b/base" }),
    reach: () => {
      calls.push("reach");
      return Promise.resolve("bucket b answered");
    },
    writeTest: () => {
      calls.push("write");
      return Promise.resolve("put and deleted s3://b/base/.doctor");
    },
    ...over,
  };
}

const dirOk = () => Promise.resolve("coverage-data exists");

Deno.test("storage: S3 with --write-test checks credentials, reach and write in turn", async () => {
  const calls: string[] = [];
  const r = await storageChecks({ sink: "auto", outputDir: "x" }, storage(calls), {
    writeTest: true,
    signal,
  });
  assert.deepEqual(summary(r), ["OK S3 credentials", "OK S3 reach", "OK S3 write"]);
  assert.deepEqual(calls, ["reach", "write"]);
  const noWrite: string[] = [];
  const r2 = await storageChecks({ sink: "s3", outputDir: "x" }, storage(noWrite), {
    writeTest: false,
    signal,
  });
  assert.deepEqual(noWrite, ["reach"]);
  assert.match(r2[1].detail, /writes not tried: --write-test/);
});

Deno.test("storage: without credentials auto warns and checks the dir; s3 fails", async () => {
  const absent = "no S3 credentials found; tried: /var/lib/kubelet/config.json (absent)";
  const none = storage([], { credentials: () => Promise.resolve({ absent }) });
  const auto = await storageChecks({ sink: "auto", outputDir: "x" }, none, {
    writeTest: false,
    signal,
    probeDir: dirOk,
  });
  assert.deepEqual(summary(auto), ["WARN S3 credentials", "OK output dir"]);
  const s3 = await storageChecks({ sink: "s3", outputDir: "x" }, none, {
    writeTest: false,
    signal,
  });
  assert.deepEqual(summary(s3), ["FAIL S3 credentials"]);
  assert.equal(s3[0].detail, `${absent} (--sink s3 needs them)`);
  assert.equal(auto[0].detail, `${absent}: coverage goes to the output dir`);
});

Deno.test("storage: an unreachable bucket fails and no write is tried", async () => {
  const calls: string[] = [];
  const r = await storageChecks(
    { sink: "s3", outputDir: "x" },
    storage(calls, { reach: () => Promise.reject(new Error("s3://b: 403 AccessDenied")) }),
    { writeTest: true, signal },
  );
  assert.deepEqual(summary(r), ["OK S3 credentials", "FAIL S3 reach"]);
  assert.deepEqual(calls, []);
});

Deno.test("storage: S3 reach fix names the keys on a refusal, the endpoint without an answer", async () => {
  const reachFix = async (message: string) => {
    const probes = storage([], { reach: () => Promise.reject(new Error(message)) });
    const r = await storageChecks({ sink: "s3", outputDir: "x" }, probes, {
      writeTest: false,
      signal,
    });
    assert.equal(r[1].detail, message);
    return r[1].fix;
  };
  assert.match(
    await reachFix("S3 GET http://s3/b/ answered 403 SignatureDoesNotMatch: a configuration fault"),
    /the keys in the auth entry/,
  );
  assert.match(
    await reachFix("S3 GET http://s3/b/ failed: fetch failed: Connection refused (after 1 tries)"),
    /--s3-endpoint .* is reachable from this node/,
  );
});

Deno.test("storage: the dir sink probes the real directory, writing only with --write-test", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [exists] = await storageChecks({ sink: "dir", outputDir: dir }, undefined, {
      writeTest: false,
      signal,
    });
    assert.deepEqual([exists.status, exists.detail], ["OK", `${dir} exists`]);
    const [w] = await storageChecks({ sink: "dir", outputDir: dir }, undefined, {
      writeTest: true,
      signal,
    });
    assert.deepEqual([w.status, w.detail], ["OK", `${dir} is writable`]);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const [gone] = await storageChecks(
      { sink: "dir", outputDir: `${dir}/no/such` },
      undefined,
      { writeTest: false, signal },
    );
    assert.equal(gone.status, "FAIL");
    assert.match(gone.detail, /no\/such does not exist and neither does .*\/no$/);
    const [made] = await storageChecks({ sink: "dir", outputDir: `${dir}/new` }, undefined, {
      writeTest: false,
      signal,
    });
    assert.deepEqual([made.status, made.detail], ["OK", `${dir}/new will be made in ${dir}`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
