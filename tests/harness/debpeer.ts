/**
 * Debian programs the real-node tier runs but must not install: their packages are fetched with
 * `apt-get download` and unpacked with `dpkg -x` into the peer cache, so neither dpkg's database
 * nor the host's /etc changes (skopeo's package would bring /etc/containers with it).
 */

import { join } from "node:path";
import { cacheDir } from "./cache.ts";

/** skopeo puts the tier's OCI tars into CRI-O's storage; libgpgme11 is the one library it lacks. */
export const SKOPEO_DEBS = ["skopeo", "libgpgme11"] as const;

/** An unpacked Debian program and the library folder it needs on LD_LIBRARY_PATH. */
export interface DebProgram {
  bin: string;
  libDir: string;
}

const decoder = new TextDecoder();

/**
 * Where skopeo lives once unpacked (it may not exist yet).
 * @example skopeoPaths().bin // ".../peers/skopeo-deb/root/usr/bin/skopeo"
 */
export function skopeoPaths(): DebProgram {
  const root = join(cacheDir(), "peers", "skopeo-deb", "root");
  return { bin: join(root, "usr/bin/skopeo"), libDir: join(root, "usr/lib/x86_64-linux-gnu") };
}

async function cmd(name: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(name, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = decoder.decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${name} ${args.join(" ")} failed: ${err || `exit ${out.code}`}`);
  }
}

/**
 * skopeo unpacked into the cache (fetched once with apt-get download when missing).
 * Throws with the reason when apt-get cannot fetch it.
 * @example const { bin, libDir } = await ensureSkopeo();
 */
export async function ensureSkopeo(
  log: (line: string) => void = (l) => console.error(l),
): Promise<DebProgram> {
  const p = skopeoPaths();
  try {
    if (Deno.statSync(p.bin).isFile) return p;
  } catch { /* not unpacked yet */ }
  const base = join(cacheDir(), "peers");
  await Deno.mkdir(base, { recursive: true });
  const work = await Deno.makeTempDir({ dir: base, prefix: "skopeo-deb.tmp-" });
  try {
    log(`peers: fetching ${SKOPEO_DEBS.join(" ")} with apt-get download (unpacked, not installed)`);
    const debs = join(work, "debs");
    await Deno.mkdir(debs);
    await cmd("apt-get", ["download", "-qq", ...SKOPEO_DEBS], debs).catch(async () => {
      await cmd("apt-get", ["update", "-qq"], debs);
      await cmd("apt-get", ["download", "-qq", ...SKOPEO_DEBS], debs);
    });
    for (const e of Deno.readDirSync(debs)) {
      if (e.name.endsWith(".deb")) {
        await cmd("dpkg", ["-x", join(debs, e.name), join(work, "root")], work);
      }
    }
    await Deno.remove(debs, { recursive: true });
    await Deno.remove(join(base, "skopeo-deb"), { recursive: true }).catch(() => {});
    await Deno.rename(work, join(base, "skopeo-deb"));
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return p;
}
