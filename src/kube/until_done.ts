/** A stream that says when it is over, and is over when its signal aborts. */

/**
 * `body`, calling `done` once when it ends, fails, is cancelled or `signal` aborts: a stream
 * keeps its connection pool in use until then. On abort the stream fails with the signal's
 * reason and `body` is cancelled, whether or not the fetch behind it noticed the abort.
 *
 * @example const tracked = untilDone(res.body!, () => pool.release(), signal);
 */
export function untilDone(
  body: ReadableStream<Uint8Array>,
  done: () => void,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    signal?.removeEventListener("abort", onAbort);
    done();
  };
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const onAbort = () => {
    if (over) return;
    finish();
    controller?.error(signal?.reason);
    reader.cancel(signal?.reason).catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    },
    async pull(c) {
      try {
        const { value, done: end } = await reader.read();
        if (over) return;
        if (end) {
          finish();
          c.close();
        } else c.enqueue(value);
      } catch (e) {
        if (over) return;
        finish();
        c.error(e);
      }
    },
    async cancel(reason) {
      finish();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
