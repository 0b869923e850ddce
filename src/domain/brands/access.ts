import type { Database } from '../../db/client.js';
import type { SqlTx } from '../../db/driver.js';
import { ApiKeyScope, BrandRole, Role } from '../../generated/prisma/client.js';
import { ForbiddenError, NotAuthenticatedError } from '../errors.js';
import { hasRole, type Viewer } from '../viewer.js';
import { hashApiKey, isWellFormedApiKey } from './api-keys.js';

/** A request authenticated by a brand's API key: it speaks for the brand, within the key's scopes. */
export type BrandKey = { keyId: string; brandId: string; scopes: ApiKeyScope[] };

/** Who asks to act on a brand: a person (a member, or an admin) or one of the brand's keys. */
export type BrandCaller = { viewer: Viewer | null; brandKey?: BrandKey | null };

/**
 * What an action on a brand needs. `manage` (members and keys) is for owners only, never a key: a leaked
 * key must not be able to make more keys. Owners may do everything; members read, run campaigns and
 * match; a key what its scopes say; an admin reads any brand.
 */
export type BrandNeed = 'read' | 'campaigns' | 'match' | 'funds' | 'manage';

const KEY_SCOPE: Record<Exclude<BrandNeed, 'manage'>, ApiKeyScope> = {
  read: ApiKeyScope.READ,
  campaigns: ApiKeyScope.CAMPAIGNS,
  match: ApiKeyScope.MATCH,
  funds: ApiKeyScope.FUNDS,
};
const MEMBER_MAY: BrandNeed[] = ['read', 'campaigns', 'match'];

/** Refuses unless the caller may do `need` on the brand. */
export async function authorizeBrand(db: SqlTx, caller: BrandCaller, brandId: string, need: BrandNeed): Promise<void> {
  const { brandKey, viewer } = caller;
  if (brandKey) {
    if (brandKey.brandId !== brandId) throw new ForbiddenError('This API key belongs to another brand');
    if (need === 'manage') throw new ForbiddenError('API keys cannot manage members or keys: an owner signs in to do that');
    if (!brandKey.scopes.includes(KEY_SCOPE[need])) throw new ForbiddenError(`This API key lacks the ${KEY_SCOPE[need]} scope`);
    return;
  }
  if (!viewer) throw new NotAuthenticatedError();
  const [member] = await db.$queryRaw<{ role: BrandRole }[]>`
    SELECT role::text AS role FROM "BrandMember" WHERE "brandId" = ${brandId}::uuid AND "userId" = ${viewer.userId}::uuid`;
  if (member?.role === BrandRole.OWNER) return;
  if (member && MEMBER_MAY.includes(need)) return;
  if (need === 'read' && hasRole(viewer, Role.ADMIN)) return;
  throw new ForbiddenError(member ? 'Only the brand\'s owners may do this' : 'You are not a member of this brand');
}

/**
 * The brand key a bearer credential is, checked on every request (so a revocation holds from the next
 * one on), and its use recorded in `lastUsedAt`. The secret itself is never kept or logged: only its
 * hash is compared, and a refusal does not repeat it.
 */
export async function authenticateApiKey(db: Database, secret: string, now = new Date()): Promise<BrandKey> {
  if (!isWellFormedApiKey(secret)) throw new NotAuthenticatedError('The API key is malformed (its checksum does not match)');
  const [key] = await db.$queryRaw<{ id: string; brandId: string; scopes: ApiKeyScope[] }[]>`
    UPDATE "ApiKey" SET "lastUsedAt" = ${now}::timestamptz
    WHERE "secretHash" = ${hashApiKey(secret)} AND "revokedAt" IS NULL AND ("expiresAt" IS NULL OR "expiresAt" > ${now}::timestamptz)
    RETURNING id, "brandId", scopes::text[] AS scopes`;
  if (!key) throw new NotAuthenticatedError('The API key is unknown, revoked or expired');
  return { keyId: key.id, brandId: key.brandId, scopes: key.scopes };
}
