/**
 * Writes a counter-data file (`covcounters.*`) that `go tool covdata` reads: one segment of
 * ULEB128 counters (flavor 2), empty string table and args, and the footer (format facts as in
 * `src/coverage/counters.ts`).
 */

import { ByteWriter, hexBytes } from "./byte_writer.ts";
import type { Profile } from "./profile.ts";

/**
 * The merged counters of a profile as a counter-data file; functions with no nonzero counter are
 * left out, as Go's runtime leaves them out.
 *
 * @example await Deno.writeFile(`covcounters.${p.meta.hash}.0.1`, encodeCounters(p));
 */
export function encodeCounters(profile: Profile): Uint8Array {
  const body = new ByteWriter();
  let entries = 0;
  profile.funcs.forEach((row, p) =>
    row.forEach((counts, f) => {
      if (counts === null || counts.every((c) => c === 0)) return;
      entries++;
      body.uleb(counts.length);
      body.uleb(p);
      body.uleb(f);
      for (const c of counts) body.uleb(c);
    })
  );
  // Segment header (16) + string table [0] + args [0] + 2 bytes padding (counted in ArgsLen).
  const out = new Uint8Array(32 + 16 + 4 + body.length + 16);
  const v = new DataView(out.buffer);
  const magic = [0x00, 0x63, 0x77, 0x6d];
  out.set(magic, 0);
  v.setUint32(4, 1, true);
  out.set(hexBytes(profile.meta.hash), 8);
  out[24] = 2;
  v.setBigUint64(32, BigInt(entries), true);
  v.setUint32(40, 1, true);
  v.setUint32(44, 3, true);
  // Bytes 48 (string count 0), 49 (args count 0), 50..51 padding: zero already.
  out.set(body.bytes, 52);
  const footer = 52 + body.length;
  out.set(magic, footer);
  v.setUint32(footer + 8, 1, true);
  return out;
}
