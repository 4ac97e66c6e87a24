/**
 * The fake crictl's state file (see tests/fixtures/fakecrictl/state.go) and its wrapper script.
 * The harness owns the pods and containers; every change rewrites the file atomically.
 */

import { join } from "node:path";
import { buildGo, repoRoot } from "./gobuild.ts";

/** A fault the fake crictl plays: see tests/fixtures/fakecrictl/main.go. */
export type CrictlFaultMode = "exit1" | "garbage" | "hang" | "slow";

/** A fault, optionally limited to some commands. */
export interface CrictlFault {
  mode: CrictlFaultMode;
  /** Only these commands misbehave; all when omitted. */
  commands?: ("ps" | "inspect" | "inspectp" | "inspecti")[];
  /** For "slow": how long each call waits before answering. */
  delayMs?: number;
}

/** A pod sandbox as the fake crictl sees it. */
export interface StatePod {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  hostNetwork: boolean;
  createdAt: number;
}

/** A container as the fake crictl sees it. */
export interface StateContainer {
  id: string;
  podId: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  pid: number;
  state?: "CONTAINER_RUNNING" | "CONTAINER_EXITED" | "CONTAINER_CREATED";
  createdAt: number;
  args: string[];
  annotations?: Record<string, string>;
}

/** The whole file. */
export interface CrictlStateDoc {
  endpoint?: string;
  fault?: CrictlFault;
  pods: StatePod[];
  containers: StateContainer[];
  /** Labels of the image config per image (a container's imageRef or image): `inspecti` shows them. */
  imageLabels?: Record<string, Record<string, string>>;
}

/**
 * Builds the fake crictl (cached).
 * @example
 * const bin = await fakeCrictlBinary();
 */
export function fakeCrictlBinary(): Promise<string> {
  return buildGo({
    dir: join(repoRoot, "tests", "fixtures", "fakecrictl"),
    name: "crictl",
    cover: false,
  });
}

/** Holds the state of one node's fake crictl and writes it on every change. */
export class CrictlState {
  readonly doc: CrictlStateDoc = { pods: [], containers: [] };
  /** The executable to pass as `--crictl`: a wrapper that points the binary at this state. */
  readonly path: string;
  readonly statePath: string;

  private constructor(dir: string, binary: string) {
    this.statePath = join(dir, "crictl-state.json");
    this.path = join(dir, "bin", "crictl");
    Deno.mkdirSync(join(dir, "bin"), { recursive: true });
    const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    Deno.writeTextFileSync(
      this.path,
      `#!/bin/sh\nexport FAKECRICTL_STATE=${q(this.statePath)}\nexec ${q(binary)} "$@"\n`,
      { mode: 0o755 },
    );
    this.write();
  }

  /**
   * Builds the binary and writes an empty state plus the `crictl` wrapper under `dir`.
   * @example
   * const state = await CrictlState.create(tmpDir);
   */
  static async create(dir: string): Promise<CrictlState> {
    return new CrictlState(dir, await fakeCrictlBinary());
  }

  /** Writes the state file atomically (readers see the old or the new file). */
  write(): void {
    const tmp = `${this.statePath}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(this.doc, null, 2));
    Deno.renameSync(tmp, this.statePath);
  }

  /** Changes state with `fn`, then writes. */
  update(fn: (doc: CrictlStateDoc) => void): void {
    fn(this.doc);
    this.write();
  }

  /** The argv lines of every call so far (one line per call). */
  async calls(): Promise<string[]> {
    try {
      const text = await Deno.readTextFile(`${this.statePath}.calls`);
      return text.split("\n").filter((l) => l !== "");
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  }
}

/**
 * Random lowercase hex of `bytes` bytes (64 characters for 32: a CRI ID).
 * @example
 * const id = randomHex(32);
 */
export function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
