import assert from "node:assert/strict";
import { Secrets } from "./secrets.ts";

Deno.test("known secrets are masked wherever they appear; short values are not tracked", () => {
  const s = new Secrets();
  s.add("tok-1234567890");
  s.add("t");
  s.add(undefined);
  s.add(
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDx1line1xx\nAwEHoUQDQgline2xx\n-----END EC PRIVATE KEY-----\n",
  );
  assert.equal(
    s.redact("401: Bearer tok-1234567890, again tok-1234567890"),
    "401: Bearer [redacted], again [redacted]",
  );
  assert.equal(s.redact("bad key line MHcCAQEEIDx1line1xx"), "bad key line [redacted]");
  assert.equal(s.redact("a t in text"), "a t in text");
  assert.equal(s.redact("-----BEGIN EC PRIVATE KEY-----"), "-----BEGIN EC PRIVATE KEY-----");
});
