import { createPublicKey } from "node:crypto";
import type { JWTVerifyGetKey, KeyObject } from "jose";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Principal } from "./scopes.js";

/** How bearer JWTs are verified. One of `secret`, `publicKey`, `jwksUrl`. */
export interface JwtOptions {
  /** HMAC secret (HS256/384/512), 32+ characters. */
  secret?: string;
  /** PEM public key (RS*, PS*, ES*, EdDSA). */
  publicKey?: string;
  /** A JWKS endpoint; keys are fetched and cached by `kid` (rotations are picked up). */
  jwksUrl?: string;
  /** Required `iss`. */
  issuer?: string;
  /** Required `aud`. */
  audience?: string;
  /** Allowed `alg` values; default: the HS family with a secret, the asymmetric ones otherwise. */
  algorithms?: string[];
}

const HMAC = ["HS256", "HS384", "HS512"];
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** A verified token's principal, or undefined: bad signature, expired, wrong issuer or audience. */
export type JwtVerifier = (token: string) => Promise<Principal | undefined>;

/**
 * Verifies JWTs with jose. Scopes come from the `scope` claim (space-separated, OAuth 2.0) or `scp`
 * (a list or a string); `exp` and `nbf` are enforced with 30 s of clock skew.
 *
 * @example
 * const verify = jwtVerifier({ jwksUrl: "https://auth.example.com/.well-known/jwks.json", audience: "eddy" });
 */
export function jwtVerifier(options: JwtOptions): JwtVerifier {
  const given = [options.secret, options.publicKey, options.jwksUrl].filter((x) => x !== undefined);
  if (given.length !== 1) {
    throw new RangeError("jwt: give exactly one of secret, publicKey or jwksUrl");
  }
  if (options.secret !== undefined && options.secret.length < 32) {
    throw new RangeError(`jwt.secret must be at least 32 characters, got ${options.secret.length}`);
  }
  let key: Uint8Array | KeyObject | JWTVerifyGetKey;
  if (options.secret !== undefined) key = new TextEncoder().encode(options.secret);
  else if (options.publicKey !== undefined) key = createPublicKey(options.publicKey);
  else key = createRemoteJWKSet(new URL(options.jwksUrl!));
  const verifyOptions = {
    algorithms: options.algorithms ?? (options.secret !== undefined ? HMAC : ASYMMETRIC),
    clockTolerance: 30,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  };
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as Uint8Array, verifyOptions);
      const scopes = new Set<string>();
      if (typeof payload.scope === "string") for (const s of payload.scope.split(" ")) if (s) scopes.add(s);
      const scp = payload.scp;
      if (Array.isArray(scp)) for (const s of scp) if (typeof s === "string") scopes.add(s);
      if (typeof scp === "string") for (const s of scp.split(" ")) if (s) scopes.add(s);
      return { id: `jwt:${payload.sub ?? "?"}`, scopes };
    } catch {
      return undefined;
    }
  };
}

/** True for a compact JWS (three base64url parts): the bearer is then a JWT, not an API key. */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith("eyJ") && token.split(".").length === 3;
}
