/** Doctor checks of this host: root, the host root, crictl, the health address (/proc: procaccess.ts). */

import type { Config } from "../config.ts";
import { Crictl, crictlEnv, CrictlError } from "../cri/crictl.ts";
import { RunError, type System } from "../system.ts";
import { type CheckResult, errorText, fail, ok, warn } from "./report.ts";

/**
 * The collector reads other processes' /proc entries and the node's credential files: root only.
 *
 * @example checkRoot(0).status // "OK"
 */
export function checkRoot(uid: number | null): CheckResult {
  if (uid === 0) return ok("root", "running as uid 0");
  return fail(
    "root",
    uid === null ? "cannot tell the user id on this system" : `running as uid ${uid}`,
    "run as root (sudo, the systemd unit, or a privileged pod)",
  );
}

/**
 * The host root is there: its /proc answers and it looks like an OS root (os-release).
 *
 * @example await checkHostRoot(createSystem("/")) // { status: "OK", detail: "/ (Red Hat ...)" ... }
 */
export async function checkHostRoot(system: System): Promise<CheckResult> {
  const name = "host root";
  try {
    await system.readText("/proc/1/status");
  } catch (e) {
    return fail(
      name,
      `cannot read ${system.hostPath("/proc/1/status")}: ${errorText(e)}`,
      system.hostRoot === "/"
        ? "mount /proc (is this a container without hostPID?)"
        : `mount the host's / at ${system.hostRoot} (oc debug node mounts it at /host)`,
    );
  }
  const release = await system.readText("/etc/os-release").catch(() => "");
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
  return ok(name, `${system.hostRoot}${pretty ? ` (${pretty})` : ""}`);
}

/**
 * crictl runs and its runtime answers: `crictl version`, then `crictl ps -o json`.
 *
 * @example await checkCrictl(system, config, signal) // { detail: "cri-o 1.31.3, 42 running containers" ...}
 */
export async function checkCrictl(
  system: System,
  config: Pick<Config, "crictl" | "runtimeEndpoint" | "crictlTimeout">,
  signal: AbortSignal,
): Promise<CheckResult> {
  const name = "crictl";
  const endpoint = config.runtimeEndpoint ? ["--runtime-endpoint", config.runtimeEndpoint] : [];
  const fixEndpoint = "is CRI-O running? set --runtime-endpoint unix:///run/crio/crio.sock " +
    "(in a pod: --runtime-endpoint unix:///host/run/crio/crio.sock)";
  let runtime = "";
  try {
    const v = await system.run(config.crictl, [...endpoint, "version"], {
      timeoutMs: config.crictlTimeout,
      signal,
      env: crictlEnv(Deno.env.toObject()),
    });
    if (v.code !== 0) {
      const first = (v.stderr.trim() || v.stdout.trim()).split("\n")[0];
      return fail(name, `${config.crictl} version exited ${v.code}: ${first}`, fixEndpoint);
    }
    const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, "m").exec(v.stdout)?.[1]?.trim();
    runtime = [field("RuntimeName"), field("RuntimeVersion")].filter(Boolean).join(" ");
  } catch (e) {
    if (e instanceof RunError && e.kind === "not-found") {
      return fail(
        name,
        `${config.crictl} not found`,
        "install cri-tools or set --crictl /path/to/crictl (in a pod: --crictl /host/usr/bin/crictl)",
      );
    }
    return fail(name, errorText(e), fixEndpoint);
  }
  try {
    const crictl = new Crictl(system, {
      command: config.crictl,
      runtimeEndpoint: config.runtimeEndpoint,
      timeoutMs: config.crictlTimeout,
    });
    const running = (await crictl.ps(signal)).length;
    return ok(name, `${runtime || "runtime answered"}, ${running} running containers`);
  } catch (e) {
    const garbage = e instanceof CrictlError && e.kind === "garbage";
    return fail(
      name,
      errorText(e),
      garbage ? "use a crictl that prints JSON for ps -o json (cri-tools 1.20+)" : fixEndpoint,
    );
  }
}

/** How the health check opens and probes the address; tests swap these. */
export interface AddressProbe {
  /** Throws Deno.errors.AddrInUse when taken. */
  listen(hostname: string, port: number): void;
  fetch: typeof fetch;
}

const realProbe: AddressProbe = {
  listen(hostname, port) {
    Deno.listen({ hostname, port }).close();
  },
  fetch: (input, init) => fetch(input, init),
};

/**
 * The health address is free, or taken by a collector that answers /healthz.
 *
 * @example await checkHealthAddr({ hostname: "127.0.0.1", port: 9797 }) // { status: "OK", detail: "127.0.0.1:9797 is free" ... }
 */
export async function checkHealthAddr(
  addr: { hostname: string; port: number },
  probe: AddressProbe = realProbe,
): Promise<CheckResult> {
  const name = "health address";
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const shown = `${host}:${addr.port}`;
  try {
    probe.listen(addr.hostname, addr.port);
    return ok(name, `${shown} is free`);
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) {
      return fail(name, `cannot listen on ${shown}: ${errorText(e)}`, "set --health-addr");
    }
  }
  const target = addr.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : addr.hostname === "::"
    ? "[::1]"
    : host;
  try {
    const res = await probe.fetch(`http://${target}:${addr.port}/healthz`, {
      signal: AbortSignal.timeout(2000),
    });
    const body = await res.text();
    // Our /healthz answers "ok" (200) or "not healthy" (503) in plain text.
    if (res.status === 200 && body === "ok\n") {
      return ok(name, `${shown} is in use by a running collector (/healthz ok)`);
    }
    if (res.status === 503 && body === "not healthy\n") {
      return warn(
        name,
        `${shown} is in use by a running collector that says it is not healthy`,
        "see its log (journalctl -u coverage-collector) and /status",
      );
    }
    return fail(
      name,
      `${shown} is in use by another program (/healthz answered ${res.status})`,
      "stop it or set --health-addr to a free port",
    );
  } catch (e) {
    return fail(
      name,
      `${shown} is in use by another program (${errorText(e)})`,
      "stop it or set --health-addr to a free port",
    );
  }
}
