import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createBundle } from '../../src/domain/bundles.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { purchaseCoins } from '../../src/domain/purchases.js';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import type { User } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/database.js';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, sandbox, uniqueKey } from '../support/money.js';
import { recordingSchema, stable } from '../support/statements.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { globalId } from '../../src/schema/ids.js';
import { createFundedBrand } from '../brands/support.js';
import {
  BrandMatchesPage,
  CoinBundlesPage,
  GiftCatalogPage,
  NodesPage,
  PurchasesPage,
  RecentGiftsPage,
  TopCreatorsPage,
  TopGiftersPage,
  TopSupportersPage,
  WalletHistoryPage,
} from './documents.js';

// Every list a page asks for, with what the page shows under each line, costs a fixed number of SQL
// statements however many lines it has: each case has ROWS lines, so a query per line (N+1) would show
// as ROWS more statements. As in Pothos's plugin-prisma tests, the statements Prisma sent are recorded
// and snapshotted beside the result (__snapshots__/), and their number is pinned here.

const ROWS = 25;

const { url, db } = await createTestDatabase();
const run = recordingSchema(url);
const asViewer = (user: Pick<User, 'id' | 'roles'>) => ({ userId: user.id, roles: user.roles });
const numbered = (n: number) => String(n).padStart(2, '0');

// ROWS live creators and ROWS supporters. Supporter n gives the first creator n coins, and the first
// supporter gives creator n (after the first) n coins: every leaderboard below is ROWS long, with
// distinct totals, so its order is known.
const coin = await createCatalogGift(db, 1n, { name: 'Coin' });
const creators: Awaited<ReturnType<typeof createLiveCreator>>[] = [];
const supporters: User[] = [];
for (let n = 1; n <= ROWS; n++) creators.push(await createLiveCreator(db, { handle: `creator_${numbered(n)}` }));
for (let n = 1; n <= ROWS; n++) supporters.push(await createFundedViewer(db, 1_000n, { handle: `supporter_${numbered(n)}` }));
const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
const give = (from: User, to: (typeof creators)[number], quantity: number) =>
  sender.send(from.id, { liveSessionId: to.session.id, giftId: coin.id, quantity, idempotencyKey: uniqueKey('page') });
for (let n = 1; n <= ROWS; n++) await give(supporters[n - 1]!, creators[0]!, n);
for (let n = 2; n <= ROWS; n++) await give(supporters[0]!, creators[n - 1]!, n);
// Creator n has n viewers (rows an instance keeps fresh; these stay fresh for the whole file).
await db.roomPresence.createMany({
  data: creators.map(({ session }, index) => ({
    liveSessionId: session.id,
    instanceId: 'test',
    accounts: Array.from({ length: index + 1 }, () => randomUUID()),
    updatedAt: new Date(Date.now() + 3_600_000),
  })),
});
// ROWS gifts in the catalog, ROWS bundles on sale (the ones bought to fund wallets off sale), and a buyer of each.
await db.coinBundle.updateMany({ data: { retiredAt: new Date() } });
for (let n = 2; n <= ROWS; n++) await createCatalogGift(db, BigInt(n), { name: `Gift ${numbered(n)}`, sortOrder: n });
const buyer = await createFundedViewer(db, 0n, { handle: 'buyer' });
for (let n = 1; n <= ROWS; n++) {
  const prices = [
    { region: 'DEFAULT', amountMinor: BigInt(n * 100), currency: 'USD' },
    { region: 'EU', amountMinor: BigInt(n * 90), currency: 'EUR' },
  ];
  const bundle = await createBundle(db, { name: `Bundle ${numbered(n)}`, coins: BigInt(n * 100), sortOrder: n, prices });
  await purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, buyer.id, { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey('buy') });
}

describe('leaderboards', () => {
  test('topCreators, each with their live session and its viewers', async () => {
    const { data, statements } = await run(TopCreatorsPage, { period: 'DAY', first: 100 });
    expect(data.topCreators).toHaveLength(ROWS);
    expect(data.topCreators[1]).toMatchObject({ rank: 2, coins: String(ROWS), user: { handle: `creator_${ROWS}`, currentLiveSession: { viewerCount: ROWS } } });
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The board, its users, their live sessions, and the viewers of those sessions.
    expect(statements).toHaveLength(4);
  });

  test.each(['WEEK', 'ALL_TIME'] as const)("a creator's topSupporters (%s), each with their live session", async (period) => {
    const { data, statements } = await run(TopSupportersPage, { creatorId: gid('User', creators[0]!.creator.id), period, first: 100 });
    expect(data.topSupporters).toHaveLength(ROWS);
    expect(data.topSupporters[0]).toMatchObject({ rank: 1, coins: String(ROWS), user: { handle: `supporter_${ROWS}`, currentLiveSession: null } });
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The board, its users, their live sessions (none: nobody to count viewers of).
    expect(statements).toHaveLength(3);
  });

  test("a live session's topGifters, each with their live session", async () => {
    const { data, statements } = await run(TopGiftersPage, { id: gid('LiveSession', creators[0]!.session.id), first: 100 });
    expect(data.liveSession!.topGifters.edges).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The session, the page of its leaderboard, the gifters, their live sessions.
    expect(statements).toHaveLength(4);
  });
});

describe('a live session', () => {
  test('recentGifts, each with its sender, creator and gift', async () => {
    const { data, statements } = await run(RecentGiftsPage, { id: gid('LiveSession', creators[0]!.session.id), last: 100 });
    expect(data.liveSession!.recentGifts).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The session, its latest room events, their gifts, then senders, catalog gifts and creators.
    expect(statements).toHaveLength(6);
  });
});

describe('money', () => {
  test('wallet history, each line with its gift, the gift’s live session and creator', async () => {
    const { data, statements } = await run(WalletHistoryPage, { first: 100 }, asViewer(supporters[0]!));
    // Its purchase, and a gift to each creator.
    expect(data.wallet.history.edges).toHaveLength(ROWS + 1);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // Balances, the page of postings, their entries and gifts, then the gifts' sessions, creators, the sessions' creators, catalog gifts.
    expect(statements).toHaveLength(8);
  });

  test('purchases, each with its bundle and the bundle’s prices', async () => {
    const { data, statements } = await run(PurchasesPage, { first: 100 }, asViewer(buyer));
    expect(data.purchases.edges).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The page of purchases, their bundles, the bundles' prices.
    expect(statements).toHaveLength(3);
  });

  test('coin bundles on sale in a country, each with its prices', async () => {
    const { data, statements } = await run(CoinBundlesPage, { country: 'DE' });
    expect(data.coinBundles).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The bundles with the country's prices, then each bundle with all its prices (a second read of the relation, with other arguments).
    expect(statements).toHaveLength(4);
  });
});

describe('catalog and refetching', () => {
  test('the gift catalog, for the signed-in viewer’s country', async () => {
    const { data, statements } = await run(GiftCatalogPage, {}, asViewer(supporters[0]!));
    expect(data.gifts).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The viewer's country, the catalog.
    expect(statements).toHaveLength(2);
  });

  test('nodes by id: users with their live session, gifts, live sessions with their creator', async () => {
    const ids = [
      ...creators.slice(0, 10).map(({ creator }) => gid('User', creator.id)),
      ...creators.slice(10, 20).map(({ session }) => gid('LiveSession', session.id)),
      ...(await db.gift.findMany({ orderBy: { coins: 'asc' }, take: 5 })).map((gift) => gid('Gift', gift.id)),
    ];
    const { data, statements } = await run(NodesPage, { ids });
    expect(data.nodes).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // Each type's nodes (users, live sessions, gifts), the users' live sessions, the sessions' creators, the viewers of all those sessions.
    expect(statements).toHaveLength(6);
  });
});

// Last: its gifts would change the lists above.
describe('brands', () => {
  test("a brand's matches, each with its viewer, gift and campaign", async () => {
    const { creator, session } = await createLiveCreator(db, { handle: 'matched_creator' });
    const { brand, owner, caller } = await createFundedBrand(db, 10_000n);
    const campaign = await createMatchingCampaign(db, caller, {
      brandId: brand.id, name: 'Page match', creatorId: creator.id, ratioPercent: 100, budgetCoins: 10_000n,
      startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3_600_000), remainderRule: 'RETURN_TO_BRAND',
    });
    await changeCampaign(db, silentAnnouncer, caller, 'activate', { campaignId: campaign.id });
    for (const supporter of supporters) await sender.send(supporter.id, { liveSessionId: session.id, giftId: coin.id, quantity: 1, idempotencyKey: uniqueKey('page') });
    const { data, statements } = await run(BrandMatchesPage, { id: globalId('Brand', brand.id), first: 100 }, asViewer(owner));
    expect(data.brand!.matches.edges).toHaveLength(ROWS);
    expect({ data: stable(data), statements }).toMatchSnapshot();
    // The brand, the caller's membership, its matches, then their viewers, gifts and campaigns.
    expect(statements).toHaveLength(6);
  });
});
