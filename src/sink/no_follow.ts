/**
 * Writing under a directory without following a symlink planted in it. Deno has no O_NOFOLLOW
 * nor openat, so every component under the base is checked with lstat before it is used and
 * again after it is made; temp files are made with O_EXCL (which never follows a link) and
 * renamed (which replaces a link, never writes through it). The base itself is the operator's
 * (it may be a symlink they made). Residual: between a check and the use, someone who may write
 * in one of our 0700 directories (root, or our own user) could swap a directory for a link;
 * nobody else can.
 */

import { join } from "node:path";

/** Mode of every directory we make (no reliance on the umask). */
export const DIR_MODE = 0o700;
/** Mode of every file we make. */
export const FILE_MODE = 0o600;

/** A path under a sink's base is a symlink or not what it must be: nothing was written there. */
export class UnsafePathError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}; refusing to write through it`);
    this.name = "UnsafePathError";
  }
}

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function mustBeDir(path: string, info: Deno.FileInfo): void {
  if (info.isSymlink) throw new UnsafePathError(path, "is a symlink");
  if (!info.isDirectory) throw new UnsafePathError(path, "is not a directory");
}

/**
 * Makes `base/segments...` (mode 0700 for what it makes), refusing a symlink or a non-directory
 * at any component under `base`; returns the directory's path.
 *
 * @example await ensureDirUnder("/data/out", ["node1", "ns", "pod"]) // "/data/out/node1/ns/pod"
 */
export async function ensureDirUnder(base: string, segments: string[]): Promise<string> {
  if (await lstatOrNull(base) === null) await Deno.mkdir(base, { recursive: true, mode: DIR_MODE });
  let path = base;
  for (const segment of segments) {
    path = join(path, segment);
    let info = await lstatOrNull(path);
    if (info === null) {
      await Deno.mkdir(path, { mode: DIR_MODE }).catch((e) => {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      });
      info = await Deno.lstat(path);
    }
    mustBeDir(path, info);
  }
  return path;
}

/** Throws UnsafePathError when `path` is a symlink (or a directory); absent is fine. */
export async function refuseLink(path: string): Promise<void> {
  const info = await lstatOrNull(path);
  if (info?.isSymlink) throw new UnsafePathError(path, "is a symlink");
  if (info?.isDirectory) throw new UnsafePathError(path, "is a directory");
}

/** fsyncs a directory, so a rename in it survives a power cut. */
export async function syncDir(path: string): Promise<void> {
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/** Is `name` a temp file of writeAtomic (`.<name>.<rand>.tmp`)? */
export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.endsWith(".tmp");
}

/**
 * Removes temp files older than `before` (ms since the epoch) anywhere under `root`: what a
 * writer killed mid-write left. Symlinks are not followed; newer temp files (a write under way)
 * are left alone. Returns how many were removed.
 *
 * @example await removeStaleTemps("/data/out", Date.now()) // 0
 */
export async function removeStaleTemps(
  root: string,
  before: number,
  signal?: AbortSignal,
): Promise<number> {
  let removed = 0;
  const dirs = [root];
  while (dirs.length > 0) {
    signal?.throwIfAborted();
    const dir = dirs.pop()!;
    try {
      for await (const e of Deno.readDir(dir)) {
        const path = join(dir, e.name);
        if (e.isDirectory) dirs.push(path);
        else if (e.isFile && isTempName(e.name)) {
          const info = await lstatOrNull(path);
          if (info?.isFile && (info.mtime?.getTime() ?? 0) < before) {
            await Deno.remove(path).catch(() => {});
            removed++;
          }
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return removed;
}
