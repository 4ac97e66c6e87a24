/** What the real nodes hand out and take: pods, covserver containers, their specs, leftovers. */

/** A running pod sandbox. */
export interface RealPod {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  hostNetwork: boolean;
  /** "" for hostNetwork. */
  ip: string;
  logDir: string;
}

/** A running container of the covserver image. */
export interface RealContainer {
  id: string;
  pod: RealPod;
  name: string;
  attempt: number;
  /** PID of the container's process as the runtime reports it (the node's PID namespace). */
  pid: number;
  coveragePort: number;
  appPort: number;
  /** Where its app server answers from the host. */
  appUrl: string;
}

/** What start a container with. */
export interface RealContainerSpec {
  name: string;
  /** Coverage port (first free of port..port+49 inside its network). */
  coveragePort: number;
  /** 0 = any. */
  appPort?: number;
  env?: Record<string, string>;
  attempt?: number;
}

/** What teardown would leave behind; all empty after close(). */
export interface RealLeftovers {
  processes: number[];
  links: string[];
  cgroups: string[];
  paths: string[];
}

/** What a pod is asked for. */
export interface CriPodOptions {
  name: string;
  namespace: string;
  uid?: string;
  hostNetwork?: boolean;
  /** shareProcessNamespace (CRI-O: a real infra container holds the pod's PID namespace). */
  sharedPid?: boolean;
}
