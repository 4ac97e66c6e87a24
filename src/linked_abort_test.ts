import assert from "node:assert/strict";
import { linkedAbort } from "./linked_abort.ts";

Deno.test("linkedAbort: aborts with the first source's reason and removes its listeners", () => {
  const a = new AbortController();
  const b = new AbortController();
  const link = linkedAbort([a.signal, b.signal]);
  assert.equal(link.signal.aborted, false);
  const why = new Error("stop");
  b.abort(why);
  assert.equal(link.signal.aborted, true);
  assert.equal(link.signal.reason, why);
  a.abort(new Error("later"));
  assert.equal(link.signal.reason, why);
});

Deno.test("linkedAbort: an aborted source aborts it at once; abort() and dispose() end the link", () => {
  const done = new AbortController();
  done.abort(new Error("before"));
  assert.equal(linkedAbort([done.signal]).signal.aborted, true);
  const source = new AbortController();
  const own = linkedAbort([source.signal]);
  own.abort(new Error("idle"));
  assert.equal((own.signal.reason as Error).message, "idle");
  const gone = linkedAbort([source.signal]);
  gone.dispose();
  source.abort();
  assert.equal(gone.signal.aborted, false, "a disposed link no longer follows its source");
});
