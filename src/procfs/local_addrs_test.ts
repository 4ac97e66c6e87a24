import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseFibTrieLocal, parseIfInet6 } from "./local_addrs.ts";

const FIB = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.0.0.0/24 2 0 2
        |-- 10.0.0.0
           /24 link UNICAST
        |-- 10.0.0.5
           /32 host LOCAL
        |-- 10.0.0.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        |-- 127.0.0.0
           /8 host LOCAL
        |-- 127.0.0.1
           /32 host LOCAL
     |-- 192.0.2.7
        /24 link UNICAST
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.0.0.5
        /32 host LOCAL
`;

Deno.test("fib_trie: the /32 host LOCAL leaves, nothing else (not broadcast, not routes)", () => {
  assertEquals([...parseFibTrieLocal(FIB)].sort(), ["10.0.0.5", "127.0.0.1", "192.0.2.7"]);
  assertEquals(parseFibTrieLocal(""), new Set());
  assertEquals(parseFibTrieLocal("|-- 999.1.1.1\n /32 host LOCAL\n|-- 1.2.3.4 junk\n"), new Set());
});

Deno.test("if_inet6: addresses in RFC 5952 form; bad lines skipped", () => {
  const text = "00000000000000000000000000000001 01 80 10 80       lo\n" +
    "fd000000000000000000000000000002 04 40 00 82     eth0\n" +
    "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n" +
    "zz 01\n";
  assertEquals([...parseIfInet6(text)].sort(), ["::1", "fd00::2", "fe80::fc:ff:fe00:1"]);
});
