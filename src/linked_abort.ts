/**
 * A signal that aborts when any of its sources does, linked by strong references.
 *
 * `AbortSignal.any()` is not that: its sources hold the signal it returns only weakly, and Deno
 * keeps it alive for a pending fetch only as long as something else references it. A fetch whose
 * signal nobody else holds (a watch stream, open for hours) loses its link to the shutdown after
 * the next full garbage collection, and then never ends on abort. Here each source holds, through
 * its abort listener, the controller of the signal, for as long as the link is not disposed.
 */

/** A linked signal, its own abort, and the removal of its listeners from the sources. */
export interface LinkedAbort {
  signal: AbortSignal;
  /** Aborts the linked signal (a timeout, an idle stream) and disposes the link. */
  abort(reason?: unknown): void;
  /** Removes the listeners from the sources; call it once the signal is no longer used. */
  dispose(): void;
}

/**
 * A signal aborted by the first of `sources` to abort (with its reason), or by `abort()`.
 *
 * @example
 * const link = linkedAbort([shutdown]);
 * try { await fetch(url, { signal: link.signal }); } finally { link.dispose(); }
 */
export function linkedAbort(sources: AbortSignal[]): LinkedAbort {
  const controller = new AbortController();
  const listening: Array<[AbortSignal, () => void]> = [];
  const dispose = () => {
    for (const [source, onAbort] of listening.splice(0)) {
      source.removeEventListener("abort", onAbort);
    }
  };
  const abort = (reason?: unknown) => {
    dispose();
    controller.abort(reason);
  };
  const already = sources.find((s) => s.aborted);
  if (already) abort(already.reason);
  else {
    for (const source of sources) {
      const onAbort = () => abort(source.reason);
      source.addEventListener("abort", onAbort, { once: true });
      listening.push([source, onAbort]);
    }
  }
  return { signal: controller.signal, abort, dispose };
}
