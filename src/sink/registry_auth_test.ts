import assert from "node:assert/strict";
import { join } from "node:path";
import { createSystem } from "../system.ts";
import { sampleText } from "../../tests/testdata/samples.ts";
import {
  CREDENTIAL_FILES,
  CredentialsError,
  describeCredentials,
  findCredentials,
  parseAuthFile,
} from "./registry_auth.ts";

const SECRET = "s3cr3t-Secret-Key-never-shown";
const GOOD = {
  service: "s3",
  s3: {
    accessKey: "AKIATEST",
    secretKey: SECRET,
    bucket: "cov-bucket",
    region: "eu-west-1",
    s3BasePath: "ci/cluster-1",
  },
};

const b64 = (s: string) => btoa(s);
const authOf = (payload: unknown) => b64("coverage:" + b64(JSON.stringify(payload)));
const fileWith = (entry: string, auth: string) =>
  JSON.stringify({ auths: { "quay.io": { auth: b64("a:b") }, [entry]: { auth } } });

async function hostWith(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "creds-test-" });
  for (const [path, text] of Object.entries(files)) {
    const real = join(root, path);
    await Deno.mkdir(join(real, ".."), { recursive: true });
    await Deno.writeTextFile(real, text);
  }
  return root;
}

async function failure(files: Record<string, string>, file = ""): Promise<string> {
  const root = await hostWith(files);
  try {
    const err = await findCredentials(createSystem(root), file).then(
      () => assert.fail("expected a CredentialsError"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CredentialsError, String(err));
    assert(!err.message.includes(SECRET), "secret leaked into the message");
    return err.message;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("the shipped sample decodes to S3 settings", () => {
  const text = sampleText("registry-config.json");
  const c = parseAuthFile(text, "/var/lib/kubelet/config.json");
  assert.deepEqual(c?.bucket, "example-coverage");
  assert.deepEqual(c?.region, "us-east-1");
  assert.deepEqual(c?.s3BasePath, "openshift-ci/coverage/cluster-x");
  assert.deepEqual(c?.entry, "cluster-code-coverage.openshift.io");
});

for (const entry of ["cluster-code-coverage.openshift.io", "cluster-code-coverage.io"]) {
  Deno.test(`entry ${entry} is accepted`, async () => {
    const root = await hostWith({ "/root/.docker/config.json": fileWith(entry, authOf(GOOD)) });
    try {
      const c = await findCredentials(createSystem(root));
      assert.deepEqual(c.entry, entry);
      assert.deepEqual(c.file, "/root/.docker/config.json");
      assert.deepEqual(c.secretKey, SECRET);
      assert.deepEqual(describeCredentials(c), {
        file: "/root/.docker/config.json",
        entry,
        bucket: "cov-bucket",
        region: "eu-west-1",
        basePath: "ci/cluster-1",
      });
      assert(!JSON.stringify(describeCredentials(c)).includes(SECRET));
      assert(!JSON.stringify(describeCredentials(c)).includes("AKIATEST"));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("the first file with an entry wins; files without one or unparsable are skipped", async () => {
  const other = { ...GOOD, s3: { ...GOOD.s3, bucket: "second" } };
  const root = await hostWith({
    "/var/lib/kubelet/config.json": JSON.stringify({ auths: { "quay.io": { auth: b64("a:b") } } }),
    "/root/.docker/config.json": "{not json",
    "/run/containers/0/auth.json": fileWith("cluster-code-coverage.io", authOf(GOOD)),
    "/root/.config/containers/auth.json": fileWith("cluster-code-coverage.io", authOf(other)),
  });
  try {
    const c = await findCredentials(createSystem(root));
    assert.deepEqual(c.file, "/run/containers/0/auth.json");
    assert.deepEqual(c.bucket, "cov-bucket");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the kubelet file comes before the docker file", async () => {
  const other = { ...GOOD, s3: { ...GOOD.s3, bucket: "docker" } };
  const root = await hostWith({
    "/var/lib/kubelet/config.json": fileWith("cluster-code-coverage.io", authOf(GOOD)),
    "/root/.docker/config.json": fileWith("cluster-code-coverage.openshift.io", authOf(other)),
  });
  try {
    assert.deepEqual((await findCredentials(createSystem(root))).bucket, "cov-bucket");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a configured credentials file is the only one read", async () => {
  const root = await hostWith({
    "/var/lib/kubelet/config.json": fileWith("cluster-code-coverage.io", authOf(GOOD)),
    "/etc/cov/auth.json": fileWith(
      "cluster-code-coverage.io",
      authOf({ ...GOOD, s3: { ...GOOD.s3, bucket: "configured" } }),
    ),
  });
  try {
    const c = await findCredentials(createSystem(root), "/etc/cov/auth.json");
    assert.deepEqual(c.bucket, "configured");
    assert.deepEqual(c.file, "/etc/cov/auth.json");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("no file: the message lists every path tried", async () => {
  const msg = await failure({});
  for (const f of CREDENTIAL_FILES) assert(msg.includes(f), `${f} missing from: ${msg}`);
  assert(msg.includes("absent"), msg);
});

Deno.test("a configured file that is absent is named", async () => {
  const msg = await failure({}, "/etc/none.json");
  assert(msg.includes("/etc/none.json (absent)"), msg);
  assert(!msg.includes("/var/lib/kubelet"), msg);
});

Deno.test("a configured file that is not JSON is named", async () => {
  const msg = await failure({ "/etc/a.json": "{" }, "/etc/a.json");
  assert(msg.startsWith("/etc/a.json: not JSON"), msg);
});

Deno.test("no entry: says which entries were looked for", async () => {
  const msg = await failure({ "/etc/a.json": fileWith("quay.io", b64("a:b")) }, "/etc/a.json");
  assert(msg.includes('/etc/a.json (no entry "cluster-code-coverage.openshift.io"'), msg);
});

const cases: Array<[string, string, RegExp]> = [
  ["bad outer base64", "%%%not-base64", /"auth" is not valid base64/],
  ["no colon", b64("coverage-without-colon"), /not "user:password"/],
  ["bad inner base64", b64("coverage:%%%"), /password part of "auth" is not valid base64/],
  ["bad JSON", b64("coverage:" + b64("{nope")), /password part of "auth" is not JSON/],
  ["service not s3", authOf({ ...GOOD, service: "gcs" }), /service is "gcs", only "s3"/],
  [
    "missing secretKey",
    authOf({ service: "s3", s3: { ...GOOD.s3, secretKey: undefined } }),
    /missing or empty field s3\.secretKey/,
  ],
  [
    "empty bucket",
    authOf({ service: "s3", s3: { ...GOOD.s3, bucket: "" } }),
    /missing or empty field s3\.bucket/,
  ],
  ["no s3 object", authOf({ service: "s3" }), /missing or empty field s3/],
];
for (const [name, auth, re] of cases) {
  Deno.test(`failure: ${name} names file and entry`, async () => {
    const msg = await failure({
      "/var/lib/kubelet/config.json": fileWith("cluster-code-coverage.openshift.io", auth),
    });
    assert(
      msg.startsWith('/var/lib/kubelet/config.json: entry "cluster-code-coverage.openshift.io"'),
      msg,
    );
    assert(re.test(msg), `${msg} does not match ${re}`);
  });
}

Deno.test("absent is set only when no file had an entry", async () => {
  const root = await hostWith({
    "/etc/broken.json": fileWith("cluster-code-coverage.io", authOf({ ...GOOD, service: "x" })),
  });
  try {
    const none = await findCredentials(createSystem(root)).catch((e: unknown) => e);
    assert.ok(none instanceof CredentialsError && none.absent, String(none));
    const broken = await findCredentials(createSystem(root), "/etc/broken.json").catch((
      e: unknown,
    ) => e);
    assert.ok(broken instanceof CredentialsError && !broken.absent, String(broken));
    assert.equal(broken.file, "/etc/broken.json");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
