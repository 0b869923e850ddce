import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import { Role, type OverlayToken } from '../generated/prisma/client.js';
import { AccountSuspendedError, ForbiddenError, NotAuthenticatedError, NotFoundError, OverlayTokenRevokedError, ValidationError } from './errors.js';
import { validate } from './validation.js';

/** Tokens a creator may hold unrevoked at once: one per overlay and scene is a handful. */
export const MAX_OVERLAY_TOKENS = 20;
const PREFIX = 'ovl_';
const label = z.string().trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters');

/** Only the hash is stored: a database read does not yield a working overlay URL. */
const hashOf = (secret: string) => createHash('sha256').update(secret).digest();

/**
 * A creator makes a read-only overlay token: it reads their live rooms' public events and nothing else
 * (no wallet, no mutation). The secret is returned once, here.
 */
export async function createOverlayToken(db: Database, creatorId: string, input: { label: string }): Promise<{ token: OverlayToken; secret: string }> {
  const data = validate(z.object({ label }), input);
  return transaction(db, async (tx) => {
    // Locking the creator keeps the count honest against a double tap.
    const [creator] = await tx.$queryRaw<{ roles: Role[] }[]>`SELECT roles FROM "User" WHERE id = ${creatorId}::uuid FOR NO KEY UPDATE`;
    if (!creator) throw new NotFoundError('User');
    if (!creator.roles.includes(Role.CREATOR)) throw new ForbiddenError('Only creators have overlays');
    const held = await tx.overlayToken.count({ where: { creatorId, revokedAt: null } });
    if (held >= MAX_OVERLAY_TOKENS) throw new ValidationError([{ field: 'label', message: `you already hold ${MAX_OVERLAY_TOKENS} overlay tokens: revoke one first` }]);
    const secret = PREFIX + randomBytes(24).toString('base64url');
    const token = await tx.overlayToken.create({ data: { creatorId, label: data.label, secretHash: hashOf(secret) } });
    return { token, secret };
  });
}

/** How many of a creator's tokens are listed: every unrevoked one, and the latest revoked. */
export const OVERLAY_TOKENS_LISTED = 50;

/** The creator's overlay tokens, newest first, revoked ones included (they say when). */
export function overlayTokens(db: Database, creatorId: string): Promise<OverlayToken[]> {
  return db.overlayToken.findMany({ where: { creatorId }, orderBy: { createdAt: 'desc' }, take: OVERLAY_TOKENS_LISTED });
}

/** Revokes one of the creator's tokens; overlays using it stop within OVERLAY_CHECK_MS. Revoking twice is harmless. */
export async function revokeOverlayToken(db: Database, creatorId: string, overlayTokenId: string, now = new Date()): Promise<OverlayToken> {
  await db.overlayToken.updateMany({ where: { id: overlayTokenId, creatorId, revokedAt: null }, data: { revokedAt: now } });
  const token = await db.overlayToken.findUnique({ where: { id: overlayTokenId } });
  if (!token || token.creatorId !== creatorId) throw new NotFoundError('Overlay token');
  return token;
}

/** Whose overlay a secret opens: unknown is unauthenticated, revoked says so. */
export async function overlayTokenOwner(db: Database, secret: string): Promise<{ id: string; creatorId: string }> {
  if (!secret.startsWith(PREFIX) || secret.length > 100) throw new NotAuthenticatedError('Unknown overlay token');
  const token = await db.overlayToken.findUnique({
    where: { secretHash: hashOf(secret) },
    select: { id: true, creatorId: true, revokedAt: true, creator: { select: { suspendedAt: true } } },
  });
  if (!token) throw new NotAuthenticatedError('Unknown overlay token');
  if (token.revokedAt) throw new OverlayTokenRevokedError();
  // A token is one of the account's credentials: a suspension stops it as it stops the account's sockets.
  if (token.creator.suspendedAt) throw new AccountSuspendedError();
  return { id: token.id, creatorId: token.creatorId };
}
