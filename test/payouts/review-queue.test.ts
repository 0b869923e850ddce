import type { VariablesOf } from '@graphql-typed-document-node/core';
import { describe, expect, test } from 'vitest';
import { ok, request } from '../support/graphql.js';
import { PlacePayoutHold, ReviewQueue } from './documents.js';
import { approve, asked, creatorWith, dbId, gid, readyMethod, signedInAdmin, startPayoutServer } from './support.js';

const server = await startPayoutServer();
const { db } = server;
const admin = await signedInAdmin(db);

// Two creators' payouts: Ana's of 50 and 100 USD, one of them held; Ben's of 75 USD, then approved and paid.
const { creator: ana } = await creatorWith(db, 100_000n);
const { creator: ben } = await creatorWith(db, 100_000n);
const anaMethod = await readyMethod(server, ana, admin);
const benMethod = await readyMethod(server, ben, admin);
const ana50 = await asked(server, ana, anaMethod, 10_000n);
const ben75 = await asked(server, ben, benMethod, 15_000n);
const ana100 = await asked(server, ana, anaMethod, 20_000n);
const benPaid = await asked(server, ben, benMethod, 30_000n);
await approve(server, admin, benPaid.id);
await ok(server.url, PlacePayoutHold, { input: { payoutId: ana100.id, reason: 'COMPLIANCE_REVIEW' } }, { token: admin.token });
// Ana's first payout was asked for an hour ago.
await db.payout.update({ where: { id: dbId(ana50.id) }, data: { createdAt: new Date(Date.now() - 3600_000) } });

type Filter = VariablesOf<typeof ReviewQueue>['filter'];

async function queue(filter?: Filter, first = 10, after?: string) {
  const { payoutReviewQueue } = await ok(server.url, ReviewQueue, { filter, first, after }, { token: admin.token });
  return payoutReviewQueue;
}
const ids = async (filter?: Filter) => (await queue(filter)).edges.map(({ node }) => node.id).filter((id) => [ana50.id, ben75.id, ana100.id, benPaid.id].includes(id));

describe("the operators' review queue", () => {
  test('by default, the payouts waiting for an operator, oldest first, with their creator and holds', async () => {
    expect(await ids()).toEqual([ana50.id, ben75.id, ana100.id]);
    const held = (await queue()).edges.find(({ node }) => node.id === ana100.id)!.node;
    expect(held).toMatchObject({ status: 'REQUESTED', amountMinor: '10000', creator: { handle: ana.handle }, holds: [{ reason: 'COMPLIANCE_REVIEW' }] });
  });

  test('filters by status, amount, age, creator and holds', async () => {
    expect(await ids({ statuses: ['PAID'] })).toEqual([benPaid.id]);
    expect(await ids({ statuses: ['REQUESTED', 'PAID'], minAmountMinor: '7500' })).toEqual([ben75.id, ana100.id, benPaid.id]);
    expect(await ids({ maxAmountMinor: '7500' })).toEqual([ana50.id, ben75.id]);
    expect(await ids({ requestedBefore: new Date(Date.now() - 1800_000).toISOString() })).toEqual([ana50.id]);
    expect(await ids({ creatorId: gid('User', ana.id) })).toEqual([ana50.id, ana100.id]);
    expect(await ids({ held: true })).toEqual([ana100.id]);
    expect(await ids({ held: false, creatorId: gid('User', ana.id) })).toEqual([ana50.id]);
  });

  test('is a connection: page by page', async () => {
    const filter = { creatorId: gid('User', ana.id) };
    const first = await queue(filter, 1);
    expect(first.edges.map(({ node }) => node.id)).toEqual([ana50.id]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await queue(filter, 1, first.pageInfo.endCursor!);
    expect(second.edges.map(({ node }) => node.id)).toEqual([ana100.id]);
  });

  test('is for operators only', async () => {
    const refused = await request(server.url, ReviewQueue, {}, { token: ana.token });
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const anonymous = await request(server.url, ReviewQueue, {});
    expect(anonymous.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  test('a bad filter names the field', async () => {
    const refused = await request(server.url, ReviewQueue, { filter: { minAmountMinor: '500', maxAmountMinor: '100' } }, { token: admin.token });
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED' } });
  });
});
