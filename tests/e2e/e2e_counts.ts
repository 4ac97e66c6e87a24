/**
 * Counter comparisons of the end-to-end tests: the app packages' block counts of stored data
 * against a server's counters read straight from it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { S3Server } from "../harness/s3.ts";
import { byPrefix, type E2eServer, goTool } from "./e2e_util.ts";

/**
 * `go tool covdata textfmt` lines of the fixture's app packages (alpha, beta, gamma), sorted:
 * block counts that only app routes change (pulls change the coverage server's own counters).
 * @example await appCounts(dir) // ["example.test/covserver/alpha/alpha.go:7.22,8.13 1 3", ...]
 */
export async function appCounts(dir: string): Promise<string[]> {
  const file = join(dir, "..", `${dir.split("/").pop()}.textfmt`);
  await goTool(["covdata", "textfmt", "-i", dir, "-o", file]);
  const text = await Deno.readTextFile(file);
  await Deno.remove(file);
  return text.split("\n").filter((l) => /\/(alpha|beta|gamma)\/\w+\.go:/.test(l)).sort();
}

/**
 * The server's counters now, straight from `GET /coverage` (base64 decoded).
 * @example const bytes = await directCounters(server);
 */
export async function directCounters(s: E2eServer): Promise<Uint8Array> {
  const res = await fetch(`http://${s.address}:${s.coveragePort}/coverage?nometa=1`);
  assert.equal(res.status, 200, `GET /coverage?nometa=1 of ${s.binary}`);
  const body = await res.json();
  assert.equal(typeof body.counters_data, "string", `counters_data of ${s.binary}`);
  return Uint8Array.from(atob(body.counters_data), (c) => c.charCodeAt(0));
}

/**
 * Whether one stored counters slot has the same app-package counts as `counters` (read with the
 * stored meta): `files` maps base names of one prefix to their bytes.
 */
export async function someSlotEquals(
  files: Map<string, Uint8Array>,
  counters: Uint8Array,
  what: string,
): Promise<boolean> {
  const meta = [...files.keys()].find((n) => n.startsWith("covmeta."));
  assert.ok(meta, `${what}: no covmeta`);
  const hash = meta.slice("covmeta.".length);
  const tmp = await Deno.makeTempDir({ prefix: "cc-e2e-cmp-" });
  try {
    const countsOf = async (name: string, bytes: Uint8Array) => {
      const d = join(tmp, name);
      await Deno.mkdir(d);
      await Deno.writeFile(join(d, meta), files.get(meta)!);
      await Deno.writeFile(join(d, `covcounters.${hash}.1.1`), bytes);
      return (await appCounts(d)).join("\n");
    };
    const want = await countsOf("direct", counters);
    assert.ok(want.split("\n").length >= 10, `${what}: no app blocks in textfmt: ${want}`);
    const slots = [...files.keys()].filter((n) => n.startsWith("covcounters."));
    for (const [i, slot] of slots.entries()) {
      if ((await countsOf(`slot${i}`, files.get(slot)!)) === want) return true;
    }
    return false;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Writes `files` (base name → bytes) into a new directory under `parent`; returns its path.
 * @example const d = await writeFiles(tmp, files);
 */
export async function writeFiles(parent: string, files: Map<string, Uint8Array>): Promise<string> {
  const d = await Deno.makeTempDir({ dir: parent });
  for (const [name, bytes] of files) await Deno.writeFile(join(d, name), bytes);
  return d;
}

/**
 * Every prefix under `base` in the bucket: prefix (without `base/`) → base name → bytes.
 * @example (await s3Prefixes(s3, "ci/x")).get("node/_host_/20261122T100005Z/app")
 */
export async function s3Prefixes(
  s3: S3Server,
  base: string,
): Promise<Map<string, Map<string, Uint8Array>>> {
  const keys = await s3.objects(`${base}/`);
  const out = new Map<string, Map<string, Uint8Array>>();
  for (const [prefix, names] of byPrefix(keys.map((k) => k.slice(base.length + 1)))) {
    const files = new Map<string, Uint8Array>();
    for (const n of names) {
      const bytes = await s3.get(`${base}/${prefix}/${n}`);
      if (bytes) files.set(n, bytes);
    }
    out.set(prefix, files);
  }
  return out;
}
