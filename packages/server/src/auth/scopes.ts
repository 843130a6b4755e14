/** What a caller may do. */
import { InvalidRequestError } from "../errors/http.js";

/** The scopes Eddy itself checks; route scopes (`on.http(…, { scopes })`) are any other strings. */
export const SCOPES = {
  /** Everything, including managing keys. */
  admin: "admin",
  /** `POST /v1/events` and sending queue messages. */
  publish: "events:publish",
  /** Receiving and deleting queue messages over HTTP. */
  consume: "queues:consume",
  /** Calling every private gateway route, and reading the status of its async requests. */
  invoke: "functions:invoke",
} as const;

/** Who a request is, once its credentials checked out. */
export interface Principal {
  /** For logs and rate limits: "admin", `key:<id>`, `jwt:<sub>`. Never a secret. */
  id: string;
  scopes: ReadonlySet<string>;
}

/** True if `principal` holds `scope` (the admin scope holds every scope). */
export function hasScope(principal: Principal | undefined, scope: string): boolean {
  return principal !== undefined && (principal.scopes.has(SCOPES.admin) || principal.scopes.has(scope));
}

/** Scopes of a key or token, checked: printable, no spaces, 1-100 characters each. */
export function checkScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new InvalidRequestError('scopes must be a non-empty array such as ["events:publish"]');
  }
  for (const s of scopes) {
    if (typeof s !== "string" || !/^[\x21-\x7e]{1,100}$/.test(s)) {
      throw new InvalidRequestError(
        `a scope is 1-100 printable characters without spaces, got ${JSON.stringify(s)}`,
      );
    }
  }
  return [...new Set(scopes as string[])];
}
