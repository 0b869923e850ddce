import type { Database } from '../../src/db/client.js';
import type { BrandCaller } from '../../src/domain/brands/access.js';
import { createBrand } from '../../src/domain/brands/brands.js';
import { recordInvoicePayment } from '../../src/domain/brands/budgets.js';
import { Role } from '../../src/generated/prisma/client.js';
import { uniqueKey } from '../support/money.js';
import { createUser } from '../support/users.js';

/** A brand with its owner (signed in) and `coins` in its budget, from an invoice an operator recorded. */
export async function createFundedBrand(db: Database, coins: bigint) {
  const [owner, admin] = await Promise.all([createUser(db), createUser(db, { roles: [Role.VIEWER, Role.ADMIN] })]);
  const brand = await createBrand(db, { name: `Brand ${uniqueKey()}`, ownerId: owner.id });
  if (coins > 0n) {
    await recordInvoicePayment(db, admin.id, { brandId: brand.id, coins, amountMinor: coins, currency: 'USD', invoiceReference: uniqueKey('inv'), idempotencyKey: uniqueKey('inv') });
  }
  const caller: BrandCaller = { viewer: { userId: owner.id, roles: owner.roles } };
  return { brand, owner, admin, caller };
}
