import assert from "node:assert/strict";
import {
  imageSourceOf,
  ImageSources,
  MAX_SOURCE_URL,
  SOURCE_COMMIT_LABEL,
  SOURCE_URL_LABEL,
} from "./image_source.ts";
import { InspectiOutput } from "./schemas.ts";

const URL = "https://github.com/openshift/app";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** crictl over containerd: the image config under info.imageSpec. */
const containerd = (labels: unknown) => ({
  status: { id: "sha256:aa", repoTags: ["x:1"], repoDigests: [], size: "1", pinned: false },
  info: {
    chainID: "sha256:bb",
    imageSpec: { architecture: "amd64", os: "linux", config: { Env: ["PATH=/"], Labels: labels } },
  },
});
/** crictl over CRI-O: labels beside the image spec. */
const crio = (labels: unknown) => ({
  status: { id: "aa" },
  info: { labels, imageSpec: { config: {} } },
});

const parse = (doc: unknown) => imageSourceOf(InspectiOutput.parse(doc));

Deno.test("the source labels are read from containerd's and CRI-O's inspecti answers", () => {
  const labels = { [SOURCE_URL_LABEL]: URL, [SOURCE_COMMIT_LABEL]: COMMIT, other: "x" };
  assert.deepEqual(parse(containerd(labels)), { url: URL, commit: COMMIT });
  assert.deepEqual(parse(crio(labels)), { url: URL, commit: COMMIT });
  assert.deepEqual(parse(containerd(undefined)), {});
  assert.deepEqual(parse({ status: { id: "x" } }), {}, "no verbose info");
  assert.deepEqual(parse({ status: { id: "x" }, info: { imageSpec: "junk" } }), {});
});

Deno.test("hostile label values are left out: too long, control characters, spaces, not text", () => {
  for (
    const bad of [
      "x".repeat(MAX_SOURCE_URL + 1),
      "https://a\nb",
      "https://a b",
      "\u0000",
      "",
      7,
      { a: 1 },
    ]
  ) {
    assert.deepEqual(
      parse(containerd({ [SOURCE_URL_LABEL]: bad, [SOURCE_COMMIT_LABEL]: COMMIT })),
      { commit: COMMIT },
      JSON.stringify(bad).slice(0, 40),
    );
  }
  assert.deepEqual(parse(containerd({ [SOURCE_COMMIT_LABEL]: "c".repeat(129) })), {});
});

Deno.test("ImageSources asks once per image, keeps failures, and forgets an aborted ask", async () => {
  const asked: string[] = [];
  let fail = false;
  const crictl = {
    inspecti(image: string, signal?: AbortSignal) {
      asked.push(image);
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (fail) return Promise.reject(new Error("exit status 1: no such image"));
      return Promise.resolve(InspectiOutput.parse(containerd({ [SOURCE_COMMIT_LABEL]: COMMIT })));
    },
  };
  const errors: string[] = [];
  const s = new ImageSources(crictl, { max: 2, onError: (i) => errors.push(i) });
  const [a, b] = await Promise.all([s.of("img-1"), s.of("img-1")]);
  assert.deepEqual([a, b], [{ commit: COMMIT }, { commit: COMMIT }]);
  fail = true;
  assert.deepEqual(await s.of("img-2"), {});
  assert.deepEqual(await s.of("img-2"), {}, "a failure is not asked again");
  assert.deepEqual(asked, ["img-1", "img-2"]);
  assert.deepEqual(errors, ["img-2"]);
  const ac = new AbortController();
  ac.abort();
  assert.deepEqual(await s.of("img-3", ac.signal), {});
  assert.deepEqual(errors, ["img-2"], "an abort is no error of the image");
  fail = false;
  assert.deepEqual(await s.of("img-3"), { commit: COMMIT }, "asked again after the abort");
  assert.equal(s.size, 2, "bounded");
});

Deno.test("an image that is not a plain reference is never passed to crictl", async () => {
  const asked: string[] = [];
  const s = new ImageSources({
    inspecti(image: string) {
      asked.push(image);
      return Promise.resolve(InspectiOutput.parse(containerd({ [SOURCE_COMMIT_LABEL]: COMMIT })));
    },
  });
  for (const bad of ["--runtime-endpoint=unix:///x", "-o", "", "a b", "a\nb", "x".repeat(1025)]) {
    assert.deepEqual(await s.of(bad), {}, JSON.stringify(bad).slice(0, 40));
  }
  assert.deepEqual(asked, []);
  assert.deepEqual(await s.of("sha256:0123abcd"), { commit: COMMIT });
  assert.deepEqual(await s.of("quay.io/ocp/app@sha256:ab"), { commit: COMMIT });
});
