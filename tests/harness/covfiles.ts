/** Hand-built Go coverage files and a fake coverage server, for collection tests. */

import { hexBytes } from "../../src/coverage/byte_writer.ts";
import type { FunctionCounters } from "../../src/coverage/counters.ts";
import type { Sink } from "../../src/sink/sink.ts";
import { encodeCounterFile } from "./counterfile.ts";
import { encodeMetaFile, realHash } from "./metafile.ts";
import type { ParsedMeta } from "../../src/coverage/meta.ts";
import type { ContainerInfo, Target } from "../../src/target.ts";

/** The meta-data files fakeBuild made, by their (computed) hash. */
const builds = new Map<string, Uint8Array>();

/**
 * A real-shaped meta-data file of a one-package build named `label` (hashes computed as the Go
 * runtime does, so the collector takes it), of at least `size` bytes (units added to reach it).
 * makeMeta(hash) gives its bytes again.
 *
 * @example const APP = fakeBuild("app"); makeMeta(APP.hash) // the same bytes
 */
export function fakeBuild(
  label: string,
  size = 0,
  /** Units of function f of package p (`[[1]]`: one function of one unit); counters the fake
   * server sends must fit them. */
  shape: number[][] = [[1]],
): { hash: string; bytes: Uint8Array } {
  const unit = { stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 1 };
  const meta: ParsedMeta = {
    hash: "",
    mode: "atomic",
    granularity: 1,
    packages: shape.map((fns, p) => ({
      path: `example.test/${label}${p === 0 ? "" : `/p${p}`}`,
      name: p === 0 ? "main" : `p${p}`,
      modulePath: "example.test",
      functions: fns.map((n, f) => ({
        name: f === 0 ? "main" : `f${f}`,
        file: p === 0 ? `${label}/main.go` : `${label}/p${p}.go`,
        literal: false,
        units: new Array(n).fill(unit),
      })),
    })),
  };
  const base = encodeMetaFile(meta).length;
  // Each added unit takes 5 bytes (five one-byte ULEB128 values).
  const more = Math.max(0, Math.ceil((size - base) / 5));
  if (more > 0) meta.packages[0].functions[0].units = new Array(1 + more).fill(unit);
  const bytes = encodeMetaFile(meta);
  const hash = realHash(meta);
  builds.set(hash, bytes);
  return { hash, bytes: bytes.slice() };
}

/**
 * A copy of the meta-data file of the fakeBuild whose hash is `hash` (an error for any other:
 * a made-up hash is no longer a file the collector takes).
 */
export function makeMeta(hash: string): Uint8Array {
  const bytes = builds.get(hash);
  if (!bytes) throw new Error(`no fakeBuild has hash ${hash}: make one with fakeBuild(label)`);
  return bytes.slice();
}

/** A counter-data file for meta hash `hashHex` whose payload carries `value`. */
export function makeCounters(hashHex: string, value = 0, flavor = 2): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  b.set([0x00, 0x63, 0x77, 0x6d], 0);
  v.setUint32(4, 1, true);
  b.set(hexBytes(hashHex), 8);
  b[24] = flavor;
  v.setUint32(32, value, true);
  return b;
}

/** base64 of bytes. */
export function b64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** A /coverage body as the field servers make it (names from the wrong bytes, as they do). */
export function coverageBody(
  meta: Uint8Array | null,
  counters: Uint8Array,
  pid = 1,
): Record<string, unknown> {
  const wrongHash = Array.from(meta?.subarray(16, 32) ?? [], (x) => x.toString(16).padStart(2, "0"))
    .join("") || "unknown";
  return {
    meta_filename: meta ? `covmeta.${wrongHash}` : "",
    meta_data: meta ? b64(meta) : "",
    counters_filename: `covcounters.${wrongHash}.${pid}.1732270000123456789`,
    counters_data: b64(counters),
    timestamp: 1732270000123456789,
  };
}

/** Identity headers of a coverage server. */
export function identityHeaders(binary: string, pid: number): Record<string, string> {
  return {
    "x-art-coverage-server": "1",
    "x-art-coverage-pid": String(pid),
    "x-art-coverage-binary": binary,
    "x-art-coverage-source-commit": "abc123",
  };
}

/** An in-memory Sink that records every put, and can be told to fail. */
export class MemorySink implements Sink {
  readonly description = "memory:";
  readonly objects = new Map<string, Uint8Array>();
  readonly puts: string[] = [];
  failNext = 0;

  put(key: string, data: Uint8Array): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error(`memory sink: refused ${key}`));
    }
    this.puts.push(key);
    this.objects.set(key, data.slice());
    return Promise.resolve();
  }
}

/** A container target for tests; `overrides` replace fields of the target or its container. */
export function makeTarget(
  overrides: Partial<Target> & { container?: Partial<ContainerInfo> } = {},
): Target {
  const { container: containerOverrides, ...rest } = overrides;
  const container: ContainerInfo = {
    id: "c0ffee",
    sandboxId: "5andb0x",
    name: "app",
    podName: "app-7d9f",
    namespace: "demo",
    podUid: "uid-1",
    pid: 4242,
    imageRef: "quay.io/ocp/app@sha256:abcd",
    network: "POD",
    podIp: "127.0.0.1",
    coveragePort: 53700,
    ...containerOverrides,
  };
  return {
    key: "demo/app-7d9f/app:53700",
    owner: { kind: "container", container },
    host: "127.0.0.1",
    port: 53700,
    identity: { binary: "app", pid: 1, extra: { source_commit: "abc123" } },
    hostPid: 4242,
    discoveredAt: new Date("2026-11-22T10:00:05.123Z"),
    ...rest,
  };
}

/** What the fake coverage server answers; change fields between pulls. */
export interface FakeCoverageState {
  binary: string;
  pid: number;
  hash: string;
  /** Counter payload value: change it to make new counters. */
  value: number;
  /** When set, real counter-data files of these functions instead (`value` unused). */
  functions?: FunctionCounters[];
  /** Meta hash written into the counters (default: `hash`). */
  countersHash?: string;
  /** Answer this status with an empty body instead of coverage. */
  status?: number;
  /** Raw body in place of the JSON. */
  rawBody?: string;
}

/** A fake coverage server on loopback; records the paths asked and the most pulls at once. */
export interface FakeCoverageServer {
  port: number;
  state: FakeCoverageState;
  requests: string[];
  maxConcurrent: number;
  /** Resolves once `n` requests have arrived. */
  waitRequests(n: number): Promise<void>;
  /** Makes the next answers wait until `release()`. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/** Starts a fake coverage server answering /coverage from `state`. */
export function startFakeCoverageServer(state: FakeCoverageState): FakeCoverageServer {
  const ac = new AbortController();
  let inFlight = 0;
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const fake: FakeCoverageServer = {
    port: 0,
    state,
    requests: [],
    maxConcurrent: 0,
    waitRequests(n) {
      if (fake.requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    hold() {
      gate = new Promise((r) => open = r);
    },
    release() {
      open();
      gate = Promise.resolve();
    },
    async close() {
      open();
      ac.abort();
      await server.finished;
    },
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      fake.requests.push(url.pathname + url.search);
      for (const w of waiters.filter((w) => fake.requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      inFlight++;
      fake.maxConcurrent = Math.max(fake.maxConcurrent, inFlight);
      try {
        await gate;
        const s = fake.state;
        const headers = identityHeaders(s.binary, s.pid);
        if (s.status) return new Response("", { status: s.status, headers });
        if (s.rawBody !== undefined) return new Response(s.rawBody, { headers });
        const nometa = url.searchParams.get("nometa") === "1";
        const body = coverageBody(
          nometa ? null : makeMeta(s.hash),
          s.functions
            ? encodeCounterFile({ hash: s.countersHash ?? s.hash, functions: s.functions })
            : makeCounters(s.countersHash ?? s.hash, s.value),
          s.pid,
        );
        return Response.json(body, { headers });
      } finally {
        inFlight--;
      }
    },
  );
  fake.port = server.addr.port;
  return fake;
}
