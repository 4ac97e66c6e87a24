/**
 * The spool's index: one entry per spooled key, in age order (the first is the oldest), with
 * the bytes they hold in all, kept in step with the files in the spool directory (their format
 * is spool_files.ts's). Callers serialise changes: disk and map change together.
 */

import type { Logger } from "../log.ts";
import {
  readSpooled,
  removeSpooled,
  scanSpool,
  type SpooledFile,
  writeSpooled,
} from "./spool_files.ts";
import { type SpoolBounds, type SpoolPolicy, SpoolTally } from "./spool_eviction.ts";

/** A spooled object as the index knows it. */
export interface SpoolEntry extends SpooledFile {
  /** Bumped on every write of the key, so a drain does not drop newer bytes it did not send. */
  seq: number;
}

/**
 * What the spool holds.
 *
 * @example
 * const index = new SpoolIndex("state/spool");
 * await index.write("a/b", bytes, Date.now()); index.oldest()?.key // "a/b"
 */
export class SpoolIndex {
  #dir: string;
  #entries = new Map<string, SpoolEntry>();
  #bytes = 0;
  #seq = 0;
  #tally: SpoolTally<SpoolEntry>;

  /** `policy` says whose each object is, for `victims` (default: one owner, nothing once). */
  constructor(
    dir: string,
    policy: SpoolPolicy = { writtenOnce: () => false, ownerOf: () => ({ pod: "", server: "" }) },
  ) {
    this.#dir = dir;
    this.#tally = new SpoolTally(policy);
  }

  /**
   * What to drop so that `bounds` hold, never `keep` (see spool_eviction.ts); the caller removes
   * each with `remove`.
   */
  victims(bounds: SpoolBounds, keep?: string): SpoolEntry[] {
    return this.#tally.victims(bounds, keep);
  }

  /** Takes up what the directory holds (an earlier run's spool); resolves with how many. */
  async load(log: Logger): Promise<number> {
    const found = await scanSpool(this.#dir, log);
    for (const e of found) this.#add(e);
    return found.length;
  }

  /** Spools `data` as the newest copy of `key` (replacing an older copy). */
  async write(key: string, data: Uint8Array, at: number): Promise<void> {
    const name = await writeSpooled(this.#dir, key, data, at);
    this.#add({ key, name, bytes: data.length, at });
  }

  /** The bytes of a spooled object. */
  read(e: SpoolEntry): Promise<Uint8Array> {
    return readSpooled(this.#dir, e.name);
  }

  /** Forgets an object and removes its files. */
  async remove(e: SpoolEntry): Promise<void> {
    this.#entries.delete(e.key);
    this.#tally.remove(e.key);
    this.#bytes -= e.bytes;
    await removeSpooled(this.#dir, e.name);
  }

  /** Objects spooled. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes spooled, all objects together. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keys, oldest first. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** Entries, oldest first (a copy: safe to change the index while going through it). */
  entries(): SpoolEntry[] {
    return [...this.#entries.values()];
  }

  oldest(): SpoolEntry | undefined {
    return this.#entries.values().next().value;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get(key: string): SpoolEntry | undefined {
    return this.#entries.get(key);
  }

  #add(file: SpooledFile): void {
    const old = this.#entries.get(file.key);
    if (old) this.#bytes -= old.bytes;
    this.#entries.delete(file.key); // re-inserted as the newest
    const entry = { ...file, seq: ++this.#seq };
    this.#entries.set(file.key, entry);
    this.#tally.add(entry);
    this.#bytes += file.bytes;
  }
}
