/**
 * OCI image layouts written by hand (no registry, no image tool): one uncompressed layer holding
 * the given files, one config with an Entrypoint (and Labels, if any), an index.json naming the image, all in one tar
 * that `ctr images import` accepts.
 */

import { createHash } from "node:crypto";
import { tar, type TarEntry } from "./tar.ts";

const enc = new TextEncoder();

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** What goes into an image. */
export interface ImageSpec {
  /** Full reference, e.g. `docker.io/ccpeers/covserver:1`. */
  ref: string;
  /** Files by path under the image root (folders made for them): path → content (mode 0755). */
  files: Record<string, Uint8Array>;
  entrypoint: string[];
  env?: string[];
  /** The image config's WorkingDir. */
  workingDir?: string;
  /** The image config's Labels (what `crictl inspecti` shows under info.imageSpec.config). */
  labels?: Record<string, string>;
}

/**
 * An OCI image layout as one tar (for `ctr -n k8s.io images import`).
 * @example
 * const t = ociImageTar({ ref: "docker.io/ccpeers/pause:1", files: { pause: bin }, entrypoint: ["/pause"] });
 */
export function ociImageTar(spec: ImageSpec): Uint8Array {
  const layerEntries: TarEntry[] = ["etc", "tmp", "proc", "sys", "dev", "run"].map((p) => ({
    path: p,
    mode: p === "tmp" ? 0o1777 : 0o755,
  }));
  const dirs = new Set(layerEntries.map((e) => e.path));
  for (const [name, data] of Object.entries(spec.files)) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!dirs.has(d)) layerEntries.push({ path: d, mode: 0o755 });
      dirs.add(d);
    }
    layerEntries.push({ path: name, data, mode: 0o755 });
  }
  const layer = tar(layerEntries);
  const layerDigest = sha256(layer);
  const config = enc.encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: {
      Entrypoint: spec.entrypoint,
      Env: spec.env ?? ["PATH=/"],
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(spec.labels ? { Labels: spec.labels } : {}),
    },
    rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
  }));
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${sha256(config)}`,
      size: config.length,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: `sha256:${layerDigest}`,
      size: layer.length,
    }],
  }));
  const tag = spec.ref.slice(spec.ref.lastIndexOf(":") + 1);
  const index = enc.encode(JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: `sha256:${sha256(manifest)}`,
      size: manifest.length,
      platform: { architecture: "amd64", os: "linux" },
      annotations: {
        "io.containerd.image.name": spec.ref,
        "org.opencontainers.image.ref.name": tag,
      },
    }],
  }));
  const blob = (d: Uint8Array): TarEntry => ({ path: `blobs/sha256/${sha256(d)}`, data: d });
  return tar([
    { path: "oci-layout", data: enc.encode('{"imageLayoutVersion":"1.0.0"}') },
    { path: "index.json", data: index },
    { path: "blobs" },
    { path: "blobs/sha256" },
    blob(manifest),
    blob(config),
    blob(layer),
  ]);
}
