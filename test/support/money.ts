import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { auditLedger } from '../../src/domain/audit.js';
import { createBundle } from '../../src/domain/bundles.js';
import { createGift, type NewGift } from '../../src/domain/catalog.js';
import { startLiveSession } from '../../src/domain/live-sessions.js';
import { createSandboxProvider, SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { purchaseCoins } from '../../src/domain/purchases.js';
import { balancesOf } from '../../src/domain/wallet.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { Role, type User } from '../../src/generated/prisma/client.js';
import { TEST_WEBHOOK_SECRET } from './server.js';
import { createUser } from './users.js';

export const sandbox = createSandboxProvider(TEST_WEBHOOK_SECRET);
export const uniqueKey = (label = 'key') => `${label}-${randomBytes(8).toString('hex')}`;

/** Buys exactly `coins` through the real purchase path (a one-off bundle, the sandbox provider). */
export async function fundWallet(db: Database, user: Pick<User, 'id'>, coins: bigint): Promise<void> {
  const bundle = await createBundle(db, { name: `${coins} coins`, coins, prices: [{ region: 'DEFAULT', amountMinor: 99n, currency: 'USD' }] });
  await purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, user.id, { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey('fund') });
}

/** A viewer holding `coins`. */
export async function createFundedViewer(db: Database, coins: bigint, overrides: Parameters<typeof createUser>[1] = {}): Promise<User> {
  const viewer = await createUser(db, overrides);
  if (coins > 0n) await fundWallet(db, viewer, coins);
  return viewer;
}

/** An adult creator who is live now. */
export async function createLiveCreator(db: Database, overrides: Parameters<typeof createUser>[1] = {}) {
  const creator = await createUser(db, { roles: [Role.VIEWER, Role.CREATOR], ...overrides });
  const session = await startLiveSession(db, DEFAULT_POLICY, creator.id, { title: 'Live now' });
  return { creator, session };
}

export function createCatalogGift(db: Database, coins: bigint, overrides: Partial<NewGift> = {}) {
  return createGift(db, { name: `Gift ${coins}`, coins, imageUrl: 'https://cdn.example/gift.png', ...overrides });
}

export const balances = (db: Database, user: Pick<User, 'id'>) => balancesOf(db, user.id);

/** Every money test ends here: the ledger's invariants hold. */
export async function expectCleanAudit(db: Database): Promise<void> {
  expect(await auditLedger(db)).toEqual([]);
}
