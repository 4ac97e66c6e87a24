/** Where stored coverage goes: path segments, object keys and info.json. */

import { createHash } from "node:crypto";
import type { Target } from "./target.ts";
import { VERSION } from "./version.ts";

/** Longest path segment in bytes (UTF-8): seven of them and a file name stay under S3's 1024. */
export const MAX_SEGMENT_BYTES = 128;
/** Hex digits of the SHA-256 suffix that keeps a cut segment unique. */
const CUT_HASH_HEX = 16;

const encoder = new TextEncoder();

/** The longest start of `s` that is at most `max` bytes in UTF-8 (never half a character). */
function utf8Head(s: string, max: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = encoder.encode(ch).length;
    if (bytes + n > max) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/**
 * Makes one safe path segment from anything a pod or the runtime reports; never throws.
 * `/`, `\`, `:` and `@` become `-`; control characters (NUL included) become `_`; leading `-`
 * are dropped; empty becomes `unknown`; `.` and `..` become `_.` and `_..`. A segment longer than
 * MAX_SEGMENT_BYTES keeps its start and ends in `-` and 16 hex digits of the SHA-256 of the
 * original value, so two long names that differ only at the end stay apart.
 *
 * @example sanitizeSegment("quay.io/ocp/release@sha256:ab") // "quay.io-ocp-release-sha256-ab"
 * @example sanitizeSegment("..") // "_.."
 */
export function sanitizeSegment(s: string): string {
  let out = Array.from(s.replace(/[/\\:@]/g, "-"), (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x20 || c === 0x7f ? "_" : ch;
  }).join("").replace(/^-+/, "");
  if (out === "") return "unknown";
  if (out === "." || out === "..") out = `_${out}`;
  if (encoder.encode(out).length <= MAX_SEGMENT_BYTES) return out;
  const hash = createHash("sha256").update(s).digest("hex").slice(0, CUT_HASH_HEX);
  return `${utf8Head(out, MAX_SEGMENT_BYTES - CUT_HASH_HEX - 1)}-${hash}`;
}

/**
 * The discovery-time segment: UTC `YYYYMMDDTHHMMSSZ`.
 *
 * @example discoveryTime(new Date("2026-11-22T10:00:05.123Z")) // "20261122T100005Z"
 */
export function discoveryTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/**
 * The key prefix of a target's files: `{host}/{ns}/{pod}/{container}/{time}/{imageRef}/{binary}`,
 * or `{host}/_host_/{time}/{binary}` for a server outside any container.
 *
 * @example prefixFor(target, "worker-1") // "worker-1/ns/pod/c/20261122T100005Z/quay.io-x-sha256-1/app"
 */
export function prefixFor(
  target: Pick<Target, "owner" | "identity" | "discoveredAt">,
  hostname: string,
): string {
  const time = discoveryTime(target.discoveredAt);
  const segments = target.owner.kind === "host"
    ? [hostname, "_host_", time, target.identity.binary]
    : [
      hostname,
      target.owner.container.namespace,
      target.owner.container.podName,
      target.owner.container.name,
      time,
      target.owner.container.imageRef,
      target.identity.binary,
    ];
  return segments.map(sanitizeSegment).join("/");
}

/** `{prefix}/covmeta.{hash}`. @example metaKey("p", "ab") // "p/covmeta.ab" */
export function metaKey(prefix: string, hash: string): string {
  return `${prefix}/covmeta.${hash}`;
}

/**
 * `{prefix}/covcounters.{hash}.{pid}.{slot}`: two slots written in turn.
 *
 * @example countersKey("p", "ab", 1, 2) // "p/covcounters.ab.1.2"
 */
export function countersKey(prefix: string, hash: string, pid: number, slot: 1 | 2): string {
  return `${prefix}/covcounters.${hash}.${pid}.${slot}`;
}

/** `{prefix}/info.json`. @example infoKey("p") // "p/info.json" */
export function infoKey(prefix: string): string {
  return `${prefix}/info.json`;
}

/**
 * True for the objects written once per server and needed by all its counters (`covmeta.*`,
 * `info.json`): a spool keeps them longest.
 *
 * @example writtenOnce("p/covmeta.ab") // true
 * @example writtenOnce("p/covcounters.ab.1.2") // false
 */
export function writtenOnce(key: string): boolean {
  const name = key.slice(key.lastIndexOf("/") + 1);
  return name.startsWith("covmeta.") || name === "info.json";
}

/** Who a stored object belongs to: its pod (the unit a spool shares out) and its server. */
export interface StoreOwner {
  /** `{host}/{ns}/{pod}`; for a server outside any container `{host}/_host_/{binary}`. */
  pod: string;
  /** The key's prefix: one server's files. */
  server: string;
}

/**
 * The owner of a key of this layout (see prefixFor). A namespace is a DNS label, so `_host_`
 * in the second segment is always a host server; a key of another shape is its own pod.
 *
 * @example storeOwnerOf("n/ns/p/c/20261122T100005Z/img/app/info.json").pod // "n/ns/p"
 * @example storeOwnerOf("n/_host_/20261122T100005Z/app/covmeta.ab").pod // "n/_host_/app"
 */
export function storeOwnerOf(key: string): StoreOwner {
  // Called for every spooled object on every spooled write: slash positions, no split.
  const at: number[] = [];
  for (let i = key.indexOf("/"); i >= 0 && at.length < 8; i = key.indexOf("/", i + 1)) at.push(i);
  const server = key.slice(0, Math.max(0, key.lastIndexOf("/")));
  if (at.length === 4 && key.slice(at[0] + 1, at[1]) === "_host_") {
    return { pod: key.slice(0, at[1]) + key.slice(at[2], at[3]), server };
  }
  if (at.length === 7) return { pod: key.slice(0, at[2]), server };
  return { pod: server, server };
}

/** Facts for info.json that the target does not carry. */
export interface InfoExtra {
  hostname: string;
  nodeName?: string;
  /** /proc/sys/kernel/random/boot_id: with hostPid and hostStartTime it names one process. */
  bootId?: string;
  /** Who runs the pod, per the pod watch (src/kube/workload.ts). */
  workload?: { controller?: { kind: string; name: string }; kind: string; name: string };
  /** The image's source labels (src/cri/image_source.ts): used where the headers say nothing. */
  imageSource?: { url?: string; commit?: string };
}

/**
 * The info.json of a target: `binary`, `host`, `port`, `pid` (the server's own PID), every extra
 * identity header, and the owner's facts for a reader; `hostPid`, `hostStartTime` and `bootId`
 * name the process (`report` merges two prefixes of one process: src/report/processes.ts).
 * The pod's controller and workload (`controllerKind`, `controllerName`, `workloadKind`,
 * `workloadName`) are there when the pod watch knew the pod; `source_url` and `source_commit`
 * come from the image's labels when no header gave them (`sourceFrom` says which did).
 *
 * @example infoJson(target, { hostname: "worker-1" }) // '{\n  "source_commit": "abc",\n  "binary": ...'
 */
export function infoJson(target: Target, extra: InfoExtra): string {
  const c = target.owner.kind === "container" ? target.owner.container : undefined;
  const headers = target.identity.extra;
  const fromImage: Record<string, string> = {};
  if (headers.source_url === undefined && extra.imageSource?.url !== undefined) {
    fromImage.source_url = extra.imageSource.url;
  }
  if (headers.source_commit === undefined && extra.imageSource?.commit !== undefined) {
    fromImage.source_commit = extra.imageSource.commit;
  }
  const from = [
    ...(headers.source_url !== undefined || headers.source_commit !== undefined ? ["headers"] : []),
    ...(Object.keys(fromImage).length > 0 ? ["image-labels"] : []),
  ];
  const w = c ? extra.workload : undefined;
  const doc: Record<string, unknown> = {
    ...fromImage,
    ...headers,
    binary: target.identity.binary,
    host: target.host,
    port: target.port,
    pid: target.identity.pid,
    hostPid: target.hostPid,
    hostStartTime: target.hostStartTime,
    bootId: extra.bootId,
    owner: target.owner.kind,
    podUid: c?.podUid,
    namespace: c?.namespace,
    pod: c?.podName,
    container: c?.name,
    containerId: c?.id,
    imageRef: c?.imageRef,
    controllerKind: w?.controller?.kind,
    controllerName: w?.controller?.name,
    workloadKind: w?.kind,
    workloadName: w?.name,
    sourceFrom: from.length > 0 ? from.join("+") : undefined,
    nodeName: extra.nodeName,
    hostname: extra.hostname,
    discoveredAt: target.discoveredAt.toISOString(),
    collectorVersion: VERSION,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
