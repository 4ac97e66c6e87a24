/**
 * The spool on disk: per object `<sha256(key)>.data` (the bytes) and `<sha256(key)>.json`
 * (`{key, at}`, so the key is known after a restart), each written atomically.
 */

import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { SinkError } from "./sink.ts";
import { writeAtomic } from "./dir.ts";
import { ensureDirUnder, refuseLink } from "./no_follow.ts";
import type { Logger } from "../log.ts";

const Meta = z.object({ key: z.string().min(1), at: z.number() });

/** One object found in the spool directory. */
export interface SpooledFile {
  key: string;
  /** File stem: hex SHA-256 of the key (keys can be longer than a file name may be). */
  name: string;
  bytes: number;
  /** When it was spooled, ms since the epoch. */
  at: number;
}

/** The file stem of a key. @example await spoolName("a/b") // "c2f4...": 64 hex digits */
export async function spoolName(key: string): Promise<string> {
  const h = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes an object into the spool: bytes first, then the metadata that makes it count.
 *
 * @example await writeSpooled("state/spool", "a/b", bytes, Date.now())
 */
export async function writeSpooled(
  dir: string,
  key: string,
  data: Uint8Array,
  at: number,
): Promise<string> {
  const name = await spoolName(key);
  await ensureDirUnder(dirname(dir), [basename(dir)]); // 0700; a symlink there is refused
  await writeAtomic(join(dir, `${name}.data`), data);
  await writeAtomic(
    join(dir, `${name}.json`),
    new TextEncoder().encode(JSON.stringify({ key, at })),
  );
  return name;
}

/** Removes an object's files (metadata first, so a crash leaves no half that counts). */
export async function removeSpooled(dir: string, name: string): Promise<void> {
  for (const ext of [".json", ".data"]) await Deno.remove(join(dir, name + ext)).catch(() => {});
}

/** Reads an object's bytes (a symlink planted in its place is refused, never read through). */
export async function readSpooled(dir: string, name: string): Promise<Uint8Array> {
  const path = join(dir, `${name}.data`);
  await refuseLink(path);
  return await Deno.readFile(path);
}

/**
 * Lists the spool, oldest first, removing leftovers (temp files, half pairs, unreadable
 * metadata).
 *
 * @example for (const f of await scanSpool("state/spool", log)) console.log(f.key, f.bytes)
 */
export async function scanSpool(dir: string, log: Logger): Promise<SpooledFile[]> {
  const names = new Set<string>();
  if ((await Deno.lstat(dir).catch(() => null))?.isSymlink) {
    throw new SinkError(`spool ${dir} is a symlink; refusing to read or write through it`, true);
  }
  try {
    for await (const f of Deno.readDir(dir)) {
      if (f.isFile) names.add(f.name);
      else if (f.isSymlink) await Deno.remove(join(dir, f.name)).catch(() => {}); // planted
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new SinkError(`cannot read spool ${dir}: ${(e as Error).message}`, true);
  }
  const found: SpooledFile[] = [];
  for (const f of names) {
    const stem = f.replace(/\.(json|data)$/, "");
    if (f.endsWith(".tmp") || !names.has(`${stem}.json`) || !names.has(`${stem}.data`)) {
      await Deno.remove(join(dir, f)).catch(() => {}); // an interrupted write
      continue;
    }
    if (!f.endsWith(".json")) continue;
    const meta = Meta.safeParse(
      await Deno.readTextFile(join(dir, f)).then(JSON.parse).catch(() => null),
    );
    const size = await Deno.stat(join(dir, `${stem}.data`)).then((s) => s.size, () => -1);
    if (!meta.success || size < 0 || await spoolName(meta.data.key) !== stem) {
      log.warn("unreadable spool entry dropped", { file: join(dir, f) });
      await removeSpooled(dir, stem);
      continue;
    }
    found.push({ key: meta.data.key, name: stem, bytes: size, at: meta.data.at });
  }
  return found.sort((a, b) => a.at - b.at);
}
