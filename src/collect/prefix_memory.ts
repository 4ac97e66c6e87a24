/**
 * Prefixes kept across collector restarts. A server's prefix carries the second the collector
 * first saw it; a restarted collector would see the same process again, date it anew and store
 * its cumulative counters a second time under a new prefix (a report then adds both). So each
 * process stored gets a small file under `<state-dir>/prefixes/`, and a server found again is
 * given the discovery time it had: its counters overwrite the same `covcounters.*.1/2` names.
 *
 * A process is the same when /proc says so: the same boot (boot_id), host PID and start time
 * (a reused PID starts later), and the same storage path but for the time (owner, image,
 * binary). Nothing a pod sends chooses these but its binary name, which is in the path anyway.
 * The meta hash is checked at the first pull (see Collector): another build means another prefix.
 */

import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { errorText } from "../errors.ts";
import { prefixFor } from "../layout.ts";
import type { Logger } from "../log.ts";
import { readStartTime } from "../procfs/stat.ts";
import { writeAtomic } from "../sink/dir.ts";
import { ensureDirUnder, isTempName } from "../sink/no_follow.ts";
import type { System } from "../system.ts";
import type { Target } from "../target.ts";

/** Files kept at most (one per stored process alive on the node). */
export const MAX_ENTRIES = 4096;
/** Largest entry file read, in bytes (an entry is about 400). */
export const MAX_ENTRY_BYTES = 4096;

/** One remembered process (the file's content). */
export const Remembered = z.object({
  bootId: z.string().regex(/^[0-9a-f-]{1,64}$/),
  hostPid: z.number().int().positive(),
  startTime: z.string().regex(/^\d{1,20}$/),
  /** The storage path with the discovery time left out (see pathOf). */
  path: z.string().min(1).max(2048),
  /** The discovery time its prefix carries, ms since the epoch. */
  discoveredAt: z.number().int().nonnegative(),
  metaHash: z.string().regex(/^[0-9a-f]{32}$/),
}).strict();
export type Remembered = z.infer<typeof Remembered>;

/** The storage path of a target without its time: what must match for a prefix to be reused. */
export function pathOf(t: Pick<Target, "owner" | "identity">, hostname: string): string {
  return prefixFor({ ...t, discoveredAt: new Date(0) }, hostname);
}

/**
 * The file name of an entry: digits and hex only, so nothing in it comes from a pod.
 *
 * @example entryName(42, "98765", "n/_host_/19700101T000000Z/app") // "42-98765-<16 hex>.json"
 */
export function entryName(hostPid: number, startTime: string, path: string): string {
  const h = createHash("sha256").update(path).digest("hex").slice(0, 16);
  return `${hostPid}-${startTime}-${h}.json`;
}

const NAME = /^\d{1,10}-\d{1,20}-[0-9a-f]{16}\.json$/;

/**
 * Parses an entry file's text; a string saying what is wrong when it is not one.
 *
 * @example parseEntry('{"bootId":"b"}') // "hostPid: Required; ..."
 */
export function parseEntry(text: string): Remembered | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${errorText(e)}`;
  }
  const r = Remembered.safeParse(json);
  if (r.success) return r.data;
  return r.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "entry"}: ${i.message}`)
    .join("; ");
}

/** Reads a regular file without following a symlink (a link swapped in between is caught). */
export async function readNoFollow(path: string, max: number): Promise<Uint8Array> {
  const before = await Deno.lstat(path);
  if (!before.isFile) throw new Error(before.isSymlink ? "a symlink" : "not a regular file");
  if (before.size > max) throw new Error(`${before.size} bytes, over ${max}`);
  using f = await Deno.open(path, { read: true });
  const now = await f.stat();
  if (now.ino !== before.ino || now.dev !== before.dev) throw new Error("replaced while opened");
  const buf = new Uint8Array(max + 1);
  let at = 0;
  while (at < buf.length) {
    const n = await f.read(buf.subarray(at));
    if (n === null) break;
    at += n;
  }
  if (at > max) throw new Error(`over ${max} bytes`);
  return buf.subarray(0, at);
}

export interface PrefixMemoryOptions {
  /** `<state-dir>/prefixes`. */
  dir: string;
  system: System;
  log: Logger;
  /** The node's host name (first segment of every prefix). */
  hostname: string;
  maxEntries?: number;
}

/**
 * The remembered prefixes of live processes, loaded once and kept in step with the files.
 *
 * @example
 * const m = await PrefixMemory.open({ dir: "state/prefixes", system, log, hostname });
 * m?.recall(target); // { discoveredAt, metaHash } of a process stored before the restart
 */
export class PrefixMemory {
  readonly bootId: string;
  readonly #o: Required<PrefixMemoryOptions>;
  /** File name → entry. */
  readonly #entries = new Map<string, Remembered>();
  #fullLogged = false;

  private constructor(bootId: string, o: Required<PrefixMemoryOptions>) {
    this.bootId = bootId;
    this.#o = o;
  }

  /**
   * Reads the remembered entries, dropping those of processes that are gone; null (logged) when
   * the boot ID cannot be read or the directory cannot be used: then every server gets a new
   * prefix, as before.
   */
  static async open(opts: PrefixMemoryOptions): Promise<PrefixMemory | null> {
    const o = { ...opts, maxEntries: opts.maxEntries ?? MAX_ENTRIES };
    const log = o.log.with({ part: "prefixes", dir: o.dir });
    let bootId: string;
    try {
      bootId = (await o.system.readText("/proc/sys/kernel/random/boot_id")).trim();
      if (!/^[0-9a-f-]{1,64}$/.test(bootId)) throw new Error(`unexpected boot_id "${bootId}"`);
    } catch (e) {
      log.warn("prefixes not kept across restarts: no boot ID", { error: e });
      return null;
    }
    try {
      // The state dir is the operator's; `prefixes` in it is ours: never a symlink, mode 0700.
      await ensureDirUnder(dirname(o.dir), [basename(o.dir)]);
    } catch (e) {
      log.warn("prefixes not kept across restarts: directory unusable", { error: e });
      return null;
    }
    const m = new PrefixMemory(bootId, { ...o, log });
    await m.#load();
    return m;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True while an entry file of that name is held (see entryName). */
  has(entry: string): boolean {
    return this.#entries.has(entry);
  }

  /** The remembered prefix time and meta hash of this target's process, if it was stored. */
  recall(t: Target): { discoveredAt: Date; metaHash: string } | undefined {
    if (!t.hostStartTime) return undefined;
    const path = pathOf(t, this.#o.hostname);
    const e = this.#entries.get(entryName(t.hostPid, t.hostStartTime, path));
    if (!e || e.bootId !== this.bootId || e.path !== path) return undefined;
    return { discoveredAt: new Date(e.discoveredAt), metaHash: e.metaHash };
  }

  /** Remembers that the target's process is stored under `discoveredAt` with `metaHash`. Never
   * throws: a failure is logged and costs only the reuse after a restart. */
  async remember(t: Target, discoveredAt: Date, metaHash: string): Promise<void> {
    if (!t.hostStartTime) return;
    const path = pathOf(t, this.#o.hostname);
    const name = entryName(t.hostPid, t.hostStartTime, path);
    const entry: Remembered = {
      bootId: this.bootId,
      hostPid: t.hostPid,
      startTime: t.hostStartTime,
      path,
      discoveredAt: discoveredAt.getTime(),
      metaHash,
    };
    const had = this.#entries.get(name);
    if (had && JSON.stringify(had) === JSON.stringify(entry)) return;
    if (!had && this.#entries.size >= this.#o.maxEntries) await this.#pruneDead();
    if (!had && this.#entries.size >= this.#o.maxEntries) {
      if (!this.#fullLogged) {
        this.#o.log.warn("prefix memory full: this server gets a new prefix after a restart", {
          entries: this.#entries.size,
        });
        this.#fullLogged = true;
      }
      return;
    }
    this.#entries.set(name, entry);
    try {
      // 0600, O_EXCL temp file, synced, renamed; a symlink at the name is refused.
      const bytes = new TextEncoder().encode(JSON.stringify(entry) + "\n");
      await writeAtomic(join(this.#o.dir, name), bytes);
    } catch (e) {
      this.#o.log.warn("prefix not remembered", { file: name, error: e });
    }
  }

  /** Forgets the target's process (it is gone). Never throws. */
  async forget(t: Target): Promise<void> {
    if (!t.hostStartTime) return;
    const name = entryName(t.hostPid, t.hostStartTime, pathOf(t, this.#o.hostname));
    if (!this.#entries.delete(name)) return;
    this.#fullLogged = false;
    await Deno.remove(join(this.#o.dir, name)).catch(() => {});
  }

  async #load(): Promise<void> {
    const log = this.#o.log;
    const names: string[] = [];
    for await (const e of Deno.readDir(this.#o.dir)) {
      // Never more names than twice the bound: the rest is not looked at (and not deleted).
      if (names.length >= 2 * this.#o.maxEntries) break;
      names.push(e.name);
    }
    let ignored = 0;
    for (const name of names.sort()) {
      const path = join(this.#o.dir, name);
      if (isTempName(name)) {
        await Deno.remove(path).catch(() => {}); // an interrupted write
        continue;
      }
      if (!NAME.test(name)) {
        log.warn("prefix memory: file ignored: not an entry name", { file: path });
        ignored++;
        continue;
      }
      let entry: Remembered | string;
      try {
        entry = parseEntry(new TextDecoder().decode(await readNoFollow(path, MAX_ENTRY_BYTES)));
      } catch (e) {
        entry = errorText(e);
      }
      if (typeof entry === "string") {
        log.warn("prefix memory: file ignored: not a valid entry", { file: path, error: entry });
        ignored++;
        continue;
      }
      if (name !== entryName(entry.hostPid, entry.startTime, entry.path)) {
        log.warn("prefix memory: file ignored: its name does not match its content", {
          file: path,
        });
        ignored++;
        continue;
      }
      if (this.#entries.size >= this.#o.maxEntries) {
        ignored++;
        continue;
      }
      if (!await this.#alive(entry)) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
      this.#entries.set(name, entry);
    }
    log.info("prefix memory loaded", { entries: this.#entries.size, ignored });
  }

  /** True while the entry's process still runs (same boot, PID and start time). */
  async #alive(e: Remembered): Promise<boolean> {
    if (e.bootId !== this.bootId) return false;
    try {
      return await readStartTime(this.#o.system, e.hostPid) === e.startTime;
    } catch {
      return true; // unreadable for another reason: keep it, the next start looks again
    }
  }

  async #pruneDead(): Promise<void> {
    for (const [name, e] of [...this.#entries]) {
      if (await this.#alive(e)) continue;
      this.#entries.delete(name);
      await Deno.remove(join(this.#o.dir, name)).catch(() => {});
    }
  }
}
