import assert from "node:assert/strict";
import { ConfigError, envName, loadConfig, type SettingKey, SETTINGS } from "./config.ts";

Deno.test("defaults: every setting has a default that parses", () => {
  const c = loadConfig({}, {});
  assert.equal(c.hostRoot, "/");
  assert.equal(c.portStart, 53700);
  assert.equal(c.portSpan, 100);
  assert.equal(c.scanInterval, 10_000);
  assert.equal(c.sink, "auto");
  assert.deepEqual(c.healthAddr, { hostname: "127.0.0.1", port: 9797 });
  assert.equal(c.shutdownTimeout, 10_000);
  assert.equal(c.kubeInsecure, false);
  assert.equal(c.pullSchedule.length, 3);
});

Deno.test("precedence: flag over environment over default", () => {
  const env = { [envName("portStart")]: "54000", [envName("logLevel")]: "debug" };
  const c = loadConfig({ "port-start": "55000" }, env);
  assert.equal(c.portStart, 55000, "flag wins over env");
  assert.equal(c.logLevel, "debug", "env wins over default");
  assert.equal(c.scanInterval, 10_000, "default when neither");
});

Deno.test("environment names are COVERAGE_COLLECTOR_<FLAG>", () => {
  assert.equal(envName("portStart"), "COVERAGE_COLLECTOR_PORT_START");
  assert.equal(envName("hostRoot"), "COVERAGE_COLLECTOR_HOST_ROOT");
  assert.equal(loadConfig({}, { COVERAGE_COLLECTOR_HOST_ROOT: "/host" }).hostRoot, "/host");
});

Deno.test("boolean settings come from a bare flag or an env value", () => {
  assert.equal(loadConfig({ "kube-insecure": true }, {}).kubeInsecure, true);
  assert.equal(loadConfig({}, { COVERAGE_COLLECTOR_KUBE_INSECURE: "yes" }).kubeInsecure, true);
  assert.equal(loadConfig({}, { COVERAGE_COLLECTOR_KUBE_INSECURE: "0" }).kubeInsecure, false);
});

/** One bad value per setting that can be wrong: the error names the flag or variable and value. */
const BAD: Partial<Record<SettingKey, string>> = {
  hostRoot: " ",
  kubeconfigWait: "soon",
  kubeInsecure: "maybe",
  crictl: "",
  crictlTimeout: "1ms",
  portStart: "70000",
  portSpan: "0",
  scanInterval: "100ms",
  pullSchedule: "1s@10s",
  storeRefresh: "soon",
  probeTimeout: "x",
  pullTimeout: "never",
  maxBody: "12",
  maxPulls: "0",
  pullMemory: "1KiB",
  sink: "ftp",
  outputDir: "",
  stateDir: "",
  spoolMax: "a lot",
  s3PathStyle: "perhaps",
  healthAddr: "localhost",
  shutdownTimeout: "later",
  logLevel: "loud",
  logFormat: "xml",
};

for (const [key, value] of Object.entries(BAD) as [SettingKey, string][]) {
  const flag = SETTINGS[key].flag;
  Deno.test(`a bad --${flag} is rejected naming the flag and value`, () => {
    assert.throws(
      () => loadConfig({ [flag]: value }, {}),
      (e: unknown) =>
        e instanceof ConfigError && e.message.includes(`flag --${flag}`) &&
        (value.trim() === "" || e.message.includes(value)),
    );
  });
  Deno.test(`a bad ${envName(key)} is rejected naming the variable`, () => {
    assert.throws(
      () => loadConfig({}, { [envName(key)]: value }),
      (e: unknown) =>
        e instanceof ConfigError && e.message.includes(`environment variable ${envName(key)}`),
    );
  });
}

Deno.test("cross-field checks: port range end, path style without endpoint, endpoint URL", () => {
  assert.throws(
    () => loadConfig({ "port-start": "65500", "port-span": "100" }, {}),
    /--port-start 65500 with --port-span 100 goes past port 65535/,
  );
  assert.throws(() => loadConfig({ "s3-path-style": true }, {}), /needs --s3-endpoint/);
  assert.throws(
    () => loadConfig({ "s3-endpoint": "minio:9000" }, {}),
    /--s3-endpoint "minio:9000" is not an http\(s\) URL/,
  );
  const ok = loadConfig({ "s3-endpoint": "http://127.0.0.1:9000", "s3-path-style": true }, {});
  assert.equal(ok.s3PathStyle, true);
});

Deno.test("every problem is reported at once", () => {
  assert.throws(
    () => loadConfig({ sink: "ftp" }, { COVERAGE_COLLECTOR_LOG_LEVEL: "loud" }),
    (e: Error) =>
      e.message.includes("--sink") && e.message.includes("COVERAGE_COLLECTOR_LOG_LEVEL"),
  );
});

Deno.test("health address accepts IPv6 in brackets", () => {
  assert.deepEqual(loadConfig({ "health-addr": "[::1]:0" }, {}).healthAddr, {
    hostname: "::1",
    port: 0,
  });
});
