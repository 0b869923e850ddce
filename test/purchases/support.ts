import { encodeGlobalID } from '@pothos/plugin-relay';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createBundle, type NewBundle } from '../../src/domain/bundles.js';
import { sandboxPaymentId, SIGNATURE_HEADER, signWebhook } from '../../src/domain/payments/sandbox.js';
import type { PaymentEventType } from '../../src/domain/payments/provider.js';
import { EntryKind, Role, type User } from '../../src/generated/prisma/client.js';
import { ok, request } from '../support/graphql.js';
import { uniqueKey } from '../support/money.js';
import { TEST_WEBHOOK_SECRET, type TestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { PurchaseCoins, PurchasesLedgerAudit, PurchasesWallet } from './documents.js';

/** The Relay id a front-end would send for a row. */
export const globalId = (typename: 'CoinBundle' | 'Purchase' | 'LiveSession' | 'Gift' | 'User', id: string) => encodeGlobalID(typename, id);

/** A user together with the bearer token that signs them in. */
export async function signedIn(db: Database, overrides: Parameters<typeof createUser>[1] = {}): Promise<User & { token: string }> {
  const user = await createUser(db, overrides);
  return Object.assign(user, { token: await tokenFor(user) });
}

export const signedInAdmin = (db: Database) => signedIn(db, { roles: [Role.VIEWER, Role.ADMIN] });

/** A bundle on sale, by default everywhere at 0.99 USD. */
export function createTestBundle(db: Database, overrides: Partial<NewBundle> = {}) {
  return createBundle(db, {
    name: 'Handful',
    coins: 70n,
    prices: [{ region: 'DEFAULT', amountMinor: 99n, currency: 'USD' }],
    ...overrides,
  });
}

/** purchaseCoins over GraphQL, as the buyer's app sends it. */
export async function buy(server: TestServer, buyer: { token: string }, bundleId: string, paymentMethod: string, idempotencyKey = uniqueKey('buy')) {
  const { purchaseCoins } = await ok(
    server.url,
    PurchaseCoins,
    { input: { bundleId: globalId('CoinBundle', bundleId), paymentMethod, idempotencyKey } },
    { token: buyer.token },
  );
  return purchaseCoins;
}

/** buy(), for a purchase that must go through; returns the purchase's database id. */
export async function bought(server: TestServer, buyer: { token: string }, bundleId: string, paymentMethod: string) {
  const purchase = await buy(server, buyer, bundleId, paymentMethod);
  if (purchase.__typename !== 'Purchase') throw new Error(`The purchase was refused: ${JSON.stringify(purchase)}`);
  return { ...purchase, dbId: databaseId(purchase.id) };
}

/** The database id inside a Relay id. */
export const databaseId = (id: string) => Buffer.from(id, 'base64').toString('utf8').split(':').slice(1).join(':');

export async function walletOf(server: TestServer, user: { token: string }) {
  return (await ok(server.url, PurchasesWallet, {}, { token: user.token })).wallet;
}

export type WebhookEventBody = { id: string; type: PaymentEventType; data: { paymentId: string } };

export const paymentEvent = (type: PaymentEventType, purchaseId: string, id = uniqueKey('evt')): WebhookEventBody => ({
  id,
  type,
  data: { paymentId: sandboxPaymentId(purchaseId) },
});

type Signing = {
  /** When the provider signed it (default: now). */
  at?: Date;
  secret?: string;
  /** A header to send as is; null sends none. */
  signature?: string | null;
};

/** The provider's webhook over real HTTP, signed as the provider signs it unless told otherwise. */
export async function postWebhook(server: TestServer, event: WebhookEventBody | string, { at = new Date(), secret = TEST_WEBHOOK_SECRET, signature }: Signing = {}) {
  const rawBody = typeof event === 'string' ? event : JSON.stringify(event);
  const header = signature === undefined ? signWebhook(secret, rawBody, at) : signature;
  const response = await fetch(`${new URL(server.url).origin}/webhooks/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { [SIGNATURE_HEADER]: header }) },
    body: rawBody,
  });
  return { status: response.status, body: (await response.json()) as { received?: true; result?: string; error?: string } };
}

/** What the ledger holds for one purchase: its status, and the entries that moved its coins. */
export async function purchaseRecord(db: Database, purchaseId: string) {
  const purchase = await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  const memo = { endsWith: purchaseId };
  const entries = (kind: EntryKind) => db.journalEntry.count({ where: { kind, memo } });
  const [credits, refunds, chargebacks] = await Promise.all([entries(EntryKind.PURCHASE), entries(EntryKind.REFUND), entries(EntryKind.CHARGEBACK)]);
  return { status: purchase.status, credits, refunds, chargebacks, amountMinor: purchase.amountMinor, currency: purchase.currency };
}

/** The operator's audit over GraphQL finds nothing wrong, and a non-admin may not run it. */
export async function expectLedgerAuditCleanOverGraphQL(server: TestServer): Promise<void> {
  const admin = await signedInAdmin(server.db);
  const { ledgerAudit } = await ok(server.url, PurchasesLedgerAudit, {}, { token: admin.token });
  expect(ledgerAudit).toEqual({ clean: true, violations: [] });
  const viewer = await signedIn(server.db);
  const refused = await request(server.url, PurchasesLedgerAudit, {}, { token: viewer.token });
  expect(refused.data ?? null).toBeNull();
  expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
  const anonymous = await request(server.url, PurchasesLedgerAudit, {});
  expect(anonymous.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
}
