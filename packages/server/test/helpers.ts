import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startEddy } from "@eddy/server";
import type { Backend, EddyOptions, RunningEddy } from "@eddy/server";

/** A temporary app folder with the given files (paths relative to it); removed by `cleanup`. */
export function tempApp(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "eddy-app-"));
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let testBackend: (() => Promise<Backend>) | undefined;

/**
 * Makes `startTestEddy` run on backends from `open` instead of the embedded store, so that another
 * backend's package can run these engine tests too ("done when it passes on both backends"): it
 * calls this, then imports the test files (see packages/cluster/test/engine-on-cluster.test.ts).
 */
export function useTestBackend(open: () => Promise<Backend>): void {
  testBackend = open;
}

/** Starts Eddy in this process on a free port, quiet unless EDDY_TEST_LOG is set. */
export async function startTestEddy(dir: string, options: Partial<EddyOptions> = {}): Promise<RunningEddy> {
  const backend = options.backend ?? (await testBackend?.());
  return startEddy({
    dir,
    port: 0,
    log: createLogger({ level: process.env.EDDY_TEST_LOG ?? "silent" }),
    ...options,
    ...(backend ? { backend } : {}),
  });
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GET a JSON document. */
export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** POST JSON (or raw text) and return status, content type and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { "content-type": "application/cloudevents+json" },
): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** A minimal invocation as the API returns it. */
export interface Invocation {
  id: string;
  fn: string;
  eventId: string;
  attempt: number;
  status: string;
  outcome: string;
  /** When the attempt was admitted (epoch ms), before its sandbox was taken or started. */
  startedAt: number;
  error?: { name: string; message: string; code?: string };
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
}

/** The invocations of a function, newest first. */
export async function invocations(url: string, fn: string, limit = 1000): Promise<Invocation[]> {
  const body = await getJson<{ invocations: Invocation[] }>(
    `${url}/v1/invocations?function=${fn}&limit=${limit}`,
  );
  return body.invocations;
}

/** Waits until every one of these events has a succeeded invocation of `fn`. */
export async function waitForSucceeded(
  url: string,
  fn: string,
  eventIds: string[],
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    async () => {
      const done = new Set(
        (await invocations(url, fn)).filter((x) => x.status === "succeeded").map((x) => x.eventId),
      );
      return eventIds.every((id) => done.has(id));
    },
    `every one of ${eventIds.length} events to succeed in ${fn}`,
    timeoutMs,
  );
}

/** Source of a function module that records nothing and succeeds. */
export function fnSource(name: string, pattern: unknown, body = "", options = ""): string {
  return `import { defineFunction, on, NonRetriableError, RetryAfterError } from "eddy";
export default defineFunction(
  { name: ${JSON.stringify(name)}, triggers: [on.event(${JSON.stringify(pattern)})] ${options ? ", " + options : ""} },
  async (event, ctx) => { ${body} },
);
`;
}
