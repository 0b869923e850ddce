import { createSecretKey, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config.js';
import { NotAuthenticatedError } from '../domain/errors.js';

/** Whom a verified token speaks for, and until when. Roles are never taken from a token: src/edge/accounts.ts reads them. */
export type TokenSubject = { userId: string; expiresAtMs: number };

export type Auth = {
  issueToken(subject: { userId: string }): Promise<string>;
  /** The account a bearer token speaks for; a bad token is a NotAuthenticatedError naming what is wrong. */
  verifyToken(token: string): Promise<TokenSubject>;
};

const ISSUER = 'ovation';
/** Verified tokens remembered at once; the oldest is forgotten first. */
const VERIFIED_TOKENS = 50_000;

export function createAuth(secret: string, ttlSeconds: number): Auth {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  // Verifying a signature costs as much CPU as the rest of a small request (docs/architecture.md). A
  // token can't change, so one verified before is trusted again until it expires.
  const verified = new Map<string, TokenSubject>();
  return {
    issueToken: (subject) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(subject.userId)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key),
    async verifyToken(token) {
      const known = verified.get(token);
      if (known && known.expiresAtMs > Date.now()) return known;
      verified.delete(token);
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, requiredClaims: ['exp'] });
        // A "roles" claim, which tokens once carried, is ignored: roles are the database's.
        if (!payload.sub) throw new NotAuthenticatedError('The token does not name a user');
        const subject = { userId: payload.sub, expiresAtMs: payload.exp! * 1000 };
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, subject);
        return subject;
      } catch (error) {
        throw refusal(error);
      }
    },
  };
}

/** Why a token was refused, in words a client developer can act on. */
function refusal(error: unknown): NotAuthenticatedError {
  if (error instanceof NotAuthenticatedError) return error;
  if (error instanceof errors.JWTExpired) return new NotAuthenticatedError('The token has expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new NotAuthenticatedError('The token signature is invalid');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new NotAuthenticatedError(error.claim === 'iss' ? 'The token was not issued by Ovation' : `The token's "${error.claim}" claim is invalid`);
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

/** The configured secret, or in development one generated once and kept with the local data. */
export async function jwtSecret(config: Config): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  const existing = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await fs.mkdir(config.dataDir, { recursive: true });
  await fs.writeFile(file, secret, { mode: 0o600 });
  return secret;
}
