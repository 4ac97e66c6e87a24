/**
 * The tier's two images, one builder for every real node: the pause and `-cover` covserver
 * fixtures built static, written as OCI archives (oci.ts), or imported into a containerd.
 */

import { join } from "node:path";
import { buildGo, repoRoot } from "../gobuild.ts";
import { run } from "../netns.ts";
import { ociImageTar } from "./oci.ts";

export const PAUSE_IMAGE = "docker.io/ccpeers/pause:1";
export const COVSERVER_IMAGE = "docker.io/ccpeers/covserver:1";
/** The source labels of the covserver image (OpenShift build labels: src/cri/image_source.ts). */
export const COVSERVER_IMAGE_LABELS = {
  "io.openshift.build.source-location": "https://github.com/ccpeers/covserver",
  "io.openshift.build.commit.id": "5e0fa1c0ffee5e0fa1c0ffee5e0fa1c0ffee5e0f",
};

/** The built programs of the two images. */
export interface TierBinaries {
  pause: string;
  cov: string;
}

/** An image as an OCI archive and the reference it gets. */
export interface TierImage {
  tar: string;
  ref: string;
}

/** Builds pause (no coverage) and covserver (`-cover`), both static. */
export async function buildTierBinaries(): Promise<TierBinaries> {
  const [pause, cov] = await Promise.all([
    buildGo({
      dir: join(repoRoot, "tests/fixtures/pause"),
      name: "pause",
      cover: false,
      static: true,
    }),
    buildGo({
      dir: join(repoRoot, "tests/fixtures/covserver"),
      name: "covserver",
      cover: true,
      static: true,
    }),
  ]);
  return { pause, cov };
}

/** Writes both images as OCI archives into `dir` (`<name>-<tag>.tar`); the caller removes them. */
export async function writeTierImages(dir: string, b: TierBinaries): Promise<TierImage[]> {
  const images: TierImage[] = [];
  for (
    const [ref, files, entry, labels] of [
      [PAUSE_IMAGE, { pause: await Deno.readFile(b.pause) }, ["/pause"], undefined],
      [
        COVSERVER_IMAGE,
        { covserver: await Deno.readFile(b.cov) },
        ["/covserver"],
        COVSERVER_IMAGE_LABELS,
      ],
    ] as const
  ) {
    const tar = join(dir, `${ref.split("/").at(-1)!.replace(":", "-")}.tar`);
    await Deno.writeFile(tar, ociImageTar({ ref, files, entrypoint: [...entry], labels }));
    images.push({ tar, ref });
  }
  return images;
}

/** Imports both images into the containerd at `socket` (namespace k8s.io), via archives in `dir`. */
export async function importTierImages(
  socket: string,
  dir: string,
  b: TierBinaries,
): Promise<void> {
  for (const i of await writeTierImages(dir, b)) {
    await run("ctr", ["-a", socket, "-n", "k8s.io", "images", "import", i.tar]);
    await Deno.remove(i.tar);
  }
}
