/**
 * LISTEN sockets of a network namespace from the kernel's sock_diag netlink interface (what `ss`
 * uses), asked for the LISTEN state only. Reading /proc/<pid>/net/tcp instead makes the kernel
 * walk its whole TCP established hash (262,144 buckets on a 16 GiB node; about 4 ms of CPU per
 * read, two reads per network namespace per scan); a LISTEN-only dump walks only the listening
 * hash. A netlink socket stays in the network namespace it was made in: one is made per
 * namespace (by entering it for the length of one `socket` call) and kept while it is scanned.
 *
 * Everything goes through libc by FFI, synchronously on the calling thread, so nothing else runs
 * on that thread while it is in another namespace. Where that is not possible (no FFI permission,
 * no glibc, no CAP_SYS_ADMIN, an old kernel) `open` gives null and callers read /proc/net/tcp.
 */

import { formatIpv6, LISTEN, type TcpSocket } from "./net.ts";

const AF_NETLINK = 16;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const IPPROTO_TCP = 6;
const TCP_LISTEN = 10;
const CLONE_NEWNET = 0x40000000;
const O_RDONLY_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
/** inet_diag_msg: family .. inode, 72 bytes. */
const DIAG_MSG_BYTES = 72;
/** At most this many reads per dump (a namespace with ~100,000 listeners): never a loop for ever. */
const MAX_READS = 4096;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** A dump failed; the caller reads /proc/net/tcp for this namespace instead. */
export class SockDiagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SockDiagError";
  }
}

const cString = (s: string) => new TextEncoder().encode(`${s}\0`);

/** The LISTEN-only dump request of one address family (nlmsghdr + inet_diag_req_v2). */
function request(family: number, seq: number): Uint8Array {
  const b = new Uint8Array(16 + 56);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.byteLength, true);
  v.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  v.setUint32(8, seq, true);
  b[16] = family;
  b[17] = IPPROTO_TCP;
  v.setUint32(20, 1 << TCP_LISTEN, true);
  return b;
}

/**
 * Parses the messages of one netlink read into `out`; true at the end of the dump. Throws
 * SockDiagError on an error message or a malformed one (lengths are checked, never trusted).
 *
 * @example parseDiagMessages(bytes, [], 1) // true when NLMSG_DONE came
 */
export function parseDiagMessages(buf: Uint8Array, out: TcpSocket[], seq: number): boolean {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at + 16 <= buf.byteLength) {
    const len = v.getUint32(at, true);
    const type = v.getUint16(at + 4, true);
    if (len < 16 || at + len > buf.byteLength) {
      throw new SockDiagError(`sock_diag: message of ${len} bytes at ${at} of ${buf.byteLength}`);
    }
    if (v.getUint32(at + 8, true) !== seq) {
      at += (len + 3) & ~3;
      continue; // an answer to an earlier request
    }
    if (type === NLMSG_DONE) return true;
    if (type === NLMSG_ERROR) {
      const errno = len >= 20 ? -v.getInt32(at + 16, true) : 0;
      throw new SockDiagError(`sock_diag: the kernel answered errno ${errno}`);
    }
    if (type === SOCK_DIAG_BY_FAMILY && len >= 16 + DIAG_MSG_BYTES) {
      const m = at + 16;
      const family = buf[m];
      const state = buf[m + 1];
      if (state === TCP_LISTEN && (family === AF_INET || family === AF_INET6)) {
        const port = v.getUint16(m + 4, false);
        const src = buf.subarray(m + 8, m + 24);
        out.push({
          address: family === AF_INET ? `${src[0]}.${src[1]}.${src[2]}.${src[3]}` : formatIpv6(src),
          port,
          inode: v.getUint32(m + 68, true),
          state: LISTEN,
          family: family === AF_INET ? 4 : 6,
        });
      }
    }
    at += (len + 3) & ~3;
  }
  return false;
}

/**
 * LISTEN sockets per network namespace over netlink, one kept socket per namespace.
 *
 * @example
 * const diag = SockDiag.open(); // null where it cannot work
 * diag?.listeners("/proc/4242/ns/net", "net:[4026532512]") // TcpSocket[], or null: read /proc
 */
export class SockDiag {
  readonly #libc: Libc;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  /** Our own network namespace, to come back to. */
  readonly #home: number;
  readonly #sockets = new Map<string, number>();
  readonly #buf = new Uint8Array(64 << 10);
  readonly #addr = new Uint8Array(12);
  #seq = 0;

  private constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>, home: number) {
    this.#lib = lib;
    this.#libc = lib.symbols;
    this.#home = home;
    new DataView(this.#addr.buffer).setUint16(0, AF_NETLINK, true);
  }

  /** The netlink source, or null where FFI, glibc or /proc/thread-self is not there. */
  static open(): SockDiag | null {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      if (Deno.build.os !== "linux") return null;
      lib = Deno.dlopen("libc.so.6", SYMBOLS);
    } catch {
      return null;
    }
    const home = lib.symbols.open(cString("/proc/thread-self/ns/net"), O_RDONLY_CLOEXEC);
    if (home < 0) {
      lib.close();
      return null;
    }
    return new SockDiag(lib, home);
  }

  /**
   * The LISTEN sockets (tcp and tcp6) of the namespace `nsKey` (`net:[N]`), whose link is
   * `nsPath` (`/proc/<pid>/ns/net`); null when netlink cannot answer for it (read /proc).
   */
  listeners(nsPath: string, nsKey: string): TcpSocket[] | null {
    const fd = this.#sockets.get(nsKey) ?? this.#socketIn(nsPath, nsKey);
    if (fd === null) return null;
    try {
      const out: TcpSocket[] = [];
      for (const family of [AF_INET, AF_INET6]) this.#dump(fd, family, out);
      return out;
    } catch {
      this.#drop(nsKey);
      return null;
    }
  }

  /** Closes the sockets of namespaces not in `keep` (gone, or no longer scanned). */
  retain(keep: Set<string>): void {
    for (const ns of [...this.#sockets.keys()]) if (!keep.has(ns)) this.#drop(ns);
  }

  /** Namespaces with a kept socket. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Closes every socket and the library. */
  close(): void {
    for (const ns of [...this.#sockets.keys()]) this.#drop(ns);
    this.#libc.close(this.#home);
    this.#lib.close();
  }

  #drop(nsKey: string): void {
    const fd = this.#sockets.get(nsKey);
    if (fd !== undefined) this.#libc.close(fd);
    this.#sockets.delete(nsKey);
  }

  /** A netlink socket made inside the namespace at `nsPath`, when that is `nsKey`. */
  #socketIn(nsPath: string, nsKey: string): number | null {
    if (!/^net:\[\d+\]$/.test(nsKey)) return null;
    const ns = this.#libc.open(cString(nsPath), O_RDONLY_CLOEXEC);
    if (ns < 0) return null;
    try {
      // The PID may have gone and come back as another process since the link was read: the
      // namespace opened must be the one asked for.
      let opened: string;
      try {
        opened = Deno.readLinkSync(`/proc/thread-self/fd/${ns}`);
      } catch {
        return null;
      }
      if (opened !== nsKey) return null;
      if (this.#libc.setns(ns, CLONE_NEWNET) !== 0) return null;
      const fd = this.#libc.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
      if (this.#libc.setns(this.#home, CLONE_NEWNET) !== 0) {
        // This thread would open the collector's connections from a pod's network: never go on.
        console.error("sock_diag: cannot return to the collector's network namespace; exiting");
        Deno.exit(70);
      }
      if (fd < 0) return null;
      this.#sockets.set(nsKey, fd);
      return fd;
    } finally {
      this.#libc.close(ns);
    }
  }

  /** One LISTEN-only dump of `family` on `fd` into `out`. */
  #dump(fd: number, family: number, out: TcpSocket[]): void {
    const seq = ++this.#seq;
    const req = request(family, seq);
    if (Number(this.#libc.sendto(fd, req, BigInt(req.byteLength), 0, this.#addr, 12)) < 0) {
      throw new SockDiagError("sock_diag: send failed");
    }
    for (let reads = 0; reads < MAX_READS; reads++) {
      const n = Number(this.#libc.recv(fd, this.#buf, BigInt(this.#buf.byteLength), MSG_DONTWAIT));
      if (n <= 0) throw new SockDiagError("sock_diag: no answer");
      if (parseDiagMessages(this.#buf.subarray(0, n), out, seq)) return;
    }
    throw new SockDiagError(`sock_diag: no end of the dump after ${MAX_READS} reads`);
  }
}
