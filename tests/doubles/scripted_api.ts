/** A plain-HTTP stand-in for the API server whose answers a unit test scripts. */

import { join } from "node:path";

export interface ScriptedApi extends AsyncDisposable {
  url: string;
  dir: string;
  /** Every request: method, path and query. */
  requests: Array<{ method: string; path: string; query: string; body: string }>;
  /** Writes a kubeconfig for this server; `user` is the YAML of the user entry. */
  kubeconfig(user: string): Promise<string>;
}

/** Starts a server answering with `handler`. @example await using api = await scriptedApi(() => new Response("{}")) */
export async function scriptedApi(
  handler: (req: Request, url: URL) => Response | Promise<Response>,
): Promise<ScriptedApi> {
  const dir = await Deno.makeTempDir({ prefix: "kube-unit-" });
  const requests: ScriptedApi["requests"] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      requests.push({
        method: req.method,
        path: url.pathname,
        query: url.search.slice(1),
        body: await req.text(),
      });
      return handler(req, url);
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    dir,
    requests,
    async kubeconfig(user) {
      const path = join(dir, "kubeconfig");
      await Deno.writeTextFile(
        path,
        `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n` +
          `    server: ${url}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n` +
          `users:\n- name: u\n  user:\n${user}`,
      );
      return path;
    },
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A JSON response. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** A Kubernetes Status error response. */
export function status(code: number, reason: string, message: string): Response {
  return json({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }, code);
}
