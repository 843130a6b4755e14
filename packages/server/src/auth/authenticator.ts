import { createHash, timingSafeEqual } from "node:crypto";
import type { KeyStore } from "./keys.js";
import type { JwtVerifier } from "./jwt.js";
import { looksLikeJwt } from "./jwt.js";
import type { Principal } from "./scopes.js";
import { SCOPES } from "./scopes.js";

/** Turns a bearer token into a principal; undefined if the token is not valid. */
export interface Authenticator {
  /** False when no credential can exist (no admin key, no JWT settings, no API key). */
  configured(): Promise<boolean>;
  authenticate(token: string): Promise<Principal | undefined>;
}

/** Shortest admin key accepted: a short key can be guessed. */
export const MIN_ADMIN_KEY_LENGTH = 16;

/**
 * Every way to present credentials, tried by the token's shape: the admin key (`--admin-key`,
 * all scopes), API keys (`eddy_…`), and JWTs (when configured). The admin key is compared in
 * constant time (both sides hashed first, so lengths do not leak either).
 *
 * @example
 * const auth = credentials({ adminKey: process.env.EDDY_ADMIN_KEY, keys: new KeyStore(backend.kv) });
 */
export function credentials(options: {
  adminKey?: string;
  keys?: KeyStore;
  jwt?: JwtVerifier;
}): Authenticator {
  const { adminKey, keys, jwt } = options;
  if (adminKey !== undefined && adminKey.length < MIN_ADMIN_KEY_LENGTH) {
    throw new RangeError(
      `the admin key (--admin-key or EDDY_ADMIN_KEY) must be at least ${MIN_ADMIN_KEY_LENGTH} characters, got ${adminKey.length}`,
    );
  }
  const digest = adminKey === undefined ? undefined : sha256(adminKey);
  const admin: Principal = { id: "admin", scopes: new Set([SCOPES.admin]) };
  return {
    configured: async () => digest !== undefined || jwt !== undefined || (await keys?.any()) === true,
    authenticate: async (token) => {
      if (digest && timingSafeEqual(sha256(token), digest)) return admin;
      if (token.startsWith("eddy_")) return keys?.verify(token);
      if (jwt && looksLikeJwt(token)) return jwt(token);
      return undefined;
    },
  };
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}
