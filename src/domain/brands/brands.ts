import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { transaction } from '../../db/transaction.js';
import { AccountOwner, ApiKeyScope, Asset, BrandRole, Prisma, type ApiKey, type Brand, type BrandMember } from '../../generated/prisma/client.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { validate } from '../validation.js';
import { generateApiKey } from './api-keys.js';
import { authorizeBrand, type BrandCaller } from './access.js';

const createBrandInput = z.object({
  name: z.string().trim().min(2, 'must be at least 2 characters').max(80, 'must be at most 80 characters'),
  ownerId: z.uuid('is not a user id'),
});

/** An admin creates a brand with its first owner; its coin budget account is opened with it. */
export async function createBrand(db: Database, input: z.input<typeof createBrandInput>): Promise<Brand> {
  const { name, ownerId } = validate(createBrandInput, input);
  return transaction(db, async (tx) => {
    if (!(await tx.user.findUnique({ where: { id: ownerId }, select: { id: true } }))) throw new NotFoundError('User');
    if (await tx.brand.findUnique({ where: { name }, select: { id: true } })) {
      throw new ValidationError([{ field: 'name', message: 'another brand has this name' }]);
    }
    const id = randomUUID();
    const account = await tx.account.create({ data: { owner: AccountOwner.BRAND, code: `brand:${id}`, asset: Asset.COIN } });
    const brand = await tx.brand.create({ data: { id, name, budgetAccountId: account.id } });
    await tx.brandMember.create({ data: { brandId: id, userId: ownerId, role: BrandRole.OWNER } });
    return brand;
  });
}

const memberInput = z.object({ brandId: z.uuid('is not a brand id'), userId: z.uuid('is not a user id'), role: z.enum(BrandRole) });

/** An owner adds a member or changes a member's role. A brand keeps at least one owner. */
export async function setBrandMember(db: Database, caller: BrandCaller, input: z.input<typeof memberInput>): Promise<BrandMember> {
  const { brandId, userId, role } = validate(memberInput, input);
  return transaction(db, async (tx) => {
    await lockBrand(tx, brandId);
    await authorizeBrand(tx, caller, brandId, 'manage');
    if (!(await tx.user.findUnique({ where: { id: userId }, select: { id: true } }))) throw new NotFoundError('User');
    if (role !== BrandRole.OWNER) await keepAnOwner(tx, brandId, userId);
    return tx.brandMember.upsert({ where: { brandId_userId: { brandId, userId } }, create: { brandId, userId, role }, update: { role } });
  });
}

const removeMemberInput = z.object({ brandId: z.uuid('is not a brand id'), userId: z.uuid('is not a user id') });

/** An owner removes a member (the last owner cannot be removed). */
export async function removeBrandMember(db: Database, caller: BrandCaller, input: z.input<typeof removeMemberInput>): Promise<Brand> {
  const { brandId, userId } = validate(removeMemberInput, input);
  return transaction(db, async (tx) => {
    const brand = await lockBrand(tx, brandId);
    await authorizeBrand(tx, caller, brandId, 'manage');
    await keepAnOwner(tx, brandId, userId);
    const { count } = await tx.brandMember.deleteMany({ where: { brandId, userId } });
    if (count === 0) throw new NotFoundError('Brand member');
    return brand;
  });
}

/** Locks the brand so that membership changes (the last-owner rule) happen one at a time. */
async function lockBrand(tx: Prisma.TransactionClient, brandId: string): Promise<Brand> {
  const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Brand" WHERE id = ${brandId}::uuid FOR NO KEY UPDATE`;
  if (!row) throw new NotFoundError('Brand');
  return tx.brand.findUniqueOrThrow({ where: { id: brandId } });
}

async function keepAnOwner(tx: Prisma.TransactionClient, brandId: string, leavingUserId: string) {
  const others = await tx.brandMember.count({ where: { brandId, role: BrandRole.OWNER, userId: { not: leavingUserId } } });
  if (others === 0) throw new ValidationError([{ field: 'userId', message: 'a brand keeps at least one owner' }]);
}

const MAX_KEY_DAYS = 3650;
const createKeyInput = z.object({
  brandId: z.uuid('is not a brand id'),
  name: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
  scopes: z.array(z.enum(ApiKeyScope)).min(1, 'name at least one scope'),
  expiresAt: z.date().nullish(),
});

/** A key and, this once, its secret. */
export type IssuedApiKey = { apiKey: ApiKey; secret: string };

/** An owner makes an API key; its secret is returned here and never again (only its hash is kept). */
export async function createApiKey(db: Database, caller: BrandCaller, input: z.input<typeof createKeyInput>, now = new Date()): Promise<IssuedApiKey> {
  const { brandId, name, scopes, expiresAt } = validate(createKeyInput, input);
  checkExpiry(expiresAt, now);
  return transaction(db, async (tx) => {
    if (!(await tx.brand.findUnique({ where: { id: brandId }, select: { id: true } }))) throw new NotFoundError('Brand');
    await authorizeBrand(tx, caller, brandId, 'manage');
    const { secret, displayPrefix, secretHash } = generateApiKey();
    const apiKey = await tx.apiKey.create({
      data: { brandId, name, scopes: [...new Set(scopes)], expiresAt: expiresAt ?? null, displayPrefix, secretHash, createdById: caller.viewer!.userId },
    });
    return { apiKey, secret };
  });
}

const rotateKeyInput = z.object({ apiKeyId: z.uuid('is not an API key id'), oldKeyExpiresAt: z.date() });

/**
 * An owner rotates a key: a new key with the same name, scopes and expiry, while the old one keeps
 * working until `oldKeyExpiresAt` (now or later; never later than it would have), so the brand can roll
 * the new secret out before the old stops.
 */
export async function rotateApiKey(db: Database, caller: BrandCaller, input: z.input<typeof rotateKeyInput>, now = new Date()): Promise<IssuedApiKey> {
  const { apiKeyId, oldKeyExpiresAt } = validate(rotateKeyInput, input);
  if (oldKeyExpiresAt.getTime() < now.getTime() - 1000) throw new ValidationError([{ field: 'oldKeyExpiresAt', message: 'must not be in the past' }]);
  return transaction(db, async (tx) => {
    // Locked: two rotations at once must not both replace it.
    await tx.$queryRaw`SELECT id FROM "ApiKey" WHERE id = ${apiKeyId}::uuid FOR NO KEY UPDATE`;
    const old = await tx.apiKey.findUnique({ where: { id: apiKeyId } });
    if (!old) throw new NotFoundError('API key');
    await authorizeBrand(tx, caller, old.brandId, 'manage');
    if (old.revokedAt || old.replacedById || (old.expiresAt && old.expiresAt <= now)) {
      throw new ValidationError([{ field: 'apiKeyId', message: 'this key is revoked, expired or already rotated' }]);
    }
    const { secret, displayPrefix, secretHash } = generateApiKey();
    const apiKey = await tx.apiKey.create({
      data: { brandId: old.brandId, name: old.name, scopes: old.scopes, expiresAt: old.expiresAt, displayPrefix, secretHash, createdById: caller.viewer!.userId },
    });
    const until = old.expiresAt && old.expiresAt < oldKeyExpiresAt ? old.expiresAt : oldKeyExpiresAt;
    await tx.apiKey.update({ where: { id: old.id }, data: { replacedById: apiKey.id, expiresAt: until } });
    return { apiKey, secret };
  });
}

const revokeKeyInput = z.object({ apiKeyId: z.uuid('is not an API key id') });

/** An owner revokes a key: refused from the next request on (keys are checked on every request). */
export async function revokeApiKey(db: Database, caller: BrandCaller, input: z.input<typeof revokeKeyInput>, now = new Date()): Promise<ApiKey> {
  const { apiKeyId } = validate(revokeKeyInput, input);
  return transaction(db, async (tx) => {
    const key = await tx.apiKey.findUnique({ where: { id: apiKeyId } });
    if (!key) throw new NotFoundError('API key');
    await authorizeBrand(tx, caller, key.brandId, 'manage');
    if (key.revokedAt) return key;
    return tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: now } });
  });
}

function checkExpiry(expiresAt: Date | null | undefined, now: Date) {
  if (!expiresAt) return;
  if (expiresAt <= now) throw new ValidationError([{ field: 'expiresAt', message: 'must be in the future' }]);
  if (expiresAt.getTime() - now.getTime() > MAX_KEY_DAYS * 86_400_000) {
    throw new ValidationError([{ field: 'expiresAt', message: `must be within ${MAX_KEY_DAYS} days` }]);
  }
}
