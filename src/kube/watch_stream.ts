/** The pods API's shapes (only the fields we need) and the line-delimited JSON of a watch. */

import { z } from "zod";
import { PodOwnerFields } from "./workload.ts";

/** The pod fields the collector uses. */
export const PodMeta = z.looseObject({
  metadata: z.looseObject({
    uid: z.string().min(1),
    name: z.string(),
    namespace: z.string(),
    resourceVersion: z.string().optional(),
    deletionTimestamp: z.string().nullish(),
    /** Who runs the pod (src/kube/workload.ts); malformed ones are dropped, never the pod. */
    ...PodOwnerFields,
  }),
});
export type PodMeta = z.infer<typeof PodMeta>;

export const PodList = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  items: z.array(PodMeta).nullish(),
});
export type PodList = z.infer<typeof PodList>;

export const KubeStatus = z.looseObject({
  kind: z.literal("Status").optional(),
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** One event of a watch stream. */
export const WatchEvent = z.discriminatedUnion("type", [
  z.object({ type: z.enum(["ADDED", "MODIFIED", "DELETED"]), object: PodMeta }),
  z.object({
    type: z.literal("BOOKMARK"),
    object: z.looseObject({
      metadata: z.looseObject({ resourceVersion: z.string() }),
    }),
  }),
  z.object({ type: z.literal("ERROR"), object: KubeStatus }),
]);
export type WatchEvent = z.infer<typeof WatchEvent>;

/** A watch line that is not a known event; says what was wrong, with the start of the line. */
export class WatchParseError extends Error {
  constructor(readonly line: string, detail: string) {
    super(`bad watch event (${detail}): ${line.slice(0, 120)}`);
    this.name = "WatchParseError";
  }
}

/**
 * Parses one watch line.
 *
 * @example parseWatchEvent('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}').type // "BOOKMARK"
 */
export function parseWatchEvent(line: string): WatchEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new WatchParseError(line, `not JSON: ${e instanceof Error ? e.message : e}`);
  }
  const ev = WatchEvent.safeParse(raw);
  if (!ev.success) {
    const i = ev.error.issues[0];
    throw new WatchParseError(line, `${i.path.join(".") || "(event)"}: ${i.message}`);
  }
  return ev.data;
}

/**
 * The lines of a byte stream, however its chunks split them (and a last line without newline).
 * Empty lines are skipped. A line longer than `maxLine` bytes is an error (a broken stream).
 *
 * @example for await (const line of lines(res.body!)) handle(parseWatchEvent(line));
 */
export async function* lines(
  body: ReadableStream<Uint8Array>,
  { maxLine = 16 * 1024 * 1024 }: { maxLine?: number } = {},
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  // The unfinished line, in pieces: each chunk is searched once, so a long line sent in many
  // small chunks costs linear time (a growing string searched from its start would not).
  let parts: string[] = [];
  let size = 0;
  const tooLong = () => new Error(`watch line longer than ${maxLine} bytes`);
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    let from = 0;
    let nl: number;
    while ((nl = text.indexOf("\n", from)) >= 0) {
      if (size + nl - from > maxLine) throw tooLong();
      parts.push(text.slice(from, nl));
      const line = parts.join("").trim();
      parts = [];
      size = 0;
      from = nl + 1;
      if (line !== "") yield line;
    }
    parts.push(text.slice(from));
    size += text.length - from;
    if (size > maxLine) throw tooLong();
  }
  parts.push(decoder.decode());
  const last = parts.join("").trim();
  if (last !== "") yield last;
}
