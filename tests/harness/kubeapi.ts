/**
 * A fake kube-apiserver for tests (tests/fixtures/fakekube, Go): per-run PKI with a
 * kubelet-style client pem (certificate + SEC1 EC key in one file behind a
 * `kubelet-client-current.pem` symlink), kubeconfig variants, SelfSubjectReview,
 * node-restricted pod list/watch, and a loopback control API to add pods and inject faults.
 */

import { join } from "node:path";
import { z } from "zod";
import { buildGo, repoRoot } from "./gobuild.ts";
import { startUntilReady } from "./process.ts";
import {
  type FakePod,
  FakePodSchema,
  type PodInput,
  type RequestRecord,
  RequestsSchema,
} from "./kubepod.ts";

export type { FakePod, PodInput, RequestRecord } from "./kubepod.ts";

export interface StartFakeKubeOptions {
  /** Node of the kubelet identity; default `node-a`. */
  nodeName?: string;
  /** Node of the second identity (for 403 tests); default `<nodeName>-other`. */
  otherNodeName?: string;
  /** Directory for PKI and kubeconfigs; default a new temp dir, removed by `close()`. An
   * existing dir is reused (same CA, tokens and client pem), e.g. to restart on `port`. */
  dir?: string;
  /** API port on 127.0.0.1; default any free port. */
  port?: number;
  /** Period of BOOKMARK events on watches that allow them; 0 = only on `bookmark()`. Default 0. */
  bookmarkIntervalMs?: number;
  /** Make `kubelet-client-current.pem` a relative symlink (default absolute, like the kubelet). */
  relativeSymlink?: boolean;
  /** Fail the TLS handshake without a client certificate (tokens then cannot be used). */
  requireClientCert?: boolean;
  /** How long to wait for the ready line; default 30 s (includes a first `go build`). */
  startTimeoutMs?: number;
}

const ReadySchema = z.object({
  url: z.string(),
  control: z.string(),
  dir: z.string(),
  node: z.string(),
  otherNode: z.string(),
  caPath: z.string(),
  clientPemPath: z.string(),
  files: z.object({
    kubeconfig: z.string(),
    kubeconfigInline: z.string(),
    kubeconfigRelative: z.string(),
    kubeconfigToken: z.string(),
    kubeconfigTokenFile: z.string(),
    kubeconfigOther: z.string(),
    kubeconfigUntrusted: z.string(),
    tokenPath: z.string(),
    nodeToken: z.string(),
    otherToken: z.string(),
    adminToken: z.string(),
    otherPemPath: z.string(),
    untrustedPemPath: z.string(),
  }),
});

const RotateSchema = z.object({ file: z.string(), current: z.string() });

/** A running fake API server. All paths are absolute. */
export interface FakeKube extends AsyncDisposable {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string;
  /** Plain-HTTP control API base URL. */
  readonly controlUrl: string;
  readonly dir: string;
  readonly nodeName: string;
  readonly otherNodeName: string;
  /** Kubelet-style: client-certificate and client-key both = `clientPemPath`, CA file. */
  readonly kubeconfigPath: string;
  /** certificate-authority-data, client-certificate-data, client-key-data (SEC1). */
  readonly kubeconfigInlinePath: string;
  /** Same as kubeconfigPath with paths relative to the kubeconfig's directory. */
  readonly kubeconfigRelativePath: string;
  /** `token:` of a user the server maps to `system:node:<nodeName>`. */
  readonly tokenKubeconfigPath: string;
  /** `tokenFile:` variant of the above. */
  readonly tokenFileKubeconfigPath: string;
  /** The second node's identity (cert CN `system:node:<otherNodeName>`). */
  readonly otherKubeconfigPath: string;
  /** A client pem signed by a CA the server does not trust (TLS handshake fails). */
  readonly untrustedKubeconfigPath: string;
  readonly caPath: string;
  /** `<dir>/pki/kubelet-client-current.pem`, a symlink to the timestamped pem. */
  readonly clientPemPath: string;
  readonly otherPemPath: string;
  readonly untrustedPemPath: string;
  /** Bearer tokens the server accepts: node, other node, and admin (system:masters). */
  readonly tokens: { node: string; other: string; admin: string };
  addPod(pod: PodInput): Promise<FakePod>;
  /** Overlays the given fields (containers replace the list, IDs kept by name) → MODIFIED. */
  updatePod(pod: PodInput): Promise<FakePod>;
  /** Sets deletionTimestamp and deletionGracePeriodSeconds (default 30) → MODIFIED. */
  markDeleting(namespace: string, name: string, gracePeriodSeconds?: number): Promise<FakePod>;
  /** Removes the pod → DELETED. */
  deletePod(namespace: string, name: string): Promise<FakePod>;
  /** The next `n` API requests (any path, before auth) get 503. */
  fail503(n: number): Promise<void>;
  /** Cuts every open watch (connection/stream reset, no clean end); returns how many. */
  dropStreams(): Promise<number>;
  /** Makes every resourceVersion older than now too old: such watches get ERROR 410. */
  compact(): Promise<number>;
  /** Sends a BOOKMARK now on watches with allowWatchBookmarks=true; returns open watches. */
  bookmark(): Promise<number>;
  /** Turns `authentication.k8s.io/v1` SelfSubjectReview on/off (off → 404, v1beta1 stays). */
  setSsrV1(on: boolean): Promise<void>;
  /** Writes a new timestamped pem and repoints the symlink; old and new both stay valid. */
  rotateCert(): Promise<{ file: string; current: string }>;
  /** Every API request so far, oldest first. */
  requests(): Promise<RequestRecord[]>;
  /** Resolves once at least `n` watches are open (server-side wait, 30 s cap); returns count. */
  waitWatches(n: number): Promise<number>;
  /** Adds a bearer token for `username` (with `groups`). */
  addToken(token: string, username: string, groups?: string[]): Promise<void>;
  stderr(): string;
  /** Stops the server (SIGTERM) and removes the temp dir if the harness made it. */
  close(): Promise<void>;
}

/** The fakekube binary, built once per source change (cached by gobuild.ts outside the clone). */
export function fakeKubeBinary(): Promise<string> {
  return buildGo({
    dir: join(repoRoot, "tests", "fixtures", "fakekube"),
    name: "fakekube",
    cover: false,
  });
}

/**
 * Builds and starts the fake API server; resolves once it printed its ready line.
 *
 * @example
 * await using kube = await startFakeKube({ nodeName: "worker-1" });
 * await kube.addPod({ namespace: "ns1", name: "web", containers: [{ name: "app" }] });
 */
export async function startFakeKube(opts: StartFakeKubeOptions = {}): Promise<FakeKube> {
  const binary = await fakeKubeBinary();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "fakekube-" });
  const args = ["serve", "-dir", dir, "-node", opts.nodeName ?? "node-a"];
  if (opts.otherNodeName) args.push("-other-node", opts.otherNodeName);
  if (opts.port) args.push("-port", String(opts.port));
  args.push("-bookmark-interval", `${opts.bookmarkIntervalMs ?? 0}ms`);
  if (opts.relativeSymlink) args.push("-relative-symlink");
  if (opts.requireClientCert) args.push("-require-client-cert");
  const proc = await startUntilReady({
    command: binary,
    args,
    what: `fakekube ${binary} ${args.join(" ")}`,
    waitingFor: "its ready line",
    timeoutMs: opts.startTimeoutMs ?? 30_000,
    onLine: (line) =>
      line.startsWith("fakekube-ready ")
        ? ReadySchema.parse(JSON.parse(line.slice("fakekube-ready ".length)))
        : undefined,
  });
  const ready = proc.ready;

  const ctl = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${ready.control}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`fakekube control ${method} ${path}: ${res.status} ${text.trim()}`);
    }
    return JSON.parse(text);
  };
  const count = (key: string) => (v: unknown) => z.object({ [key]: z.number() }).parse(v)[key];

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      await proc.stop(5000);
      if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
    return closed;
  };
  const f = ready.files;
  return {
    url: ready.url,
    controlUrl: ready.control,
    dir: ready.dir,
    nodeName: ready.node,
    otherNodeName: ready.otherNode,
    kubeconfigPath: f.kubeconfig,
    kubeconfigInlinePath: f.kubeconfigInline,
    kubeconfigRelativePath: f.kubeconfigRelative,
    tokenKubeconfigPath: f.kubeconfigToken,
    tokenFileKubeconfigPath: f.kubeconfigTokenFile,
    otherKubeconfigPath: f.kubeconfigOther,
    untrustedKubeconfigPath: f.kubeconfigUntrusted,
    caPath: ready.caPath,
    clientPemPath: ready.clientPemPath,
    otherPemPath: f.otherPemPath,
    untrustedPemPath: f.untrustedPemPath,
    tokens: { node: f.nodeToken, other: f.otherToken, admin: f.adminToken },
    addPod: async (pod) => FakePodSchema.parse(await ctl("POST", "/pods", pod)),
    updatePod: async (pod) => FakePodSchema.parse(await ctl("POST", "/pods/update", pod)),
    markDeleting: async (namespace, name, gracePeriodSeconds) =>
      FakePodSchema.parse(
        await ctl("POST", "/pods/deleting", { namespace, name, gracePeriodSeconds }),
      ),
    deletePod: async (namespace, name) =>
      FakePodSchema.parse(await ctl("POST", "/pods/delete", { namespace, name })),
    fail503: async (n) => void await ctl("POST", "/faults", { fail503: n }),
    setSsrV1: async (on) => void await ctl("POST", "/faults", { ssrV1: on }),
    dropStreams: async () => count("dropped")(await ctl("POST", "/drop-streams")),
    compact: async () => count("compacted")(await ctl("POST", "/compact")),
    bookmark: async () => count("watches")(await ctl("POST", "/bookmark")),
    rotateCert: async () => RotateSchema.parse(await ctl("POST", "/rotate")),
    requests: async () => RequestsSchema.parse(await ctl("GET", "/requests")),
    waitWatches: async (n) => count("watches")(await ctl("GET", `/watches?atLeast=${n}`)),
    addToken: async (token, username, groups = []) =>
      void await ctl("POST", "/tokens", { token, username, groups }),
    stderr: proc.stderr,
    close,
    [Symbol.asyncDispose]: close,
  };
}
