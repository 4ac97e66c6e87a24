/** Small reads and removals on the host the harnesses share: paths, /proc, cgroup directories. */

/**
 * Whether anything (a link too) is at `p`.
 * @example pathExists("/run/containerd") // false
 */
export function pathExists(p: string): boolean {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `/proc/<pid>` is there (a zombie counts as there).
 * @example pidAlive(Deno.pid) // true
 */
export function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `pid` runs: a zombie waiting to be reaped counts as gone.
 * @example pidRunning(Deno.pid) // true
 */
export function pidRunning(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/**
 * Removes an empty (cgroup) directory, retrying for up to 2 s while the kernel drains it (EBUSY
 * while exiting tasks leave it: no event to wait for). True once it is gone, false if still busy.
 * @example if (!(await rmdirWhenDrained(cg))) throw new Error(`rmdir ${cg}: still busy`);
 */
export async function rmdirWhenDrained(dir: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      Deno.removeSync(dir);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return false;
}
