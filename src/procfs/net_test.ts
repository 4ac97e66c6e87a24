import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createSystem } from "../system.ts";
import { FakeProc, renderNetTcp } from "../../tests/doubles/fakeproc.ts";
import {
  dialAddress,
  isLoopback,
  isWildcard,
  LISTEN,
  listeningSockets,
  parseProcNetTcp,
} from "./net.ts";

import { SAMPLES } from "../../tests/testdata/samples.ts";

Deno.test("parseProcNetTcp reads the tcp6 sample: listeners, ports, inodes, mapped address", () => {
  const text = Deno.readTextFileSync(new URL("proc-net-tcp6.txt", SAMPLES));
  const all = parseProcNetTcp(text, 6);
  assertEquals(all.length, 4);
  assertEquals(
    all.filter((s) => s.state === LISTEN).map((s) => [s.address, s.port, s.inode]),
    [["::", 53700, 412337], ["::", 53701, 412391], ["::", 6667, 20144]],
  );
  assertEquals(all[3].address, "::ffff:127.0.0.1");
  assertEquals(all[3].state, "01");
});

Deno.test("parseProcNetTcp decodes IPv4 in host byte order and skips junk rows", () => {
  const text = "  sl  local_address rem_address   st\n" +
    "   0: 0100007F:D1C4 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 777 1\n" +
    "   1: 0500000A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 778 1\n" +
    "garbage line\n   2: ZZ:1 00000000:0000 0A a b c 0 0 9 1\n";
  assertEquals(parseProcNetTcp(text, 4).map((s) => [s.address, s.port, s.inode]), [
    ["127.0.0.1", 53700, 777],
    ["10.0.0.5", 80, 778],
  ]);
});

Deno.test("parseProcNetTcp round-trips the fake renderer for v6 loopback and mapped addresses", () => {
  const text = renderNetTcp([
    { address: "::1", port: 53702, inode: 5 },
    { address: "::ffff:10.244.1.2", port: 53703, inode: 6 },
  ], 6);
  assertEquals(parseProcNetTcp(text, 6).map((s) => s.address), ["::1", "::ffff:10.244.1.2"]);
});

Deno.test("parseProcNetTcp compresses IPv6 addresses", () => {
  // 2001:db8::5 as the kernel prints it on little-endian hosts: each 32-bit word byte-swapped
  const text = "h\n 0: B80D0120000000000000000005000000:D1C4 0:0 0A 0:0 0:0 0 0 0 99 1\n";
  const [s] = parseProcNetTcp(text, 6);
  assertEquals(s.address, "2001:db8::5");
});

Deno.test("dialAddress never gives an empty host and maps wildcard/loopback", () => {
  assertEquals(dialAddress({ address: "::", family: 6 }), "::1");
  assertEquals(dialAddress({ address: "0.0.0.0", family: 4 }), "127.0.0.1");
  assertEquals(dialAddress({ address: "127.0.0.53", family: 4 }), "127.0.0.53");
  assertEquals(dialAddress({ address: "::ffff:0.0.0.0", family: 6 }), "127.0.0.1");
  assertEquals(dialAddress({ address: "fd00::5", family: 6 }), "fd00::5");
  assertEquals(
    ["::", "0.0.0.0", "::ffff:0.0.0.0", "::1", "10.0.0.5"].map(isWildcard),
    [true, true, true, false, false],
  );
  assertEquals(dialAddress({ address: "::ffff:127.0.0.1", family: 6 }), "127.0.0.1");
  assertEquals(dialAddress({ address: "::1", family: 6 }), "::1");
  assertEquals(dialAddress({ address: "10.0.0.5", family: 4 }), "10.0.0.5");
  assertEquals(isLoopback("::1"), true);
  assertEquals(isLoopback("::"), false);
});

Deno.test("listeningSockets reads tcp and tcp6, keeps LISTEN in range, and [] for a gone pid", async () => {
  const fake = new FakeProc();
  try {
    fake.setNet("host", [
      { address: "0.0.0.0", port: 53700, inode: 10 },
      { address: "::", port: 53701, inode: 11 },
      { address: "::", port: 53701, inode: 12, state: "01" },
      { address: "::", port: 8080, inode: 13 },
    ]);
    fake.add({ pid: 7, ppid: 1 });
    const sys = createSystem(fake.root);
    const got = await listeningSockets(sys, 7, { start: 53700, end: 53800 });
    assertEquals(got.map((s) => s.inode).sort(), [10, 11]);
    assertEquals(await listeningSockets(sys, 99999, { start: 1, end: 65536 }), []);
  } finally {
    fake.cleanup();
  }
});

Deno.test("listeningSockets on the real /proc finds a listener of our own", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (server.addr as Deno.NetAddr).port;
    const got = await listeningSockets(createSystem(), Deno.pid, { start: port, end: port + 1 });
    assertEquals(got.map((s) => [s.address, s.port]), [["127.0.0.1", port]]);
  } finally {
    server.close();
  }
});
