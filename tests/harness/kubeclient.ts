/** Test-side clients for the fake API server: TLS clients and a watch line reader. */

import { z } from "zod";

/**
 * An HTTP client that trusts `caPath` and, given `pemPath`, presents the certificate and
 * key in that one PEM file (a kubelet-client-current.pem), exactly as a node would.
 *
 * @example
 * using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
 * await fetch(`${kube.url}/api/v1/pods`, { client });
 */
export async function pemHttpClient(caPath: string, pemPath?: string): Promise<Deno.HttpClient> {
  const ca = await Deno.readTextFile(caPath);
  if (pemPath === undefined) return Deno.createHttpClient({ caCerts: [ca] });
  const pem = await Deno.readTextFile(pemPath);
  return Deno.createHttpClient({ caCerts: [ca], cert: pem, key: pem });
}

/** A watch event line. */
export const WatchEventSchema = z.object({
  type: z.enum(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
  object: z.looseObject({}),
});
export type WatchEvent = z.infer<typeof WatchEventSchema>;

/**
 * Yields the events of a watch response body, one per JSON line, until the stream ends.
 *
 * @example
 * for await (const ev of watchEvents(res.body!)) if (ev.type === "DELETED") break;
 */
export async function* watchEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<WatchEvent> {
  let buf = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== "") yield WatchEventSchema.parse(JSON.parse(line));
    }
  }
  if (buf.trim() !== "") yield WatchEventSchema.parse(JSON.parse(buf));
}

/**
 * A request body as client-go sends it by default (application/vnd.kubernetes.protobuf): the
 * `k8s\0` magic, then runtime.Unknown{typeMeta{apiVersion, kind}, raw: an empty object}.
 * @example await fetch(url, { method: "POST", body: protobufBody(), headers: { "content-type": "application/vnd.kubernetes.protobuf" } });
 */
export function protobufBody(
  apiVersion = "authentication.k8s.io/v1",
  kind = "SelfSubjectReview",
): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const field = (n: number, bytes: Uint8Array) => [(n << 3) | 2, bytes.length, ...bytes];
  const typeMeta = [...field(1, enc.encode(apiVersion)), ...field(2, enc.encode(kind))];
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...field(1, new Uint8Array(typeMeta)), 0x12, 0]);
}
