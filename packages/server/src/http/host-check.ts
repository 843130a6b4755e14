import type { FastifyReply, FastifyRequest } from "fastify";
import { problem, sendProblem } from "./problem.js";

/** Host names a server on loopback always answers to. */
export const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"] as const;

/**
 * The names a server answers to when it checks (`allowed` plus the loopback names and the address
 * it listens on, unless that is a wildcard), lower-case, without ports or brackets.
 */
export function allowedHostSet(allowed: readonly string[], listenHost: string): ReadonlySet<string> {
  const set = new Set<string>(LOOPBACK_HOSTS);
  if (listenHost !== "0.0.0.0" && listenHost !== "::") set.add(bare(listenHost));
  for (const h of allowed) set.add(bare(h));
  return set;
}

/**
 * An `onRequest` hook for a server without credentials (`eddy dev`): the `/v1` API answers only
 * requests whose `Host` is one of `hosts`, so that a web page cannot reach it through a name it
 * controls that resolves to 127.0.0.1 (DNS rebinding), and whose `Origin`, when a browser sends
 * one, is one of them too, so that a page elsewhere cannot drive it with a simple cross-site
 * request (a `text/plain` POST needs no preflight).
 */
export function hostCheckHook(hosts: ReadonlySet<string>) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith("/v1/") && req.url !== "/v1") return;
    const host = hostOf(req.headers.host);
    if (host === undefined || !hosts.has(host)) {
      return refuse(
        reply,
        `Host ${JSON.stringify(req.headers.host ?? "")} is not a name this server answers to`,
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !hosts.has(originHost(origin) ?? "")) {
      return refuse(reply, `requests from the page at ${JSON.stringify(origin)} are refused (cross-origin)`);
    }
  };
}

function refuse(reply: FastifyReply, why: string) {
  return sendProblem(
    reply,
    problem(
      "EDDY_HOST_NOT_ALLOWED",
      "Host not allowed",
      `${why}; this server takes requests without credentials, so its API answers only to localhost and the names given with --allowed-host (EDDY_ALLOWED_HOSTS)`,
    ),
  );
}

/** `host[:port]` or `[v6]:port` → the bare, lower-case name. */
function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header);
  return m ? bare(m[1]!) : undefined;
}

function originHost(origin: string): string | undefined {
  try {
    return bare(new URL(origin).hostname);
  } catch {
    return undefined; // "null" (sandboxed frames, files) or garbage: no allowed host
  }
}

function bare(host: string): string {
  return host
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}
