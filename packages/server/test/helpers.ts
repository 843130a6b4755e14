import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { bundleFunctions, createLogger, startEddy } from "@eddy/server";
import type { Backend, EddyOptions, RunningEddy } from "@eddy/server";
import { ManualClock } from "@eddy/server/testing";

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

/** Bundles `files` (an app folder's functions) as `eddy deploy` would and returns the upload body. */
export async function deployBody(
  files: Record<string, string>,
): Promise<{ functions: { file: string; code: string }[] }> {
  const src = tempApp(files);
  try {
    const { bundles, failures } = await bundleFunctions(
      src.dir,
      Object.keys(files).map((f) => join(src.dir, f)),
      join(src.dir, "out"),
    );
    if (failures.length) throw new Error(`bundling failed: ${JSON.stringify(failures)}`);
    return { functions: bundles.map((b) => ({ file: b.file, code: readFileSync(b.path, "utf8") })) };
  } finally {
    src.cleanup();
  }
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

/**
 * A manual clock for a test that drives time (see ManualClock), starting at `start`; undefined when
 * the tests run on another backend than the embedded one (`useTestBackend`): the cluster's times
 * are PostgreSQL's and JetStream's, so there the test runs on real time and waits for the same
 * signals. Advance it with {@link advance}, which does nothing on real time.
 */
export function testClock(start?: number): ManualClock | undefined {
  return testBackend ? undefined : new ManualClock(start);
}

/**
 * Lets something the server scheduled `ms` from now come (a retry, a debounce, a batch window): on
 * a manual clock, waits until its timer is armed, then advances by `ms`. On real time (`clock`
 * undefined) nothing: it comes by itself, and the test waits for its effect as it would anyway.
 */
export async function advanceWhenArmed(clock: ManualClock | undefined, ms: number): Promise<void> {
  if (!clock) return;
  await clock.whenArmed(clock.now() + ms);
  await clock.advance(ms);
}

/**
 * {@link waitFor}, moving a manual clock `stepMs` forward before each look: for a test that needs
 * time to pass but does not check exact times. On real time, plain waitFor.
 */
export async function advanceUntil<T>(
  clock: ManualClock | undefined,
  stepMs: number,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
): Promise<T> {
  return waitFor(async () => {
    await clock?.advance(stepMs);
    return probe();
  }, what);
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
  /** The attempt's span, when it ran in a trace. */
  trace?: { traceId: string; spanId: string };
}

/** The invocations of a function, newest first. */
export async function invocations(url: string, fn: string, limit = 1000): Promise<Invocation[]> {
  const body = await getJson<{ invocations: Invocation[] }>(
    `${url}/v1/invocations?function=${fn}&limit=${limit}`,
  );
  return body.invocations;
}

/** Nothing of `fn` is queued or running (its deliveries, from `GET /v1/functions/:name`). */
export async function drained(url: string, fn: string): Promise<boolean> {
  const { deliveries } = await getJson<{ deliveries: { ready: number; leased: number } }>(
    `${url}/v1/functions/${fn}`,
  );
  return deliveries.ready + deliveries.leased === 0;
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

/**
 * An HTTP gate a function can wait at (`await fetch(gate.url + "?k=KEY")`): the test learns when
 * an attempt got there (`arrived`) and decides when it goes on (`release`), instead of racing a
 * sleep against the server. A released key lets every later arrival through at once.
 */
export interface Gate {
  url: string;
  arrived(key: string): Promise<void>;
  release(key: string): void;
  close(): Promise<void>;
}

export async function startGate(): Promise<Gate> {
  const released = new Set<string>();
  const held = new Map<string, (() => void)[]>();
  const arrivals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const arrival = (key: string) => {
    let a = arrivals.get(key);
    if (!a) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      arrivals.set(key, (a = { promise, resolve }));
    }
    return a;
  };
  const server = createServer((req, res) => {
    const key = new URL(req.url ?? "/", "http://gate").searchParams.get("k") ?? "";
    arrival(key).resolve();
    const go = () => res.end("ok");
    if (released.has(key)) go();
    else held.set(key, [...(held.get(key) ?? []), go]);
  });
  const release = (key: string) => {
    released.add(key);
    for (const go of held.get(key) ?? []) go();
    held.delete(key);
  };
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrived: (key) => arrival(key).promise,
    release,
    close: () =>
      new Promise<void>((r) => {
        [...held.keys()].forEach(release);
        server.close(() => r());
      }),
  };
}

/**
 * Starts Eddy on `app` before the tests of the enclosing suite, stops it and removes the folder
 * after them; returns a getter of the running server.
 */
export function useEddy(
  app: { dir: string; cleanup: () => void },
  options: Partial<EddyOptions> = {},
): () => RunningEddy {
  let eddy: RunningEddy | undefined;
  beforeAll(async () => {
    eddy = await startTestEddy(app.dir, options);
  });
  afterAll(async () => {
    await eddy?.close();
    app.cleanup();
  });
  return () => eddy!;
}
