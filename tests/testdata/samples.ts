/**
 * The samples in `tests/testdata/samples/` (see the README there): inputs in the shapes the real
 * tools produce, kept inside the repository so a bare clone can run every test.
 */

/** The samples folder, as a file URL ending in `/`. */
export const SAMPLES: URL = new URL("./samples/", import.meta.url);

/**
 * The text of one sample; throws Deno.errors.NotFound naming the file when it is missing.
 * @example
 * const ps = JSON.parse(sampleText("crictl-ps.json"));
 */
export function sampleText(name: string): string {
  return Deno.readTextFileSync(new URL(name, SAMPLES));
}

/**
 * The bytes of one sample (for NUL-separated files such as a cmdline).
 * @example
 * const argv = sampleBytes("kubelet-cmdline.bin");
 */
export function sampleBytes(name: string): Uint8Array {
  return Deno.readFileSync(new URL(name, SAMPLES));
}
