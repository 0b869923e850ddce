import { encodeGlobalID } from '@pothos/plugin-relay';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createGiftSender, type GiftSender } from '../../src/domain/gifting.js';
import { PLATFORM } from '../../src/domain/ledger.js';
import { SANDBOX_PAYEES } from '../../src/domain/payouts/sandbox.js';
import { SIGNATURE_HEADER, signWebhook } from '../../src/domain/webhook-signature.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { EntryKind, Role, type User } from '../../src/generated/prisma/client.js';
import { ok, request } from '../support/graphql.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, uniqueKey } from '../support/money.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import {
  AddPayoutMethod,
  ApprovePayout,
  PayoutQuote,
  PayoutsLedgerAudit,
  PayoutsWallet,
  RequestPayout,
  VerifyPayoutMethod,
} from './documents.js';

export const TEST_PAYOUT_WEBHOOK_SECRET = 'test-payout-webhook-secret-0001';

export type SignedIn = User & { token: string };

/** A test server with the sandbox payout provider, whose webhooks are signed with TEST_PAYOUT_WEBHOOK_SECRET. */
export function startPayoutServer(environment: Record<string, string> = {}, options: Parameters<typeof startTestServer>[0] = {}) {
  return startTestServer({ ...options, variables: { PAYOUT_WEBHOOK_SECRETS: TEST_PAYOUT_WEBHOOK_SECRET, ...environment } });
}

export const gid = (typename: 'Payout' | 'PayoutMethod' | 'User', id: string) => encodeGlobalID(typename, id);
/** The database id inside a Relay id. */
export const dbId = (id: string) => Buffer.from(id, 'base64').toString('utf8').split(':').slice(1).join(':');

export async function signedIn(db: Database, overrides: Parameters<typeof createUser>[1] = {}): Promise<SignedIn> {
  const user = await createUser(db, overrides);
  return Object.assign(user, { token: await tokenFor(user) });
}

export const signedInAdmin = (db: Database) => signedIn(db, { roles: [Role.VIEWER, Role.ADMIN] });

// Diamonds are earned the one real way, by gifts; a large creator needs more than the platform's daily
// cap on one viewer's spending allows, so the gifts are sent under a policy without it.
const senders = new WeakMap<Database, GiftSender>();
const generous = { ...DEFAULT_POLICY, platformDailyCapCoins: 10n ** 12n, platformWeeklyCapCoins: 10n ** 12n };

/** Diamonds for a live creator: one gift of that many coins from a fresh viewer (1 diamond per coin). */
export async function earn(db: Database, creator: { id: string }, liveSessionId: string, diamonds: bigint): Promise<void> {
  const sender = senders.get(db) ?? createGiftSender(db, silentAnnouncer, generous);
  senders.set(db, sender);
  const viewer = await createFundedViewer(db, diamonds);
  const gift = await createCatalogGift(db, diamonds);
  await sender.send(viewer.id, { liveSessionId, giftId: gift.id, quantity: 1, idempotencyKey: uniqueKey('earn') });
}

/** A signed-in adult creator, live, holding `diamonds` earned from gifts. */
export async function creatorWith(db: Database, diamonds: bigint, overrides: Parameters<typeof createUser>[1] = {}) {
  const { creator, session } = await createLiveCreator(db, overrides);
  if (diamonds > 0n) await earn(db, creator, session.id, diamonds);
  return { creator: Object.assign(creator, { token: await tokenFor(creator) }) as SignedIn, session };
}

/** addPayoutMethod over GraphQL: an e-mail wallet at `email`. */
export async function addWallet(server: TestServer, creator: { token: string }, email: string) {
  const { addPayoutMethod } = await ok(server.url, AddPayoutMethod, { input: { emailWallet: { email } } }, { token: creator.token });
  if (addPayoutMethod.__typename !== 'PayoutMethod') throw new Error(`The method was refused: ${JSON.stringify(addPayoutMethod)}`);
  return addPayoutMethod;
}

/** An operator verifies a method over GraphQL. */
export async function verify(server: TestServer, admin: { token: string }, methodId: string) {
  const { verifyPayoutMethod } = await ok(server.url, VerifyPayoutMethod, { input: { methodId } }, { token: admin.token });
  expect(verifyPayoutMethod).toMatchObject({ __typename: 'PayoutMethod', verified: true });
  return verifyPayoutMethod;
}

/** A creator's first method (no cooling-off), verified by an operator: ready to be paid to. */
export async function readyMethod(server: TestServer, creator: { token: string }, admin: { token: string }, email: string = SANDBOX_PAYEES.pays.email) {
  const method = await addWallet(server, creator, email);
  await verify(server, admin, method.id);
  return method.id;
}

/** requestPayout over GraphQL. */
export async function ask(server: TestServer, creator: { token: string }, methodId: string, diamonds: bigint | string, idempotencyKey = uniqueKey('payout')) {
  const { requestPayout } = await ok(server.url, RequestPayout, { input: { diamonds: String(diamonds), methodId, idempotencyKey } }, { token: creator.token });
  return requestPayout;
}

/** ask(), for a payout that must be accepted. */
export async function asked(server: TestServer, creator: { token: string }, methodId: string, diamonds: bigint | string) {
  const payout = await ask(server, creator, methodId, diamonds);
  if (payout.__typename !== 'Payout') throw new Error(`The payout was refused: ${JSON.stringify(payout)}`);
  return payout;
}

export async function quote(server: TestServer, creator: { token: string }, methodId: string, diamonds: bigint | string) {
  const { payoutQuote } = await ok(server.url, PayoutQuote, { diamonds: String(diamonds), methodId }, { token: creator.token });
  if (payoutQuote.__typename !== 'PayoutQuote') throw new Error(`No quote: ${JSON.stringify(payoutQuote)}`);
  return payoutQuote;
}

export async function approve(server: TestServer, admin: { token: string }, payoutId: string, idempotencyKey = uniqueKey('approve')) {
  return (await ok(server.url, ApprovePayout, { input: { payoutId, idempotencyKey } }, { token: admin.token })).approvePayout;
}

/** The creator's diamonds as their wallet shows them. */
export async function diamondsOf(server: TestServer, user: { token: string }): Promise<bigint> {
  return BigInt((await ok(server.url, PayoutsWallet, {}, { token: user.token })).wallet.diamonds);
}

/** What the ledger holds for a payout: its status and how many entries of each kind moved its diamonds. */
export async function payoutRecord(db: Database, payoutId: string) {
  const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const entries = (kind: EntryKind) => db.journalEntry.count({ where: { kind, memo: { startsWith: `Payout ${payoutId}` } } });
  const [holds, paid, reversals, changes] = await Promise.all([
    entries(EntryKind.PAYOUT_HOLD),
    entries(EntryKind.PAYOUT_PAID),
    entries(EntryKind.PAYOUT_REVERSAL),
    db.payoutChange.count({ where: { payoutId } }),
  ]);
  return { status: payout.status, holds, paid, reversals, changes };
}

/** The platform's payout accounts: diamonds held for payouts in progress, and paid out. */
export async function payoutAccounts(db: Database) {
  const [held, paidOut] = await Promise.all(
    [PLATFORM.payoutHold, PLATFORM.diamondPaidOut].map(async (id) => (await db.account.findUniqueOrThrow({ where: { id } })).balance),
  );
  return { held: held!, paidOut: paidOut! };
}

export type PayoutWebhookBody =
  | { id: string; type: 'payout.paid' | 'payout.failed' | 'payout.returned'; data: { payoutId: string; reason?: string } }
  | { id: string; type: 'payout_method.verified'; data: { methodId: string } };

export const payoutEvent = (type: 'payout.paid' | 'payout.failed' | 'payout.returned', payoutId: string, id = uniqueKey('evt')): PayoutWebhookBody => ({
  id,
  type,
  data: { payoutId },
});

/** The payout provider's webhook over real HTTP, signed as the provider signs it unless told otherwise. */
export async function postPayoutWebhook(
  server: TestServer,
  event: PayoutWebhookBody | string,
  { at = new Date(), secrets = [TEST_PAYOUT_WEBHOOK_SECRET], signature }: { at?: Date; secrets?: string[]; signature?: string | null } = {},
) {
  const rawBody = typeof event === 'string' ? event : JSON.stringify(event);
  const header = signature === undefined ? signWebhook(secrets, rawBody, at) : signature;
  const response = await fetch(`${new URL(server.url).origin}/webhooks/payouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { [SIGNATURE_HEADER]: header }) },
    body: rawBody,
  });
  return { status: response.status, body: (await response.json()) as { received?: true; result?: string; error?: string } };
}

/** The operator's ledgerAudit over GraphQL is clean. */
export async function expectAuditCleanOverGraphQL(server: TestServer): Promise<void> {
  const admin = await signedInAdmin(server.db);
  const { ledgerAudit } = await ok(server.url, PayoutsLedgerAudit, {}, { token: admin.token });
  expect(ledgerAudit).toEqual({ clean: true, violations: [] });
}

export { request };
