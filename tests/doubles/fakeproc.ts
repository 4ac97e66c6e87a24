/** A fake /proc in a temp directory, for tests: use with `createSystem(fake.root)`. */

import { join } from "node:path";

export interface FakeProcess {
  pid: number;
  ppid: number;
  /** Defaults to [pid]. */
  nspid?: number[];
  name?: string;
  environ?: Record<string, string>;
  cgroup?: string;
  /** Socket inodes held as fds. */
  sockets?: number[];
  /** Network namespace name (see FakeProc.setNet); default "host". */
  netns?: string;
  /** Start time in clock ticks (stat field 22); default 1000 + pid. */
  start?: number;
}

export interface FakeListener {
  /** IPv4 dotted quad for tcp, or one of "::", "::1", "::ffff:a.b.c.d" for tcp6. */
  address: string;
  port: number;
  inode: number;
  state?: string;
}

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function wordHex(bytes: number[]): string {
  const out: string[] = [];
  for (let w = 0; w < bytes.length; w += 4) {
    const word = bytes.slice(w, w + 4);
    if (LE) word.reverse();
    out.push(word.map((b) => b.toString(16).padStart(2, "0")).join(""));
  }
  return out.join("").toUpperCase();
}

function v6Bytes(address: string): number[] {
  const b = new Array(16).fill(0);
  if (address === "::1") b[15] = 1;
  else if (address.startsWith("::ffff:")) {
    b[10] = b[11] = 0xff;
    address.slice(7).split(".").forEach((o, i) => b[12 + i] = Number(o));
  } else if (address !== "::") throw new Error(`fake tcp6 address ${address} not supported`);
  return b;
}

/**
 * Renders rows in the kernel's /proc/net/tcp{,6} layout.
 *
 * @example renderNetTcp([{ address: "::", port: 53700, inode: 7 }], 6) // header + one LISTEN row
 */
export function renderNetTcp(listeners: FakeListener[], family: 4 | 6): string {
  const head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt" +
    "   uid  timeout inode\n";
  return head + listeners.map((l, i) => {
    const bytes = family === 4 ? l.address.split(".").map(Number) : v6Bytes(l.address);
    const local = `${wordHex(bytes)}:${l.port.toString(16).toUpperCase().padStart(4, "0")}`;
    const rem = `${"0".repeat(family === 4 ? 8 : 32)}:0000`;
    return `   ${i}: ${local} ${rem} ${l.state ?? "0A"} 00000000:00000000 00:00000000 ` +
      `00000000     0        0 ${l.inode} 1 0000000000000000 100 0 0 10 0`;
  }).join("\n") + "\n";
}

/** Builds /proc/<pid>/{status,stat,environ,cgroup,fd/*,net/tcp*,ns/net} under a temp root. */
export class FakeProc {
  readonly root: string;
  #nets = new Map<string, FakeListener[]>();
  #procs = new Map<number, FakeProcess>();

  constructor() {
    this.root = Deno.makeTempDirSync({ prefix: "fakeproc-" });
    Deno.mkdirSync(join(this.root, "proc"));
  }

  /** Sets the listeners of a network namespace (addresses with ":" go to tcp6). */
  setNet(netns: string, listeners: FakeListener[]): void {
    this.#nets.set(netns, listeners);
    for (const p of this.#procs.values()) if ((p.netns ?? "host") === netns) this.#writeNet(p);
  }

  add(p: FakeProcess): void {
    this.#procs.set(p.pid, p);
    const dir = join(this.root, "proc", String(p.pid));
    Deno.mkdirSync(join(dir, "fd"), { recursive: true });
    Deno.mkdirSync(join(dir, "net"), { recursive: true });
    Deno.mkdirSync(join(dir, "ns"), { recursive: true });
    const nspid = (p.nspid ?? [p.pid]).join("\t");
    Deno.writeTextFileSync(
      join(dir, "status"),
      `Name:\t${p.name ?? "proc"}\nPid:\t${p.pid}\nPPid:\t${p.ppid}\nNSpid:\t${nspid}\n`,
    );
    const start = p.start ?? 1000 + p.pid;
    Deno.writeTextFileSync(
      join(dir, "stat"),
      `${p.pid} (${p.name ?? "proc"}) S ${p.ppid} ${p.pid} ${p.pid} 0 -1 4194560 0 0 0 0 0 0 0 0 ` +
        `20 0 1 0 ${start} 0 0\n`,
    );
    const env = Object.entries(p.environ ?? {}).map(([k, v]) => `${k}=${v}\0`).join("");
    Deno.writeTextFileSync(join(dir, "environ"), env);
    Deno.writeTextFileSync(join(dir, "cgroup"), p.cgroup ?? "0::/system.slice/x.service\n");
    (p.sockets ?? []).forEach((inode, i) => {
      Deno.symlinkSync(`socket:[${inode}]`, join(dir, "fd", String(i + 3)));
    });
    Deno.symlinkSync("/dev/null", join(dir, "fd", "0"));
    Deno.symlinkSync(`net:[${p.netns ?? "host"}]`, join(dir, "ns", "net"));
    this.#writeNet(p);
  }

  /** Removes a process (as if it exited). */
  remove(pid: number): void {
    this.#procs.delete(pid);
    Deno.removeSync(join(this.root, "proc", String(pid)), { recursive: true });
  }

  #writeNet(p: FakeProcess): void {
    const ls = this.#nets.get(p.netns ?? "host") ?? [];
    const dir = join(this.root, "proc", String(p.pid), "net");
    Deno.writeTextFileSync(
      join(dir, "tcp"),
      renderNetTcp(ls.filter((l) => !l.address.includes(":")), 4),
    );
    Deno.writeTextFileSync(
      join(dir, "tcp6"),
      renderNetTcp(ls.filter((l) => l.address.includes(":")), 6),
    );
  }

  cleanup(): void {
    Deno.removeSync(this.root, { recursive: true });
  }
}
