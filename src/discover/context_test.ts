import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { System } from "../system.ts";
import type { TcpSocket } from "../procfs/net.ts";
import { type ListenerSource, ScanContext } from "./context.ts";

const SOCKET: TcpSocket = { address: "::", port: 53700, inode: 9, state: "0A", family: 6 };
const PROC_TCP6 = "  sl  local_address                         remote_address  st\n" +
  "   0: 00000000000000000000000000000000:D1C5 00000000000000000000000000000000:0000 0A " +
  "00000000:00000000 00:00000000 00000000 0 0 10 1\n";

/** /proc/<pid>/ns/net links as given; /proc/<pid>/net/tcp6 holds one listener (port 53701). */
function system(links: Record<number, string>, reads: string[]): System {
  return {
    hostRoot: "/host",
    hostPath: (p) => `/host${p}`,
    readText(path) {
      reads.push(path);
      if (path.endsWith("/net/tcp6")) return Promise.resolve(PROC_TCP6);
      return Promise.resolve("  sl  local_address rem_address   st\n");
    },
    readBytes: () => Promise.reject(new Error("unused")),
    readLink: (p) => {
      const pid = Number(p.split("/")[2]);
      return links[pid] ? Promise.resolve(links[pid]) : Promise.reject(new Error("gone"));
    },
    readDir: () => Promise.reject(new Error("unused")),
    run: () => Promise.reject(new Error("unused")),
    now: () => 0,
    monotonic: () => 0,
  };
}

Deno.test("a scan asks the listener source (netlink) first, by the namespace's host path, and reads no /proc/net/tcp", async () => {
  const asked: string[][] = [];
  const source: ListenerSource = {
    listeners: (path, ns) => (asked.push([path, ns]), [SOCKET, { ...SOCKET, inode: 0 }]),
  };
  const reads: string[] = [];
  const ctx = new ScanContext(
    system({ 42: "net:[7]" }, reads),
    new AbortController().signal,
    undefined,
    source,
  );
  assertEquals(await ctx.listeners(42), [SOCKET]); // inode 0 (not a real socket) left out
  assertEquals(asked, [["/host/proc/42/ns/net", "net:[7]"]]);
  assertEquals(reads, []);
  assertEquals(ctx.namespaces(), new Set(["net:[7]"]));
});

Deno.test("where the source cannot answer, or the namespace link is unreadable, /proc/<pid>/net/tcp{,6} is read", async () => {
  const source: ListenerSource = { listeners: () => null };
  const reads: string[] = [];
  const ctx = new ScanContext(
    system({ 42: "net:[7]" }, reads),
    new AbortController().signal,
    undefined,
    source,
  );
  assertEquals((await ctx.listeners(42)).map((s) => s.port), [53701]);
  assertEquals(reads.sort(), ["/proc/42/net/tcp", "/proc/42/net/tcp6"]);
  let asked = 0;
  const never: ListenerSource = { listeners: () => (asked++, [SOCKET]) };
  const ctx2 = new ScanContext(
    system({ 43: "pid:43" }, []),
    new AbortController().signal,
    undefined,
    never,
  );
  assertEquals((await ctx2.listeners(43)).map((s) => s.port), [53701]);
  assertEquals(asked, 0);
});
