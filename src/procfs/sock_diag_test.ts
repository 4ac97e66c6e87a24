import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { createSystem } from "../system.ts";
import { listeningSockets, type TcpSocket } from "./net.ts";
import { parseDiagMessages, SockDiag, SockDiagError } from "./sock_diag.ts";

const isRoot = Deno.uid() === 0;
const hasUnshare = (() => {
  try {
    return new Deno.Command("unshare", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();
const real = isRoot && hasUnshare && Deno.build.os === "linux";
const ignore = !real;
if (ignore) console.log("sock_diag_test: the real tests need root and unshare (util-linux)");

const key = (s: TcpSocket) => `${s.family} ${s.address} ${s.port} ${s.inode}`;

/** A process in a network namespace of its own, listening on a v4 and a v6 wildcard port. */
async function listenerInOwnNetns() {
  const code = `const a = Deno.listen({ hostname: "0.0.0.0", port: 0 });
const b = Deno.listen({ hostname: "::", port: 0 });
console.log(a.addr.port, b.addr.port);
for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }`;
  const child = new Deno.Command("unshare", {
    args: ["--net", "--", Deno.execPath(), "eval", code],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    line += value;
  }
  const ports = line.trim().split(" ").map(Number);
  return {
    pid: child.pid,
    ports,
    async stop() {
      await child.stdin.close();
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await child.status;
    },
  };
}

Deno.test({
  name: "SockDiag lists a namespace's LISTEN sockets exactly as /proc/<pid>/net/tcp{,6} do",
  ignore,
  async fn() {
    const l = await listenerInOwnNetns();
    const diag = SockDiag.open();
    try {
      ok(diag, "SockDiag.open() works as root on Linux with glibc");
      const path = `/proc/${l.pid}/ns/net`;
      const ns = await Deno.readLink(path);
      const home = await Deno.readLink("/proc/thread-self/ns/net");
      const got = diag.listeners(path, ns);
      ok(got, "netlink answered");
      assertEquals(await Deno.readLink("/proc/thread-self/ns/net"), home, "back home");
      const fromProc = await listeningSockets(createSystem(), l.pid, { start: 1, end: 65536 });
      assertEquals(got.map(key).sort(), fromProc.map(key).sort());
      assertEquals(got.map((s) => s.port).sort(), [...l.ports].sort());
      assertEquals(new Set(got.map((s) => s.family)), new Set([4, 6]));
      // The socket is kept: a second read asks the same one, and retain closes it.
      assertEquals(diag.listeners(path, ns)?.map(key).sort(), fromProc.map(key).sort());
      assertEquals(diag.size, 1);
      diag.retain(new Set());
      assertEquals(diag.size, 0);
    } finally {
      diag?.close();
      await l.stop();
    }
  },
});

Deno.test({
  name: "SockDiag refuses a namespace that is not the one asked for (a PID reused since)",
  ignore,
  async fn() {
    const l = await listenerInOwnNetns();
    const diag = SockDiag.open();
    try {
      ok(diag);
      const own = await Deno.readLink("/proc/self/ns/net");
      // the child's namespace under the collector's own key: another namespace than the key
      assertEquals(diag.listeners(`/proc/${l.pid}/ns/net`, own), null);
      assertEquals(diag.listeners(`/proc/${l.pid}/ns/net`, "pid:42"), null);
      assertEquals(diag.listeners("/proc/0/ns/net", "net:[1]"), null);
      assertEquals(diag.size, 0);
    } finally {
      diag?.close();
      await l.stop();
    }
  },
});

/** One netlink message: header and payload, padded to 4 bytes. */
function message(type: number, seq: number, payload: Uint8Array): Uint8Array {
  const len = 16 + payload.byteLength;
  const b = new Uint8Array((len + 3) & ~3);
  const v = new DataView(b.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint32(8, seq, true);
  b.set(payload, 16);
  return b;
}

function diagMsg(family: number, state: number, addr: number[], port: number, inode: number) {
  const p = new Uint8Array(72);
  const v = new DataView(p.buffer);
  p[0] = family;
  p[1] = state;
  v.setUint16(4, port, false);
  p.set(addr, 8);
  v.setUint32(68, inode, true);
  return p;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.byteLength);
  return out;
};

Deno.test("parseDiagMessages reads LISTEN entries of both families and stops at DONE", () => {
  const v6 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7];
  const buf = concat(
    message(20, 5, diagMsg(2, 10, [10, 1, 2, 3], 53700, 77)),
    message(20, 5, diagMsg(10, 10, v6, 53701, 78)),
    message(20, 5, diagMsg(2, 1, [10, 1, 2, 3], 80, 79)), // not LISTEN: left out
    message(20, 4, diagMsg(2, 10, [1, 1, 1, 1], 1, 1)), // an earlier request's: left out
    message(3, 5, new Uint8Array(4)),
  );
  const out: TcpSocket[] = [];
  assertEquals(parseDiagMessages(buf, out, 5), true);
  assertEquals(out.map(key), ["4 10.1.2.3 53700 77", "6 ::ffff:10.0.0.7 53701 78"]);
  assertEquals(parseDiagMessages(buf.subarray(0, 88 * 2), [], 5), false);
});

Deno.test("parseDiagMessages refuses lengths that do not fit, and the kernel's errors", () => {
  const m = message(20, 1, diagMsg(2, 10, [1, 2, 3, 4], 1, 1));
  new DataView(m.buffer).setUint32(0, 4000, true);
  throws(() => parseDiagMessages(m, [], 1), SockDiagError);
  const short = message(20, 1, new Uint8Array(0));
  new DataView(short.buffer).setUint32(0, 8, true);
  throws(() => parseDiagMessages(short, [], 1), SockDiagError);
  const err = new Uint8Array(4);
  new DataView(err.buffer).setInt32(0, -22, true);
  throws(() => parseDiagMessages(message(2, 1, err), [], 1), /errno 22/);
  // a message too short for an inet_diag_msg is skipped, not read past
  assertEquals(parseDiagMessages(message(20, 1, new Uint8Array(8)), [], 1), false);
});
