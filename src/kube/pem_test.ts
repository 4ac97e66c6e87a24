import assert from "node:assert/strict";
import { DerError, pemBlocks, readDer, subjectCommonName } from "./pem.ts";

const dir = new URL("../../tests/testdata/kube/", import.meta.url);
const nodeCert = Deno.readTextFileSync(new URL("node-client-cert.pem", dir));
const noCn = Deno.readTextFileSync(new URL("no-cn-cert.pem", dir));

Deno.test("pemBlocks finds a certificate and a key in one text, in order", () => {
  const key = "-----BEGIN EC PRIVATE KEY-----\nAAEC\n-----END EC PRIVATE KEY-----\n";
  const blocks = pemBlocks(nodeCert + key);
  assert.deepEqual(blocks.map((b) => b.label), ["CERTIFICATE", "EC PRIVATE KEY"]);
  assert.deepEqual([...blocks[1].der], [0, 1, 2]);
  assert.deepEqual(blocks[1].text, key);
});

Deno.test("subjectCommonName reads CN=system:node:<name> of a kubelet client certificate", () => {
  assert.deepEqual(subjectCommonName(pemBlocks(nodeCert)[0].der), "system:node:worker-1");
});

Deno.test("subjectCommonName is undefined for a subject without CN", () => {
  assert.deepEqual(subjectCommonName(pemBlocks(noCn)[0].der), undefined);
});

Deno.test("readDer reads short and long lengths", () => {
  assert.deepEqual(readDer(new Uint8Array([0x02, 0x01, 0x05])).size, 3);
  const long = new Uint8Array([0x04, 0x81, 0x80, ...new Uint8Array(0x80)]);
  assert.deepEqual(readDer(long).content.length, 0x80);
});

Deno.test("readDer and subjectCommonName reject truncated or foreign input", () => {
  assert.throws(() => readDer(new Uint8Array([0x30, 0x05, 0x01])), {
    name: "DerError",
    message: /claims 5 bytes/,
  });
  assert.throws(() => subjectCommonName(new Uint8Array([0x02, 0x01, 0x00])), {
    name: "DerError",
    message: /Certificate/,
  });
  const der = pemBlocks(nodeCert)[0].der;
  assert.throws(() => subjectCommonName(der.subarray(0, der.length - 10)), DerError);
});
