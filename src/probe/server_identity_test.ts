import assert from "node:assert/strict";
import { IdentityError, parseIdentity, sameIdentity } from "./server_identity.ts";

Deno.test("identity headers: binary, pid and every extra header generically", () => {
  const id = parseIdentity(
    new Headers({
      "X-Art-Coverage-Server": "1",
      "X-Art-Coverage-Pid": "1",
      "X-Art-Coverage-Binary": "kube-apiserver",
      "X-Art-Coverage-Source-Commit": "abc123",
      "X-Art-Coverage-Software-Group": "openshift-4.19",
      "X-Art-Coverage-New-Thing": "x",
      "Content-Type": "text/plain",
    }),
  );
  assert.deepEqual(id, {
    binary: "kube-apiserver",
    pid: 1,
    extra: { source_commit: "abc123", software_group: "openshift-4.19", new_thing: "x" },
  });
});

Deno.test("a response without X-Art-Coverage-Server: 1 is not a coverage server", () => {
  assert.equal(parseIdentity(new Headers({ "content-type": "text/html" })), null);
  assert.equal(parseIdentity(new Headers({ "x-art-coverage-server": "0" })), null);
});

Deno.test("a coverage server with a bad pid or no binary is an IdentityError", () => {
  const base = { "x-art-coverage-server": "1", "x-art-coverage-binary": "b" };
  assert.throws(
    () => parseIdentity(new Headers({ ...base, "x-art-coverage-pid": "12a" })),
    IdentityError,
  );
  assert.throws(
    () => parseIdentity(new Headers({ "x-art-coverage-server": "1", "x-art-coverage-pid": "7" })),
    /Binary is missing/,
  );
  assert.ok(sameIdentity({ binary: "a", pid: 1, extra: {} }, { binary: "a", pid: 1, extra: {} }));
  assert.ok(!sameIdentity({ binary: "a", pid: 1, extra: {} }, { binary: "b", pid: 1, extra: {} }));
});
