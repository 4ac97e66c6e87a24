/** Reads the pixels of a PNG screenshot (8-bit RGB or RGBA, not interlaced), for browser tests. */

export interface Pixels {
  width: number;
  height: number;
  /** RGB(A) rows, `channels` bytes per pixel. */
  data: Uint8Array;
  channels: number;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a PNG (zlib via DecompressionStream, then the row filters).
 *
 * @example const px = await decodePng(await Deno.readFile(".cache/report.png"));
 */
export async function decodePng(png: Uint8Array): Promise<Pixels> {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => png[i] === b)) throw new Error("not a PNG");
  let pos = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= png.length) {
    const len = v.getUint32(pos);
    const type = new TextDecoder().decode(png.subarray(pos + 4, pos + 8));
    const body = png.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = v.getUint32(pos + 8);
      height = v.getUint32(pos + 12);
      const [depth, color, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) {
        throw new Error(`PNG depth ${depth} color ${color} interlace ${interlace} not handled`);
      }
      channels = color === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const stream = new Blob(idat as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  const stride = width * channels;
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = data.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? data.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels] : 0;
      const b = up[x];
      const c = x >= channels ? up[x - channels] : 0;
      const pred = filter === 0
        ? 0
        : filter === 1
        ? a
        : filter === 2
        ? b
        : filter === 3
        ? (a + b) >> 1
        : paeth(a, b, c);
      row[x] = (src[x] + pred) & 0xff;
    }
  }
  return { width, height, data, channels };
}

/**
 * How many pixels have exactly this colour.
 *
 * @example countColor(px, [0x33, 0xaa, 0x33]) // 1540
 */
export function countColor(px: Pixels, rgb: [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < px.data.length; i += px.channels) {
    if (px.data[i] === rgb[0] && px.data[i + 1] === rgb[1] && px.data[i + 2] === rgb[2]) n++;
  }
  return n;
}
