import assert from "node:assert/strict";
import { ConnectionPools } from "./pools.ts";

Deno.test("ConnectionPools.close: a pool still in use closes after its last user, not before", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const pools = new ConnectionPools(Deno.createHttpClient({}));
  const { http, release } = pools.take();
  pools.close();
  assert.equal(pools.open, 1, "the pool in use stays open");
  const res = await fetch(url, { client: http });
  assert.equal(await res.text(), "ok", "a request of the stream's pool still works");
  release();
  assert.equal(pools.open, 0, "closed after its last user");
  await assert.rejects(fetch(url, { client: http }));
});

Deno.test("ConnectionPools.close: an idle pool closes at once", () => {
  const pools = new ConnectionPools(Deno.createHttpClient({}));
  pools.take().release();
  pools.close();
  assert.equal(pools.open, 0);
});
