import { createSecretKey, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Config, IdentityProvider } from '../config.js';
import { IdentityProviderUnavailableError, NotAuthenticatedError } from '../domain/errors.js';

/**
 * Whom a verified token speaks for, and until when. Ovation's own tokens (HS256, JWT_SECRET) name an
 * account; the identity provider's name an identity (issuer and subject), which IdentityLink ties to one
 * account (src/edge/accounts.ts). Roles are never taken from a token.
 */
export type TokenSubject =
  | { kind: 'account'; userId: string; expiresAtMs: number }
  | { kind: 'identity'; issuer: string; subject: string; expiresAtMs: number };

export type Auth = {
  /** Ovation's own HS256 token for an account (register and devToken in development, tests, benchmarks). */
  issueToken(subject: { userId: string }): Promise<string>;
  /** The account or identity a bearer token speaks for; a bad token is a NotAuthenticatedError naming what is wrong. */
  verifyToken(token: string): Promise<TokenSubject>;
};

const ISSUER = 'ovation';
/** What an identity provider may sign with; never HS256 (that is Ovation's own, with JWT_SECRET) or "none". */
const PROVIDER_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** Verified tokens remembered at once; the oldest is forgotten first. */
const VERIFIED_TOKENS = 50_000;

export function createAuth(secret: string | undefined, ttlSeconds: number, provider?: IdentityProvider): Auth {
  const key = secret === undefined ? undefined : createSecretKey(Buffer.from(secret, 'utf8'));
  const providerKeys = provider && remoteKeys(provider);
  // Verifying a signature costs as much CPU as the rest of a small request (docs/architecture.md). A
  // token can't change, so one verified before is trusted again until it expires.
  const verified = new Map<string, TokenSubject>();

  async function verify(token: string): Promise<TokenSubject> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new NotAuthenticatedError('The token is invalid');
    }
    if (alg === 'HS256' || !providerKeys) {
      if (!key) throw new NotAuthenticatedError('This server accepts only tokens from its identity provider');
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, requiredClaims: ['exp'] });
      // A "roles" claim, which tokens once carried, is ignored: roles are the database's.
      if (!payload.sub) throw new NotAuthenticatedError('The token does not name a user');
      return { kind: 'account', userId: payload.sub, expiresAtMs: payload.exp! * 1000 };
    }
    const { keys, issuer } = await providerKeys();
    const { payload } = await jwtVerify(token, keys, {
      algorithms: PROVIDER_ALGORITHMS,
      issuer,
      audience: provider!.audience,
      requiredClaims: ['exp', 'sub'],
    });
    return { kind: 'identity', issuer, subject: payload.sub!, expiresAtMs: payload.exp! * 1000 };
  }

  return {
    issueToken: (subject) => {
      if (!key) return Promise.reject(new Error('No JWT_SECRET: this server issues no tokens of its own'));
      return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(subject.userId).setIssuer(ISSUER).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(key);
    },
    async verifyToken(token) {
      const known = verified.get(token);
      if (known && known.expiresAtMs > Date.now()) return known;
      verified.delete(token);
      try {
        const subject = await verify(token);
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, subject);
        return subject;
      } catch (error) {
        throw refusal(error);
      }
    },
  };
}

class ProviderUnavailable extends Error {}

/**
 * The identity provider's keys: jose's remote key set, which caches them, fetches them again when a token
 * names a key id it does not hold (a rotation; at most once per `refetchAfterMs`) and after ten minutes.
 * With OIDC discovery the key set's URL (and the issuer) come from the provider's configuration document,
 * read on first use and again after a failure.
 */
function remoteKeys(provider: IdentityProvider): () => Promise<{ keys: JWTVerifyGetKey; issuer: string }> {
  const keySet = (url: string): JWTVerifyGetKey => {
    const remote = createRemoteJWKSet(new URL(url), { cooldownDuration: provider.refetchAfterMs, timeoutDuration: 5_000 });
    // A key id or algorithm the set does not hold is the token's fault; a set that did not answer is the provider's.
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) throw error;
        throw new ProviderUnavailable(`the key set at ${url} could not be read: ${(error as Error).message}`);
      }
    };
  };
  if (provider.jwksUrl) {
    const resolved = { keys: keySet(provider.jwksUrl), issuer: provider.issuer! };
    return async () => resolved;
  }
  let discovered: Promise<{ keys: JWTVerifyGetKey; issuer: string }> | undefined;
  const discover = async () => {
    const url = `${provider.oidcIssuer!.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof document.jwks_uri !== 'string') throw new Error('no jwks_uri');
      const issuer = provider.issuer ?? (typeof document.issuer === 'string' ? document.issuer : provider.oidcIssuer!);
      return { keys: keySet(document.jwks_uri), issuer };
    } catch (error) {
      throw new ProviderUnavailable(`OIDC discovery at ${url} failed: ${(error as Error).message}`);
    }
  };
  return () => (discovered ??= discover().catch((error: unknown) => {
    discovered = undefined;
    throw error;
  }));
}

/** Why a token was refused, in words a client developer can act on. */
function refusal(error: unknown): NotAuthenticatedError | IdentityProviderUnavailableError {
  if (error instanceof NotAuthenticatedError) return error;
  if (error instanceof ProviderUnavailable) return new IdentityProviderUnavailableError({ cause: error });
  if (error instanceof errors.JWTExpired) return new NotAuthenticatedError('The token has expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new NotAuthenticatedError('The token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey) return new NotAuthenticatedError('The token was signed with a key the identity provider does not publish');
  if (error instanceof errors.JOSEAlgNotAllowed) return new NotAuthenticatedError('The token was signed with an algorithm this server does not accept');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new NotAuthenticatedError('The token was not issued by Ovation or its identity provider');
    if (error.claim === 'aud') return new NotAuthenticatedError('The token is not meant for this API (its audience)');
    return new NotAuthenticatedError(`The token's "${error.claim}" claim is invalid`);
  }
  return new NotAuthenticatedError('The token is invalid');
}

/** Reads `Authorization: Bearer <token>`; undefined when absent, an error when malformed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw new NotAuthenticatedError('The Authorization header must be "Bearer <token>"');
  return match[1];
}

/** The configured secret, in development one generated once and kept with the local data, else none (identity provider only). */
export async function jwtSecret(config: Config): Promise<string | undefined> {
  if (config.jwtSecret) return config.jwtSecret;
  if (!config.development) return undefined;
  const file = path.join(config.dataDir, 'jwt-secret');
  const existing = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await fs.mkdir(config.dataDir, { recursive: true });
  await fs.writeFile(file, secret, { mode: 0o600 });
  return secret;
}
