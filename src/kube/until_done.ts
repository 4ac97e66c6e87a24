/** A stream that says when it is over. */

/**
 * `body`, calling `done` once when it ends, fails or is cancelled: a stream keeps its connection
 * pool in use until then.
 *
 * @example const tracked = untilDone(res.body!, () => pool.release());
 */
export function untilDone(
  body: ReadableStream<Uint8Array>,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const { value, done: end } = await reader.read();
        if (end) {
          done();
          c.close();
        } else c.enqueue(value);
      } catch (e) {
        done();
        c.error(e);
      }
    },
    async cancel(reason) {
      done();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
