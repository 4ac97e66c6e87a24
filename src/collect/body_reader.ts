/**
 * The /coverage JSON body read chunk by chunk as it arrives: the base64 fields are decoded on the
 * way, so neither the body text nor a base64 string is ever held whole (a 64 MiB body costs its
 * decoded bytes, not a string, a parsed copy and one JS number per byte).
 */

import { Base64Decoder, Base64Error } from "./base64_stream.ts";

/** The fields of a /coverage body, base64 already decoded. */
export interface CoverageFields {
  /** "" when absent (nometa). */
  meta_filename: string;
  /** Empty when absent or "" (nometa). */
  meta_data: Uint8Array;
  counters_filename: string;
  counters_data: Uint8Array;
  timestamp?: number | string;
}

/** The body is not the /coverage JSON (kind "json") or a field is not base64 (kind "base64"). */
export class BodyError extends Error {
  constructor(readonly kind: "json" | "base64", message: string) {
    super(message);
    this.name = "BodyError";
  }
}

const BINARY = new Set(["meta_data", "counters_data"]);
const TEXT = new Set(["meta_filename", "counters_filename"]);
/** Longest text field or scalar kept (file names, time stamp); longer is refused. */
const SMALL_MAX = 4096;

const enum S {
  Start,
  KeyOrEnd,
  Key,
  Colon,
  Value,
  String,
  Scalar,
  Nested,
  AfterValue,
  End,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPES: Record<number, number> = {
  0x22: 0x22,
  0x5c: 0x5c,
  0x2f: 0x2f,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
};

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Push the body's bytes as they come, then `finish()`. Known fields are type-checked; unknown
 * fields are skipped (strings and nesting are tracked, their content is not kept). A field given
 * twice is refused.
 *
 * @example
 * const r = new CoverageBodyReader();
 * for await (const chunk of res.body!) r.push(chunk);
 * r.finish().counters_data // Uint8Array
 */
export class CoverageBodyReader {
  /** `maxBody`: the body's size limit; a base64 field decodes to at most 3/4 of it. */
  constructor(maxBody = 64 << 20) {
    this.maxDecoded = Math.ceil(maxBody / 4) * 3;
  }

  readonly maxDecoded: number;
  #state = S.Start;
  #key: number[] = [];
  #field = "";
  #seen = new Set<string>();
  /** No field yet: '}' may close the object (after ',' a field name must follow). */
  #first = true;
  /** Bytes of the current small string or scalar. */
  #small: number[] = [];
  #b64: Base64Decoder | null = null;
  /** Inside a string: 0 plain, 1 after a backslash, 2..5 reading \u hex digits. */
  #esc = 0;
  #hex = 0;
  /** Nested skip: depth and whether inside a string. */
  #depth = 0;
  #nestedString = false;
  #nestedEsc = false;
  #fields: Partial<CoverageFields> = {};

  /** Feeds the next bytes of the body; throws BodyError at the first fault. */
  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const b = chunk[i];
      switch (this.#state) {
        case S.Start:
          if (isSpace(b)) i++;
          else if (b === 0x7b) {
            this.#state = S.KeyOrEnd;
            i++;
          } else this.#fail("the body is not a JSON object");
          break;
        case S.KeyOrEnd:
          if (isSpace(b)) i++;
          else if (b === QUOTE) {
            this.#beginString();
            this.#key = [];
            this.#state = S.Key;
            i++;
          } else if (b === 0x7d && this.#first) {
            this.#state = S.End;
            i++;
          } else this.#fail("expected a field name");
          break;
        case S.Key:
          i = this.#string(chunk, i, (c) => {
            if (this.#key.length < 256) this.#key.push(c);
          }, () => {
            this.#field = new TextDecoder().decode(new Uint8Array(this.#key));
            if (this.#seen.has(this.#field)) this.#fail(`field ${this.#field} is given twice`);
            this.#seen.add(this.#field);
            this.#state = S.Colon;
          });
          break;
        case S.Colon:
          if (isSpace(b)) i++;
          else if (b === 0x3a) {
            this.#state = S.Value;
            i++;
          } else this.#fail(`expected ':' after field ${this.#field}`);
          break;
        case S.Value:
          if (isSpace(b)) i++;
          else if (b === QUOTE) {
            this.#beginValueString();
            i++;
          } else if (b === 0x7b || b === 0x5b) {
            if (this.#known()) this.#fail(`${this.#field}: expected a string`);
            this.#state = S.Nested;
            this.#depth = 1;
            this.#nestedString = false;
            this.#nestedEsc = false;
            i++;
          } else {
            if (this.#known() && this.#field !== "timestamp") {
              this.#fail(`${this.#field}: expected a string`);
            }
            this.#small = [];
            this.#state = S.Scalar;
          }
          break;
        case S.String:
          i = this.#string(chunk, i, (c) => this.#valueChar(c), () => this.#endValueString(), true);
          break;
        case S.Scalar:
          if (isSpace(b) || b === 0x2c || b === 0x7d) this.#endScalar();
          else {
            if (this.#small.length >= 64) this.#fail(`${this.#field}: value too long`);
            this.#small.push(b);
            i++;
          }
          break;
        case S.Nested:
          i = this.#nested(chunk, i);
          break;
        case S.AfterValue:
          if (isSpace(b)) i++;
          else if (b === 0x2c) {
            this.#state = S.KeyOrEnd;
            this.#first = false;
            i++;
          } else if (b === 0x7d) {
            this.#state = S.End;
            i++;
          } else this.#fail(`expected ',' or '}' after field ${this.#field}`);
          break;
        case S.End:
          if (isSpace(b)) i++;
          else this.#fail("text follows the JSON object");
          break;
      }
    }
  }

  /** The decoded fields; throws BodyError when the body was cut short or lacks a field. */
  finish(): CoverageFields {
    if (this.#state !== S.End) this.#fail("the body ends before the JSON object does");
    const f = this.#fields;
    if (f.counters_filename === undefined) this.#fail("counters_filename: Required");
    if (f.counters_data === undefined) this.#fail("counters_data: Required");
    return {
      meta_filename: f.meta_filename ?? "",
      meta_data: f.meta_data ?? new Uint8Array(),
      counters_filename: f.counters_filename!,
      counters_data: f.counters_data!,
      timestamp: f.timestamp,
    };
  }

  #known(): boolean {
    return BINARY.has(this.#field) || TEXT.has(this.#field) || this.#field === "timestamp";
  }

  #fail(message: string): never {
    throw new BodyError("json", `coverage response is not the /coverage JSON: ${message}`);
  }

  #beginString(): void {
    this.#esc = 0;
    this.#hex = 0;
  }

  #beginValueString(): void {
    this.#beginString();
    this.#small = [];
    this.#b64 = BINARY.has(this.#field) ? new Base64Decoder(this.maxDecoded) : null;
    this.#state = S.String;
  }

  #valueChar(c: number): void {
    if (this.#b64) {
      if (c > 0x7f) this.#base64Fail("is not valid base64");
      this.#b64Push(String.fromCharCode(c));
    } else if (TEXT.has(this.#field) || this.#field === "timestamp") {
      if (this.#small.length >= SMALL_MAX) {
        this.#fail(`${this.#field} is longer than ${SMALL_MAX} bytes`);
      }
      this.#small.push(c);
    }
  }

  #b64Push(text: string | Uint8Array): void {
    try {
      if (typeof text === "string") this.#b64!.pushText(text);
      else this.#b64!.push(text);
    } catch (e) {
      if (e instanceof Base64Error) this.#base64Fail(`is not valid base64 (${e.message})`);
      throw e;
    }
  }

  #base64Fail(what: string): never {
    throw new BodyError("base64", `${this.#field} ${what}`);
  }

  #endValueString(): void {
    const field = this.#field;
    if (this.#b64) {
      let bytes: Uint8Array;
      try {
        bytes = this.#b64.finish();
      } catch (e) {
        if (e instanceof Base64Error) this.#base64Fail(`is not valid base64 (${e.message})`);
        throw e;
      }
      this.#b64 = null;
      (this.#fields as Record<string, unknown>)[field] = bytes;
    } else if (TEXT.has(field) || field === "timestamp") {
      (this.#fields as Record<string, unknown>)[field] = new TextDecoder().decode(
        new Uint8Array(this.#small),
      );
    }
    this.#small = [];
    this.#state = S.AfterValue;
  }

  #endScalar(): void {
    const text = new TextDecoder().decode(new Uint8Array(this.#small));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#fail(`${this.#field}: "${text.slice(0, 40)}" is not a JSON value`);
    }
    if (this.#field === "timestamp") {
      if (typeof value !== "number") this.#fail("timestamp: expected a number or a string");
      this.#fields.timestamp = value;
    }
    this.#small = [];
    this.#state = S.AfterValue;
  }

  /**
   * Reads string content from `i`; plain runs of a base64 field go to the decoder as bytes,
   * everything else character by character. Returns the index after what was consumed.
   */
  #string(
    chunk: Uint8Array,
    i: number,
    onChar: (c: number) => void,
    onEnd: () => void,
    value = false,
  ): number {
    const n = chunk.length;
    while (i < n) {
      const b = chunk[i];
      if (this.#esc === 1) {
        if (b === 0x75) {
          this.#esc = 2;
          this.#hex = 0;
        } else if (b in ESCAPES) {
          this.#esc = 0;
          onChar(ESCAPES[b]);
        } else this.#fail(`bad escape \\${String.fromCharCode(b)} in a string`);
        i++;
        continue;
      }
      if (this.#esc >= 2) {
        const d = hexDigit(b);
        if (d < 0) this.#fail("bad \\u escape in a string");
        this.#hex = this.#hex * 16 + d;
        i++;
        if (++this.#esc === 6) {
          this.#esc = 0;
          this.#codeUnit(this.#hex, onChar);
        }
        continue;
      }
      if (value && this.#b64) {
        // fast path: hand the run up to the next quote, backslash or control byte to the decoder
        let j = i;
        while (j < n) {
          const c = chunk[j];
          if (c === QUOTE || c === BACKSLASH || c < 0x20) break;
          j++;
        }
        if (j > i) this.#b64Push(chunk.subarray(i, j));
        i = j;
        if (i >= n) break;
      }
      const c = chunk[i];
      i++;
      if (c === QUOTE) {
        onEnd();
        return i;
      }
      if (c === BACKSLASH) this.#esc = 1;
      else if (c < 0x20) this.#fail("a control character in a string");
      else onChar(c);
    }
    return i;
  }

  /** A \u escape: UTF-8 bytes of the code unit (surrogates are kept as U+FFFD). */
  #codeUnit(u: number, onChar: (c: number) => void): void {
    const text = u >= 0xd800 && u <= 0xdfff ? "\ufffd" : String.fromCharCode(u);
    for (const byte of new TextEncoder().encode(text)) onChar(byte);
  }

  #nested(chunk: Uint8Array, i: number): number {
    const n = chunk.length;
    while (i < n) {
      const b = chunk[i++];
      if (this.#nestedString) {
        if (this.#nestedEsc) this.#nestedEsc = false;
        else if (b === BACKSLASH) this.#nestedEsc = true;
        else if (b === QUOTE) this.#nestedString = false;
      } else if (b === QUOTE) this.#nestedString = true;
      else if (b === 0x7b || b === 0x5b) this.#depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (--this.#depth === 0) {
          this.#state = S.AfterValue;
          return i;
        }
      }
    }
    return i;
  }
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}
