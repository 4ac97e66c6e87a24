import assert from "node:assert/strict";
import { refusalScope } from "./s3_refusal.ts";

Deno.test("credentials, bucket, region and policy refusals are the whole store's", () => {
  for (
    const [status, code] of [
      [401, undefined],
      [403, "AccessDenied"],
      [403, "SignatureDoesNotMatch"],
      [404, "NoSuchBucket"],
      [400, "AuthorizationHeaderMalformed"],
      [400, "InvalidBucketName"],
      [405, "MethodNotAllowed"],
      [301, "PermanentRedirect"],
    ] as const
  ) {
    assert.equal(refusalScope(status, code), "store", `${status} ${code}`);
  }
});

Deno.test("a 4xx about the object itself is the key's: too long, a name the store cannot hold", () => {
  for (
    const [status, code] of [
      [400, "KeyTooLongError"],
      [409, "ExistingObjectIsDirectory"],
      [400, "InvalidArgument"],
      [413, "EntityTooLarge"],
      [400, undefined],
    ] as const
  ) {
    assert.equal(refusalScope(status, code), "key", `${status} ${code}`);
  }
});
