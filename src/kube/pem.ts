/**
 * PEM blocks and the little DER reading we need: the subject common name of a client certificate
 * (`CN=system:node:<name>`), which names the node when the API server cannot tell us.
 */

import { Buffer } from "node:buffer";

/** One `-----BEGIN <label>-----` block of a PEM text. */
export interface PemBlock {
  label: string;
  /** The block as text, BEGIN and END lines included. */
  text: string;
  der: Uint8Array;
}

/**
 * Every PEM block of a text, in order (a kubelet PEM file holds a certificate and a key).
 *
 * @example pemBlocks(certAndKey).map((b) => b.label) // ["CERTIFICATE", "EC PRIVATE KEY"]
 */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    const body = m[2].split("\n").filter((l) => !l.includes(":")).join("").replace(/\s+/g, "");
    out.push({
      label: m[1],
      text: `${m[0]}\n`,
      der: new Uint8Array(Buffer.from(body, "base64")),
    });
  }
  return out;
}

/** A DER value could not be read; says where and what was expected. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** One DER TLV: its tag byte and content. */
export interface Der {
  tag: number;
  content: Uint8Array;
  /** Bytes taken by the whole TLV. */
  size: number;
}

/**
 * Reads the DER TLV at `offset` of `bytes`.
 *
 * @example readDer(new Uint8Array([0x02, 0x01, 0x05])) // { tag: 2, content: [5], size: 3 }
 */
export function readDer(bytes: Uint8Array, offset = 0): Der {
  if (offset + 2 > bytes.length) throw new DerError(`truncated DER header at byte ${offset}`);
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte DER tag at byte ${offset}`);
  let len = bytes[offset + 1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`unsupported DER length form at byte ${offset}`);
    if (offset + 2 + n > bytes.length) throw new DerError(`truncated DER length at ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[offset + 2 + i];
    head += n;
  }
  const end = offset + head + len;
  if (end > bytes.length) {
    throw new DerError(
      `DER value at byte ${offset} claims ${len} bytes; only ${bytes.length - offset - head} left`,
    );
  }
  return { tag, content: bytes.subarray(offset + head, end), size: head + len };
}

/** The TLVs inside a constructed value (SEQUENCE, SET). @example derChildren(readDer(cert).content).length // 3 */
export function derChildren(content: Uint8Array): Der[] {
  const out: Der[] = [];
  for (let off = 0; off < content.length;) {
    const d = readDer(content, off);
    out.push(d);
    off += d.size;
  }
  return out;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const CN_OID = "55 04 03"; // 2.5.4.3
const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1e]);

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

function expect(d: Der | undefined, tag: number, what: string): Der {
  if (!d || d.tag !== tag) {
    throw new DerError(
      `${what}: expected tag 0x${tag.toString(16)}, got ${
        d ? `0x${d.tag.toString(16)}` : "nothing"
      }`,
    );
  }
  return d;
}

/**
 * The subject common name of an X.509 certificate (DER), or undefined when it has none.
 *
 * @example subjectCommonName(pemBlocks(pem)[0].der) // "system:node:worker-1"
 */
export function subjectCommonName(certDer: Uint8Array): string | undefined {
  const cert = expect(readDer(certDer), SEQUENCE, "Certificate");
  const tbs = expect(derChildren(cert.content)[0], SEQUENCE, "tbsCertificate");
  const fields = derChildren(tbs.content);
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = expect(fields[at + 4], SEQUENCE, "subject");
  let cn: string | undefined;
  for (const rdn of derChildren(subject.content)) {
    expect(rdn, SET, "RelativeDistinguishedName");
    for (const atv of derChildren(rdn.content)) {
      const [type, value] = derChildren(expect(atv, SEQUENCE, "AttributeTypeAndValue").content);
      if (expect(type, OID, "attribute type").content && hex(type.content) !== CN_OID) continue;
      if (!value || !STRING_TAGS.has(value.tag)) throw new DerError("CN value is not a string");
      cn = value.tag === 0x1e
        ? new TextDecoder("utf-16be").decode(value.content)
        : new TextDecoder().decode(value.content);
    }
  }
  return cn;
}
