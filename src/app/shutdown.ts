/** Signals → one AbortController; a second signal exits at once. */

import type { Logger } from "../log.ts";

/**
 * A signal that repeats within this window is the same request delivered twice (`deno task`
 * forwards the terminal's SIGINT that the whole process group already got), not a second one.
 */
const SAME_SIGNAL_MS = 500;

/**
 * Aborts the returned signal on the first SIGINT/SIGTERM; on the second, calls `exitNow`
 * (default: exit 130 at once). Call `dispose` to remove the handlers.
 */
export function onShutdownSignals(
  log: Logger,
  exitNow: (code: number) => void = (code) => Deno.exit(code),
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let firstAt = 0;
  const handlers = signals.map((sig) => {
    const handler = () => {
      if (!controller.signal.aborted) {
        firstAt = performance.now();
        log.info("shutting down", { signal: sig });
        controller.abort(new Error(`received ${sig}`));
      } else if (performance.now() - firstAt < SAME_SIGNAL_MS) {
        log.debug("repeated signal ignored", { signal: sig });
      } else {
        log.warn("second signal: exiting at once", { signal: sig });
        exitNow(130);
      }
    };
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  return {
    signal: controller.signal,
    dispose: () => handlers.forEach(([sig, h]) => Deno.removeSignalListener(sig, h)),
  };
}

/** Resolves when `p` settles or the deadline passes; true when `p` finished in time. */
export async function withDeadline(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The parts whose work (final work, or their run after the stop) has not ended, by name: what
 * /status shows during a shutdown and what the deadline's warning names.
 *
 * @example
 * const left = new Unfinished();
 * left.track("kube", part.run(signal));
 * left.names() // ["kube"] until the run settles
 */
export class Unfinished {
  #left = new Map<string, number>();

  /** `p`, with `name` counted as unfinished until it settles. */
  track<T>(name: string, p: Promise<T>): Promise<T> {
    this.#left.set(name, (this.#left.get(name) ?? 0) + 1);
    const done = () => {
      const n = (this.#left.get(name) ?? 1) - 1;
      if (n > 0) this.#left.set(name, n);
      else this.#left.delete(name);
    };
    p.then(done, done);
    return p;
  }

  /** The names not finished yet, in the order they were first tracked. */
  names(): string[] {
    return [...this.#left.keys()];
  }
}
