/**
 * A hostile coverage server, one process per kind, for the hostile benchmark
 * (`scripts/bench_hostile.ts`): it answers the HEAD identity probe as a coverage server does and
 * then sends what a pod could send to hurt the collector. HTTP is written by hand on purpose: a
 * hostile peer lies in ways a server library would not let it (a Content-Length it never sends).
 *
 *   deno run -A tests/doubles/hostile_server.ts --kind KIND --port-start P --port-span S
 *     [--meta FILE --counters FILE] (a real build's files: forged-hash, big-counters,
 *     huge-counters and pid-flood start from them)
 *
 * Kinds: overlap-meta, forged-hash, big-counters (4 MB of counters), huge-counters (20 M),
 * trickle (announces 60 MB, sends a byte a second), silent (300 listeners on 127.0.1.1..15 that
 * accept and never answer), pid-flood (a new PID in counters_filename on every pull), names
 * (control characters, ESC/OSC and C1 in package, file and function names). It prints
 * `coverage-port=N` on stderr once listening, and runs until killed.
 */

import { parseArgs } from "node:util";
import { hugeCounters } from "./hostile_bodies.ts";
import { encodeMetaFile, overlappingMeta } from "../harness/metafile.ts";
import { encodeCounterFile } from "../harness/counterfile.ts";

/** The kinds of hostile server this double can be. */
export const KINDS = [
  "overlap-meta",
  "forged-hash",
  "big-counters",
  "huge-counters",
  "trickle",
  "silent",
  "pid-flood",
  "names",
] as const;
type Kind = typeof KINDS[number];

const utf8 = new TextEncoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

interface Body {
  meta: Uint8Array | null;
  counters: Uint8Array;
  pid: () => number;
}

/** What a kind answers on /coverage (null: never answers). */
async function bodyOf(kind: Kind, metaFile?: string, countersFile?: string): Promise<Body | null> {
  const real = async () => {
    if (!metaFile || !countersFile) throw new Error(`--kind ${kind} needs --meta and --counters`);
    return { meta: await Deno.readFile(metaFile), counters: await Deno.readFile(countersFile) };
  };
  const one = () => 1;
  switch (kind) {
    case "overlap-meta": {
      const meta = overlappingMeta(700, 3000, 50);
      return {
        meta,
        counters: encodeCounterFile({ hash: hex(meta.subarray(24, 40)), functions: [] }),
        pid: one,
      };
    }
    case "forged-hash": {
      // A tiny file that claims the real build's hash: one package, one function, 3 statements.
      const r = await real();
      const claimed = hex(r.meta.subarray(24, 40));
      const meta = encodeMetaFile({
        hash: claimed,
        mode: "atomic",
        granularity: 1,
        packages: [{
          path: "example.com/forged",
          name: "main",
          modulePath: "example.com/forged",
          functions: [{
            name: "main",
            file: "example.com/forged/main.go",
            literal: false,
            units: [{ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 3 }],
          }],
        }],
      });
      meta.set(r.meta.subarray(24, 40), 24);
      return {
        meta,
        counters: encodeCounterFile({
          hash: claimed,
          functions: [{ pkgIdx: 0, funcIdx: 0, counters: [0] }],
        }),
        pid: one,
      };
    }
    case "big-counters":
    case "huge-counters": {
      const r = await real();
      const hash = hex(r.meta.subarray(24, 40));
      const counters = kind === "big-counters"
        ? hugeCounters(hash, { functions: 400_000, perFunction: 8 })
        : hugeCounters(hash, { functions: 1, perFunction: 20_000_000 });
      return { meta: r.meta, counters, pid: one };
    }
    case "pid-flood": {
      const r = await real();
      let pid = 1000;
      return { ...r, pid: () => pid++ };
    }
    case "names": {
      const bad = "evil\nmain.go:1.1,2.1 1 1\x1b[31mred\x1b]8;;http://x\x07\u009b2J\u2028";
      const meta = encodeMetaFile({
        hash: "00".repeat(16),
        mode: "atomic",
        granularity: 1,
        packages: [{
          path: `example.com/${bad}`,
          name: "main",
          modulePath: "example.com",
          functions: [{
            name: `f${bad}`,
            file: `example.com/${bad}.go`,
            literal: false,
            units: [{ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 1 }],
          }],
        }],
      });
      return {
        meta,
        counters: encodeCounterFile({
          // The hash the collector computes from the meta-data (the harness writes it at 24..40).
          hash: hex(meta.subarray(24, 40)),
          functions: [{ pkgIdx: 0, funcIdx: 0, counters: [1] }],
        }),
        pid: one,
      };
    }
    default:
      return null;
  }
}

function jsonBody(b: Body, nometa: boolean): Uint8Array {
  const h = b.meta ? hex(b.meta.subarray(24, 40)) : "unknown";
  return utf8.encode(JSON.stringify({
    meta_filename: nometa || !b.meta ? "" : `covmeta.${h}`,
    meta_data: nometa || !b.meta ? "" : b.meta.toBase64(),
    counters_filename: `covcounters.${h}.${b.pid()}.${Date.now()}000000`,
    counters_data: b.counters.toBase64(),
    timestamp: Date.now() * 1e6,
  }));
}

function identity(kind: Kind): string {
  return [
    "X-Art-Coverage-Server: 1",
    `X-Art-Coverage-Pid: ${Deno.pid}`,
    `X-Art-Coverage-Binary: hostile-${kind}`,
  ].join("\r\n");
}

/** Reads one request head; null when the peer closed first or sent more than 16 KiB. */
async function readHead(conn: Deno.Conn): Promise<string | null> {
  const buf = new Uint8Array(16384);
  let n = 0;
  while (n < buf.length) {
    const got = await conn.read(buf.subarray(n)).catch(() => null);
    if (got === null) return null;
    n += got;
    const text = new TextDecoder().decode(buf.subarray(0, n));
    if (text.includes("\r\n\r\n")) return text;
  }
  return null;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

async function serveConn(conn: Deno.Conn, kind: Kind, body: Body | null): Promise<void> {
  try {
    const head = await readHead(conn);
    if (head === null) return;
    const [method, target] = head.split(" ");
    const id = identity(kind);
    if (method === "HEAD" || !target.startsWith("/coverage")) {
      await writeAll(
        conn,
        utf8.encode(`HTTP/1.1 200 OK\r\n${id}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
      );
      return;
    }
    if (kind === "trickle") {
      await writeAll(
        conn,
        utf8.encode(
          `HTTP/1.1 200 OK\r\n${id}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${60 * 1024 * 1024}\r\nConnection: close\r\n\r\n{"meta_data":"`,
        ),
      );
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        await writeAll(conn, utf8.encode("A"));
      }
    }
    const json = jsonBody(body!, target.includes("nometa=1"));
    await writeAll(
      conn,
      utf8.encode(
        `HTTP/1.1 200 OK\r\n${id}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${json.length}\r\nConnection: close\r\n\r\n`,
      ),
    );
    await writeAll(conn, json);
  } catch {
    // the collector hung up: that is its right
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function listenFirstFree(hostname: string, start: number, span: number): Deno.Listener | null {
  for (let p = start; p < start + span; p++) {
    try {
      return Deno.listen({ hostname, port: p });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
  return null;
}

async function acceptSilently(l: Deno.Listener, held: Deno.Conn[]): Promise<void> {
  for await (const c of l) held.push(c);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      kind: { type: "string" },
      "port-start": { type: "string" },
      "port-span": { type: "string", default: "50" },
      meta: { type: "string" },
      counters: { type: "string" },
    },
  });
  const kind = values.kind as Kind;
  if (!KINDS.includes(kind)) throw new Error(`--kind must be one of ${KINDS.join(", ")}`);
  const start = Number(values["port-start"]);
  const span = Number(values["port-span"]);
  if (kind === "silent") {
    const held: Deno.Conn[] = [];
    const listeners: Deno.Listener[] = [];
    // 15 loopback addresses × 20 ports at the top of the range: 300 listeners of one process
    for (let a = 1; a <= 15; a++) {
      for (let p = start + span - 20; p < start + span; p++) {
        listeners.push(Deno.listen({ hostname: `127.0.1.${a}`, port: p }));
      }
    }
    console.error(`coverage-port=${start + span - 20} listeners=${listeners.length}`);
    await Promise.all(listeners.map((l) => acceptSilently(l, held)));
    return;
  }
  const body = await bodyOf(kind, values.meta, values.counters);
  const l = listenFirstFree("0.0.0.0", start, span - 20);
  if (!l) throw new Error(`no free port in ${start}..${start + span - 21}`);
  console.error(`coverage-port=${(l.addr as Deno.NetAddr).port}`);
  for await (const conn of l) serveConn(conn, kind, body);
}

if (import.meta.main) await main();
