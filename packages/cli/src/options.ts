import { InvalidArgumentError } from "commander";
import { EddyRequestError } from "eddy";
import type { Problem } from "eddy";
import { RequestRefusedError, ServerUnreachableError } from "./errors.js";

/** Parses an integer option, with a message naming the option. */
export function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be an integer >= 0, got ${value}`);
    return n;
  };
}

/** The key the client commands send: --key, then EDDY_API_KEY, then EDDY_ADMIN_KEY. */
export const DEFAULT_KEY = process.env.EDDY_API_KEY ?? process.env.EDDY_ADMIN_KEY;

/** `Authorization` for a key, if any. */
export function authHeaders(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** The server the client commands talk to: --url, then EDDY_URL, then the local default. */
export const DEFAULT_URL = process.env.EDDY_URL ?? "http://127.0.0.1:8080";

/**
 * Runs a client call, turning its failures into messages a user can act on: the server's problem
 * (with each field it names), or an unreachable server.
 */
export async function explainRequestError<T>(url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof EddyRequestError) {
      const details = err.problem?.errors?.map((e) => `\n  ${e.path}: ${e.message}`).join("") ?? "";
      throw new RequestRefusedError(
        `refused (${err.status}): ${err.message}${details}${credentialsHint(err)}`,
        {
          cause: err,
        },
      );
    }
    if (err instanceof TypeError && err.message === "fetch failed") {
      const cause = (err.cause as { code?: string; message?: string } | undefined) ?? {};
      throw new ServerUnreachableError(
        `cannot reach Eddy at ${url} (${cause.code ?? cause.message ?? "no answer"}): is \`eddy dev\` running? (set --url or EDDY_URL)`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** What to do about a refusal for want of credentials. */
function credentialsHint(err: EddyRequestError): string {
  if (err.code === "EDDY_UNAUTHORIZED") {
    return "\n  this server asks for credentials: give --key KEY (or set EDDY_API_KEY); `eddy keys create` makes a key";
  }
  if (err.code === "EDDY_FORBIDDEN") {
    return "\n  the key lacks the scope named above: use a key that has it (`eddy keys create NAME --scope SCOPE`)";
  }
  return "";
}

/**
 * GET a JSON document of the API with the client commands' credentials; a refusal throws
 * {@link EddyRequestError} with the server's problem, as the SDK client does (see explainRequestError).
 */
export async function getApi<T>(url: string, key: string | undefined, path: string): Promise<T> {
  const res = await fetch(`${url.replace(/\/+$/, "")}${path}`, {
    headers: { accept: "application/json", ...authHeaders(key) },
  });
  if (!res.ok) throw await refusal(res, `GET ${path}`);
  return (await res.json()) as T;
}

/** The error of a refused response: its problem document, as the SDK client throws it. */
export async function refusal(res: Response, what: string): Promise<EddyRequestError> {
  const text = await res.text();
  let problem: Problem | undefined;
  try {
    problem = text ? (JSON.parse(text) as Problem) : undefined;
  } catch {
    problem = undefined;
  }
  return new EddyRequestError(res.status, problem, `${what}: HTTP ${res.status}`);
}
