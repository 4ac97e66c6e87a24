/**
 * Decode cost of one large coverage body: `scripts/bench --decode [--body 64MiB]`, or
 * `deno run -A scripts/bench_decode.ts [--body 64MiB] [--old]`.
 *
 * A separate server process streams a /coverage body of the given size (a meta-data file of
 * nearly all of it, valid throughout, plus a small counters file) from a temporary file; a fresh
 * measuring process pulls it with the collector's own pull and check, and stores the meta-data
 * with the directory sink, while a 5 ms timer measures how late it fires (the longest event-loop
 * stall). Reported: wall time, RSS before/after/peak and their growth over the body size.
 * `--old` decodes the way the collector did before streaming decode (body text, JSON.parse,
 * `Uint8Array.from(atob(...))`), for the before/after figure.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseBytes } from "../src/units.ts";
import { pullCoverage } from "../src/collect/pull.ts";
import { checkCoverage, decodeCounters, decodeMeta, verifyMeta } from "../src/collect/coverage.ts";
import { DirSink } from "../src/sink/dir.ts";
import { fakeBuild, identityHeaders, makeCounters } from "../tests/harness/covfiles.ts";
import { startStallProbe } from "./bench_lib.ts";

/** What one measuring run reports. */
export interface DecodeReport {
  mode: "streaming" | "old";
  bodyMiB: number;
  metaMiB: number;
  ms: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  peakMiB: number;
  /** (peak RSS − RSS before) / body size. */
  growthOverBody: number;
  longestStallMs: number;
}

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) : NaN;
}

/** Writes a body of about `size` bytes to `path`. */
async function writeBody(path: string, size: number): Promise<number> {
  const metaLen = Math.floor((size - 300) / 4) * 3 - 56;
  // A real-shaped file (hashes as Go computes them): the collector decodes all of it.
  const { hash: HASH, bytes: meta } = fakeBuild("bench", metaLen);
  const counters = makeCounters(HASH, 7);
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  const w = async (s: string) => await f.write(new TextEncoder().encode(s));
  await w(`{"meta_filename":"covmeta.${HASH}","meta_data":"`);
  const step = 3 * (1 << 16);
  for (let i = 0; i < meta.length; i += step) await w(meta.subarray(i, i + step).toBase64());
  await w(
    `","counters_filename":"covcounters.${HASH}.1.2","counters_data":"${counters.toBase64()}"`,
  );
  await w(`,"timestamp":1}`);
  f.close();
  return meta.length;
}

function serve(path: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    const file = await Deno.open(path);
    return new Response(file.readable, { headers: identityHeaders("big", 1) });
  });
}

async function oldDecode(port: number, maxBody: number) {
  const res = await fetch(`http://127.0.0.1:${port}/coverage`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > maxBody) throw new Error("too large");
  const json = JSON.parse(new TextDecoder().decode(bytes));
  const b64 = (s: string) => Uint8Array.from(atob(s.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  return {
    meta: decodeMeta(b64(json.meta_data)),
    counters: decodeCounters(b64(json.counters_data), json.counters_filename),
  };
}

/** One measuring run, in this process (call it in a fresh one). */
async function measure(
  port: number,
  mode: "streaming" | "old",
  bodySize: number,
  metaSize: number,
) {
  const out = await Deno.makeTempDir({ prefix: "bench-decode-" });
  const sink = new DirSink(out);
  const stall = startStallProbe();
  await new Promise((r) => setTimeout(r, 200));
  const before = statusKiB("VmRSS");
  const t0 = performance.now();
  const maxBody = bodySize + (1 << 20);
  if (mode === "old") {
    const d = await oldDecode(port, maxBody);
    await sink.put(`x/covmeta.${d.meta.hash}`, d.meta.bytes);
  } else {
    const r = await pullCoverage({
      host: "127.0.0.1",
      port,
      nometa: false,
      timeoutMs: 600_000,
      maxBody,
    });
    // As the collector does: the meta-data decoded and checked yielding, then the rest.
    const meta = await verifyMeta(r.body.meta_data);
    const d = checkCoverage(r.body, { expectMeta: true, meta });
    await sink.put(`x/covmeta.${d.meta!.hash}`, d.meta!.bytes);
  }
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 50));
  stall.stop();
  const after = statusKiB("VmRSS");
  const peak = statusKiB("VmHWM");
  await Deno.remove(out, { recursive: true });
  const mib = (kib: number) => Number((kib / 1024).toFixed(1));
  const report: DecodeReport = {
    mode,
    bodyMiB: Number((bodySize / 1048576).toFixed(1)),
    metaMiB: Number((metaSize / 1048576).toFixed(1)),
    ms: Math.round(ms),
    rssBeforeMiB: mib(before),
    rssAfterMiB: mib(after),
    peakMiB: mib(peak),
    growthOverBody: Number((((peak - before) * 1024) / bodySize).toFixed(2)),
    longestStallMs: Math.round(stall.longest()),
  };
  return report;
}

/**
 * Writes the body, serves it from this process, and measures each mode in a fresh process.
 * @example const reports = await runDecodeBench(64 << 20, ["streaming", "old"]);
 */
export async function runDecodeBench(
  bodySize: number,
  modes: ("streaming" | "old")[],
  v8Flags: string[] = [],
): Promise<DecodeReport[]> {
  const dir = await Deno.makeTempDir({ prefix: "bench-body-" });
  const path = join(dir, "body.json");
  const server = serve(path);
  try {
    const metaSize = await writeBody(path, bodySize);
    const size = (await Deno.stat(path)).size;
    const out: DecodeReport[] = [];
    for (const mode of modes) {
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          ...v8Flags,
          new URL(import.meta.url).pathname,
          "--measure",
          mode,
          "--port",
          String(server.addr.port),
          "--size",
          String(size),
          "--meta",
          String(metaSize),
        ],
        stderr: "inherit",
      }).output();
      const line = new TextDecoder().decode(child.stdout).split("\n").find((l) =>
        l.startsWith("DECODE_JSON ")
      );
      if (!child.success || !line) throw new Error(`bench decode: the ${mode} run failed`);
      out.push(JSON.parse(line.slice("DECODE_JSON ".length)));
    }
    return out;
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The --v8-flags of deno.json's start task (what the daemon runs with). */
export async function startV8Flags(): Promise<string[]> {
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return String(cfg.tasks?.start ?? "").split(/\s+/).filter((t) => t.startsWith("--v8-flags="));
}

/** A table of decode reports. */
export function formatDecode(reports: DecodeReport[]): string {
  const head =
    "mode       body MiB  meta MiB  time ms  RSS before→peak MiB  growth/body  longest stall ms";
  const rows = reports.map((r) =>
    `${r.mode.padEnd(10)} ${String(r.bodyMiB).padStart(8)}  ${String(r.metaMiB).padStart(8)}  ${
      String(r.ms).padStart(7)
    }  ${`${r.rssBeforeMiB}→${r.peakMiB}`.padStart(19)}  ${
      String(r.growthOverBody).padStart(11)
    }  ${String(r.longestStallMs).padStart(16)}`
  );
  return [head, ...rows].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      body: { type: "string" },
      old: { type: "boolean" },
      measure: { type: "string" },
      port: { type: "string" },
      size: { type: "string" },
      meta: { type: "string" },
      "v8-flags": { type: "string" },
    },
  });
  if (values.measure) {
    const mode = values.measure === "old" ? "old" : "streaming";
    const r = await measure(Number(values.port), mode, Number(values.size), Number(values.meta));
    console.log(`DECODE_JSON ${JSON.stringify(r)}`);
  } else {
    const size = parseBytes(values.body ?? "64MiB");
    const flags = values["v8-flags"] ? [`--v8-flags=${values["v8-flags"]}`] : await startV8Flags();
    const modes: ("streaming" | "old")[] = values.old ? ["streaming", "old"] : ["streaming"];
    const reports = await runDecodeBench(size, modes, flags);
    console.log(formatDecode(reports));
    console.log(`BENCH_DECODE_JSON ${JSON.stringify(reports)}`);
  }
}
