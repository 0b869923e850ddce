import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { globalId } from '../../src/schema/ids.js';
import { ok, request } from '../support/graphql.js';
import { expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { MyPurchases, PurchaseNode } from './documents.js';
import { buy, createTestBundle, expectLedgerAuditCleanOverGraphQL, signedIn, signedInAdmin } from './support.js';

const server = await startTestServer();
const { db } = server;

/** Every page of the signed-in user's purchases, `pageSize` at a time. */
async function allPages(token: string, pageSize: number) {
  const pages: string[][] = [];
  let after: string | null | undefined;
  for (;;) {
    const { purchases } = await ok(server.url, MyPurchases, { first: pageSize, after }, { token });
    pages.push(purchases.edges.map((edge) => edge.node.id));
    if (!purchases.pageInfo.hasNextPage) return pages;
    after = purchases.pageInfo.endCursor;
  }
}

describe("a buyer's purchase history", () => {
  test('lists every purchase, paid or not, newest first, a page at a time', async () => {
    const bundle = await createTestBundle(db);
    const buyer = await signedIn(db);
    const made: string[] = [];
    for (const method of [SANDBOX_METHODS.succeeds, SANDBOX_METHODS.declined, SANDBOX_METHODS.succeedsByWebhook, SANDBOX_METHODS.succeeds, SANDBOX_METHODS.succeeds]) {
      await buy(server, buyer, bundle.id, method);
      // Each attempt is a purchase, declined ones too: the buyer sees every charge that was tried.
      const latest = await db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id, id: { notIn: made } } });
      made.push(latest.id);
    }
    const newestFirst = [...made].reverse();

    const { purchases } = await ok(server.url, MyPurchases, { first: 10 }, { token: buyer.token });
    expect(purchases.edges.map((edge) => edge.node.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'PENDING', 'DECLINED', 'SUCCEEDED']);
    expect(purchases.edges[0]!.node).toMatchObject({ coins: '70', amountMinor: '99', currency: 'USD' });
    expect(purchases.pageInfo.hasNextPage).toBe(false);

    const pages = await allPages(buyer.token, 2);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(purchases.edges.map((edge) => edge.node.id));
    const byCreation = await db.purchase.findMany({ where: { buyerId: buyer.id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: { id: true } });
    expect(byCreation.map((row) => row.id)).toEqual(newestFirst);
    expect(pages.flat().map((id) => Buffer.from(id, 'base64').toString('utf8'))).toEqual(newestFirst.map((id) => `Purchase:${id}`));
    await expectCleanAudit(db);
  });

  test("nobody else sees a buyer's purchases", async () => {
    const bundle = await createTestBundle(db);
    const buyer = await signedIn(db);
    const purchase = await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
    if (purchase.__typename !== 'Purchase') throw new Error('the purchase failed');

    const stranger = await signedIn(db);
    const { purchases } = await ok(server.url, MyPurchases, { first: 10 }, { token: stranger.token });
    expect(purchases.edges).toEqual([]);

    const anonymous = await request(server.url, MyPurchases, { first: 10 });
    expect(anonymous.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);

    // Nor by asking for the purchase's id directly: null, as for an id that names nothing, so the
    // answer does not even tell that the purchase exists.
    const asOwner = await ok(server.url, PurchaseNode, { id: purchase.id }, { token: buyer.token });
    expect(asOwner.node).toMatchObject({ __typename: 'Purchase', id: purchase.id, amountMinor: '99' });
    const unknown = await request(server.url, PurchaseNode, { id: globalId('Purchase', randomUUID()) }, { token: stranger.token });
    for (const token of [stranger.token, undefined]) {
      const peek = await request(server.url, PurchaseNode, { id: purchase.id }, { token });
      expect(peek).toEqual(unknown);
      expect(peek).toEqual({ status: 200, data: { node: null } });
    }
    // Operators can look a purchase up.
    const admin = await signedInAdmin(db);
    expect((await ok(server.url, PurchaseNode, { id: purchase.id }, { token: admin.token })).node).toMatchObject({ __typename: 'Purchase' });
    await expectCleanAudit(db);
  });
});

describe('the ledger after all of the above', () => {
  test("the operator's ledgerAudit is clean, and only operators may run it", async () => {
    await expectLedgerAuditCleanOverGraphQL(server);
    await expectCleanAudit(db);
  });
});
