/** TCP sockets of a network namespace, from /proc/<pid>/net/tcp and tcp6. */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

/** One row of /proc/<pid>/net/tcp{,6}. */
export interface TcpSocket {
  /** Bound address in text form (`0.0.0.0`, `::`, `::ffff:127.0.0.1`, `10.0.0.5`). */
  address: string;
  port: number;
  inode: number;
  /** Kernel TCP state in hex (`0A` = LISTEN). */
  state: string;
  family: 4 | 6;
}

/** Ports `start` .. `end - 1`. */
export interface PortRange {
  start: number;
  end: number;
}

/** The kernel's LISTEN state in /proc/net/tcp. */
export const LISTEN = "0A";

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes of a /proc/net address: 32-bit words in host byte order. */
function addressBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let w = 0; w < out.length; w += 4) {
    for (let b = 0; b < 4; b++) {
      const byte = parseInt(hex.slice((w + b) * 2, (w + b) * 2 + 2), 16);
      out[LITTLE_ENDIAN ? w + 3 - b : w + b] = byte;
    }
  }
  return out;
}

/**
 * Formats 16 bytes as an IPv6 address (RFC 5952, IPv4-mapped as `::ffff:a.b.c.d`).
 *
 * @example formatIpv6(new Uint8Array([0xfd, ...new Array(14).fill(0), 2])) // "fd00::2"
 */
export function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLen).join(":");
  return `${head}::${tail}`;
}

/**
 * Parses /proc/<pid>/net/tcp (family 4) or tcp6 (family 6) into sockets; bad rows are skipped.
 *
 * @example parseProcNetTcp(await Deno.readTextFile("/proc/self/net/tcp6"), 6)
 *   .filter((s) => s.state === LISTEN) // [{ address: "::", port: 53700, inode: 412337, ... }]
 */
export function parseProcNetTcp(text: string, family: 4 | 6): TcpSocket[] {
  const hexLen = family === 4 ? 8 : 32;
  const out: TcpSocket[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0])) continue;
    const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(f[1]);
    if (!m || m[1].length !== hexLen || !/^\d+$/.test(f[9])) continue;
    const bytes = addressBytes(m[1]);
    out.push({
      address: family === 4 ? bytes.join(".") : formatIpv6(bytes),
      port: parseInt(m[2], 16),
      inode: Number(f[9]),
      state: f[3].toUpperCase(),
      family,
    });
  }
  return out;
}

/**
 * The LISTEN sockets with a port in `range`, seen in the network namespace of `pid` (tcp and tcp6).
 * Pass `{start: 1, end: 65536}` for every listener. A vanished process gives [].
 *
 * @example await listeningSockets(createSystem(), 1, { start: 53700, end: 53800 })
 */
export async function listeningSockets(
  system: System,
  pid: number,
  range: PortRange,
): Promise<TcpSocket[]> {
  // The kernel walks its whole TCP hash for each read: read both tables at once.
  const tables = await Promise.all(([4, 6] as const).map(async (family) => {
    try {
      const text = await system.readText(`/proc/${pid}/net/${family === 4 ? "tcp" : "tcp6"}`);
      return parseProcNetTcp(text, family);
    } catch (e) {
      if (isGone(e)) return []; // no such process, or no IPv6 in this kernel
      throw e;
    }
  }));
  return tables.flat().filter((s) =>
    s.state === LISTEN && s.port >= range.start && s.port < range.end && s.inode > 0
  );
}

/**
 * The address to dial for a listener seen from the host's side of the same network namespace:
 * IPv4 wildcard → 127.0.0.1; IPv6 wildcard → ::1 (a `::` listener may be IPv6-only, and ::1
 * reaches a dual-stack one too, like Go's `:port`); IPv4-mapped → the IPv4 address; else the bound
 * address itself (a socket bound to 127.0.0.53 answers only there).
 *
 * @example dialAddress({ address: "::", family: 6 }) // "::1"
 */
export function dialAddress(s: Pick<TcpSocket, "address" | "family">): string {
  if (s.address === "::" || s.address === "::1") return "::1";
  const a = s.address.startsWith("::ffff:") ? s.address.slice(7) : s.address;
  return a === "0.0.0.0" ? "127.0.0.1" : a;
}

/**
 * True for a wildcard bind (`0.0.0.0`, `::`, `::ffff:0.0.0.0`): reachable at every address of
 * its network namespace.
 *
 * @example isWildcard("::") // true
 */
export function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::" || address === "::ffff:0.0.0.0";
}

/**
 * True for loopback-only addresses (unreachable from outside the namespace).
 *
 * @example isLoopback("::ffff:127.0.0.1") // true
 */
export function isLoopback(address: string): boolean {
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return a === "::1" || a.startsWith("127.");
}

/**
 * The address to dial for a listener in a network namespace whose own addresses `local` gives
 * (read only when needed), or null when dialling its bound address could reach someone else: a
 * socket bound with IP_FREEBIND to an address the namespace does not have (another pod's IP, a
 * metadata service) is never dialled. Wildcard and loopback binds: see dialAddress.
 *
 * @example await ownDialAddress({ address: "10.244.0.9", family: 4 }, () => ctx.localAddresses(1))
 * // null (not an address of this node)
 */
export async function ownDialAddress(
  s: Pick<TcpSocket, "address" | "family">,
  local: () => Promise<Set<string>>,
): Promise<string | null> {
  if (isWildcard(s.address) || isLoopback(s.address)) return dialAddress(s);
  const host = dialAddress(s);
  return (await local()).has(host) ? host : null;
}
