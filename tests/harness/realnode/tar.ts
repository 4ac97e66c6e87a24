/**
 * A minimal ustar writer: regular files and directories (paths up to 255 bytes by the ustar
 * prefix), enough for OCI layouts and layers.
 */

/** One tar entry: a directory (no data) or a regular file. */
export interface TarEntry {
  /** Relative path without a leading slash; directories may end in "/". */
  path: string;
  data?: Uint8Array;
  /** Octal permission bits; default 0o755 for directories and 0o644 for files. */
  mode?: number;
}

const enc = new TextEncoder();

function field(buf: Uint8Array, off: number, len: number, value: string): void {
  const b = enc.encode(value);
  if (b.length > len) throw new Error(`tar: ${JSON.stringify(value)} does not fit ${len} bytes`);
  buf.set(b, off);
}

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, "0");
}

/**
 * ustar's name split: a path past 100 bytes keeps its tail (up to 100 bytes) in `name` and the
 * folders before it (up to 155 bytes) in `prefix`, cut at a slash.
 */
function splitName(name: string): [string, string] {
  if (enc.encode(name).length <= 100) return ["", name];
  const body = name.endsWith("/") ? name.slice(0, -1) : name;
  for (let i = body.indexOf("/"); i > 0; i = body.indexOf("/", i + 1)) {
    const prefix = body.slice(0, i);
    const rest = name.slice(i + 1);
    if (enc.encode(prefix).length > 155) break;
    if (enc.encode(rest).length <= 100) return [prefix, rest];
  }
  throw new Error(`tar: path too long: ${name}`);
}

function header(e: TarEntry): Uint8Array {
  const h = new Uint8Array(512);
  const dir = e.data === undefined;
  const name = dir && !e.path.endsWith("/") ? `${e.path}/` : e.path;
  const [prefix, rest] = splitName(name);
  field(h, 0, 100, rest);
  field(h, 100, 8, octal(e.mode ?? (dir ? 0o755 : 0o644), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(e.data?.length ?? 0, 12));
  field(h, 136, 12, octal(0, 12));
  h.fill(0x20, 148, 156); // checksum counted as spaces
  h[156] = dir ? 0x35 : 0x30; // '5' dir, '0' file
  field(h, 257, 6, "ustar");
  field(h, 263, 2, "00");
  field(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${octal(sum, 7)}\0`);
  return h;
}

/**
 * The tar archive of `entries`, in order, with two zero blocks at the end.
 * @example tar([{ path: "etc" }, { path: "hello", data: new TextEncoder().encode("hi\n") }])
 */
export function tar(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if (e.data) {
      parts.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
