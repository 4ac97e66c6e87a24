/**
 * Where an image's code came from, by its labels (`io.openshift.build.source-location` and
 * `io.openshift.build.commit.id`, set by OpenShift builds and many CI pipelines): asked of
 * `crictl inspecti` once per image and kept in a bounded cache, failures included (an image
 * without the labels, or one crictl cannot inspect, is not asked again).
 */

import type { InspectiOutput } from "./schemas.ts";

export const SOURCE_URL_LABEL = "io.openshift.build.source-location";
export const SOURCE_COMMIT_LABEL = "io.openshift.build.commit.id";

/** Longest source URL taken from a label; a longer value is left out. */
export const MAX_SOURCE_URL = 2048;
/** Longest commit taken from a label (a SHA-256 commit ID is 64 hex digits). */
export const MAX_SOURCE_COMMIT = 128;

/** What an image's labels say about its source; each part only when present and sane. */
/** An image reference or ID fit to pass to crictl: no flag (`-...`), no space or control. */
const IMAGE_ARG = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,1023}$/;

export interface ImageSource {
  url?: string;
  commit?: string;
}

function sane(v: unknown, max: number): string | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  // deno-lint-ignore no-control-regex
  if (t === "" || t.length > max || /[\x00-\x1f\x7f\s]/.test(t)) return undefined;
  return t;
}

/**
 * The source facts of an `inspecti` answer (image config labels first, then CRI-O's `labels`).
 *
 * @example imageSourceOf({ status: { id: "sha256:1" }, info: { imageSpec: { config: { Labels: { "io.openshift.build.commit.id": "ab12" } } } } }) // { commit: "ab12" }
 */
export function imageSourceOf(out: InspectiOutput): ImageSource {
  const labels = { ...out.info?.labels, ...out.info?.imageSpec?.config?.Labels };
  const src: ImageSource = {};
  const url = sane(labels[SOURCE_URL_LABEL], MAX_SOURCE_URL);
  const commit = sane(labels[SOURCE_COMMIT_LABEL], MAX_SOURCE_COMMIT);
  if (url !== undefined) src.url = url;
  if (commit !== undefined) src.commit = commit;
  return src;
}

/**
 * The source of each image, one `inspecti` per image (concurrent asks share it).
 *
 * @example const sources = new ImageSources(crictl); (await sources.of("sha256:ab", signal)).commit
 */
export class ImageSources {
  #byImage = new Map<string, Promise<ImageSource>>();

  constructor(
    readonly crictl: { inspecti(image: string, signal?: AbortSignal): Promise<InspectiOutput> },
    readonly opts: { max?: number; onError?: (image: string, error: unknown) => void } = {},
  ) {}

  get size(): number {
    return this.#byImage.size;
  }

  /** The image's source ({} when it has none, or crictl could not say; never throws). An image
   * that is not a plain reference (a leading `-` would be a crictl flag) is not asked about. */
  of(image: string, signal?: AbortSignal): Promise<ImageSource> {
    if (!IMAGE_ARG.test(image)) return Promise.resolve({});
    const hit = this.#byImage.get(image);
    if (hit) return hit;
    const ask = this.crictl.inspecti(image, signal).then(imageSourceOf, (e) => {
      // An aborted ask says nothing about the image: the next one runs again.
      if (signal?.aborted) this.#byImage.delete(image);
      else this.opts.onError?.(image, e);
      return {};
    });
    this.#byImage.set(image, ask);
    if (this.#byImage.size > (this.opts.max ?? 1024)) {
      this.#byImage.delete(this.#byImage.keys().next().value!);
    }
    return ask;
  }
}
