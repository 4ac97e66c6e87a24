/** The addresses a network namespace owns (its LOCAL routes), from /proc/<pid>/net. */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";
import { formatIpv6 } from "./net.ts";

/**
 * The IPv4 addresses of the kernel's local table in /proc/<pid>/net/fib_trie: every leaf
 * (`|-- a.b.c.d`) with a `/32 host LOCAL` entry.
 *
 * @example parseFibTrieLocal("  |-- 10.0.0.5\n     /32 host LOCAL\n") // Set { "10.0.0.5" }
 */
export function parseFibTrieLocal(text: string): Set<string> {
  const out = new Set<string>();
  let leaf: string | null = null;
  for (const line of text.split("\n")) {
    const t = line.trim();
    const m = /^\|-- (\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(t);
    if (m) leaf = m[1].split(".").every((o) => Number(o) <= 255) ? m[1] : null;
    else if (t.startsWith("+--") || !t.startsWith("/")) leaf = null;
    else if (leaf && /^\/32 host LOCAL$/.test(t)) out.add(leaf);
  }
  return out;
}

/**
 * The IPv6 addresses of /proc/<pid>/net/if_inet6 (32 hex digits in network order per line).
 *
 * @example parseIfInet6("fd000000000000000000000000000002 04 40 00 82 eth0\n") // Set { "fd00::2" }
 */
export function parseIfInet6(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const hex = line.trim().split(/\s+/)[0];
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) continue;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    out.add(formatIpv6(bytes));
  }
  return out;
}

/**
 * Every address local to the network namespace of `pid` (IPv4 and IPv6); an empty set when the
 * process is gone or the files cannot be read (nothing counts as local: no guessing).
 *
 * @example await localAddresses(createSystem(), 1) // Set { "127.0.0.1", "10.0.0.5", "::1", ... }
 */
export async function localAddresses(system: System, pid: number): Promise<Set<string>> {
  const read = async (name: string, parse: (t: string) => Set<string>) => {
    try {
      return parse(await system.readText(`/proc/${pid}/net/${name}`));
    } catch (e) {
      if (isGone(e) || e instanceof Deno.errors.PermissionDenied) return new Set<string>();
      throw e;
    }
  };
  const [v4, v6] = await Promise.all([
    read("fib_trie", parseFibTrieLocal),
    read("if_inet6", parseIfInet6),
  ]);
  return new Set([...v4, ...v6]);
}
