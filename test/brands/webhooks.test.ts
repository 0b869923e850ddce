import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isPrivateAddress, resolvePublic, urlProblem } from '../../src/domain/brands/webhooks/addresses.js';
import { recordBrandEvents, type BrandEventInput } from '../../src/domain/brands/webhooks/events.js';
import { transaction } from '../../src/db/transaction.js';
import type { Database } from '../../src/db/client.js';
import { BrandEventType, Role } from '../../src/generated/prisma/client.js';
import { globalId, idOf } from '../../src/schema/ids.js';
import { post } from '../support/graphql.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { eventually } from '../support/wait.js';
import { startReceiver, verifies } from './webhook-receiver.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { registerWebhookEndpoint } from '../../src/domain/brands/webhooks/endpoints.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { matchGift } from '../../src/domain/brands/manual-matching.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { settleAll } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { createFundedBrand } from './support.js';

// A brand's back-end is told what happened to its campaigns: signed, retried, in order per campaign,
// from a job queue on PostgreSQL that any instance works on.

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const CREATE_BRAND = `mutation ($input: CreateBrandInput!) { createBrand(input: $input) { __typename ... on Brand { id } } }`;
const REGISTER = `mutation ($input: RegisterWebhookEndpointInput!) {
  registerWebhookEndpoint(input: $input) { __typename ... on IssuedWebhookSecret { secret endpoint { id url enabled } } ... on Error { code message } } }`;
const REDELIVER = `mutation ($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { __typename ... on WebhookDelivery { id status } ... on Error { code } } }`;
const ENDPOINTS = `query ($id: ID!) { brand(id: $id) { webhookEndpoints { id enabled disabledReason failingSince
  deliveries(first: 50) { edges { node { id status attempts lastStatusCode nextAttemptAt redelivery event { id type } } } } } } }`;

type Endpoint = { id: string; enabled: boolean; disabledReason: string | null; deliveries: { edges: { node: { id: string; status: string; attempts: number; lastStatusCode: number | null; redelivery: boolean; event: { id: string; type: string } } }[] } };

/** A brand with a signed-in owner on `server`. */
async function brandOn(server: TestServer) {
  const [admin, owner] = await Promise.all([createUser(server.db, { roles: [Role.VIEWER, Role.ADMIN] }), createUser(server.db)]);
  const created = await post(server.url, CREATE_BRAND, bearer(await tokenFor(admin)), { input: { name: `Brand ${owner.handle}`, ownerId: globalId('User', owner.id) } });
  const id = (created.data as { createBrand: { id: string } }).createBrand.id;
  const ownerToken = await tokenFor(owner);
  const register = async (url: string, eventTypes: string[] = ['MATCH_MADE', 'CAMPAIGN_ENDED', 'ENDPOINT_DISABLED']) => {
    const reply = await post(server.url, REGISTER, bearer(ownerToken), { input: { brandId: id, url, eventTypes } });
    return (reply.data as { registerWebhookEndpoint: { __typename: string; secret: string; endpoint: { id: string }; code?: string; message?: string } }).registerWebhookEndpoint;
  };
  const endpoints = async () => ((await post(server.url, ENDPOINTS, bearer(ownerToken), { id })).data as { brand: { webhookEndpoints: Endpoint[] } }).brand.webhookEndpoints;
  return { id, brandId: idOf(id, 'Brand', 'id'), ownerToken, register, endpoints };
}

/** Events as a change records them: in a transaction of their own here. */
const tell = (db: Database, events: BrandEventInput[]) => transaction(db, (tx) => recordBrandEvents(tx, events));
const matchMade = (brandId: string, campaignId: string, n: number): BrandEventInput => ({ brandId, campaignId, type: BrandEventType.MATCH_MADE, data: { n, coins: '5' } });

describe('delivering a brand event', () => {
  test('an endpoint that fails twice then answers gets the event on the third attempt, signed, each attempt with the same event id', async () => {
    const server = await startTestServer({ variables: { WEBHOOK_BACKOFF_MS: '50' } });
    const brand = await brandOn(server);
    const receiver = await startReceiver((_, index) => (index < 2 ? 503 : 200));
    const { secret } = await brand.register(receiver.url);
    const campaignId = randomUUID();
    await tell(server.db, [matchMade(brand.brandId, campaignId, 1)]);

    await eventually(async () => (receiver.received.length >= 3 ? true : undefined), 'three attempts');
    const [first, , third] = receiver.received;
    expect(new Set(receiver.received.map((entry) => entry.eventId)).size).toBe(1);
    expect(third!.event).toEqual({ id: first!.eventId, type: 'match.made', createdAt: expect.any(String), brandId: brand.brandId, campaignId, data: { n: 1, coins: '5' } });
    for (const entry of receiver.received) expect(verifies(secret, entry.signature, entry.body)).toBe(true);
    expect(verifies('whsec_someone_else', third!.signature, third!.body)).toBe(false);
    expect(verifies(secret, third!.signature, third!.body.replace('"n":1', '"n":2'))).toBe(false);

    const [endpoint] = await eventually(async () => {
      const listed = await brand.endpoints();
      return listed[0]?.deliveries.edges[0]?.node.status === 'DELIVERED' ? listed : undefined;
    }, 'the delivery to be recorded');
    expect(endpoint!.deliveries.edges.map(({ node }) => node)).toEqual([
      expect.objectContaining({ status: 'DELIVERED', attempts: 3, lastStatusCode: 200, redelivery: false, event: { id: first!.eventId, type: 'MATCH_MADE' } }),
    ]);
    expect(receiver.received).toHaveLength(3);

    // Asked for again: a new delivery, with the same event id, for the back-end to deduplicate on.
    const again = await post(server.url, REDELIVER, bearer(brand.ownerToken), { input: { deliveryId: endpoint!.deliveries.edges[0]!.node.id } });
    expect(again.data).toEqual({ redeliverWebhook: { __typename: 'WebhookDelivery', id: expect.any(String), status: 'PENDING' } });
    await eventually(async () => (receiver.received.length === 4 ? true : undefined), 'the redelivery');
    expect(receiver.received[3]!.eventId).toBe(first!.eventId);
    expect(receiver.received[3]!.body).toBe(third!.body);
  });

  test("a campaign's events arrive in order, though the endpoint fails now and then", async () => {
    const server = await startTestServer({ variables: { WEBHOOK_BACKOFF_MS: '20' } });
    const brand = await brandOn(server);
    // Every third request fails: its event is retried before anything after it is sent.
    const receiver = await startReceiver((_, index) => (index % 3 === 2 ? 500 : 200));
    await brand.register(receiver.url);
    const campaigns = [randomUUID(), randomUUID()];
    for (let n = 1; n <= 15; n++) await tell(server.db, campaigns.map((campaignId) => matchMade(brand.brandId, campaignId, n)));

    const delivered = () => receiver.received.filter((_, index) => index % 3 !== 2);
    await eventually(async () => (delivered().length >= 30 ? true : undefined), 'every event', 10_000);
    for (const campaignId of campaigns) {
      const order = delivered()
        .filter((entry) => entry.event.campaignId === campaignId)
        .map((entry) => entry.event.data.n);
      expect(order).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    }
  });

  test('a change that rolls back tells nothing; the next committed one is told', async () => {
    const server = await startTestServer();
    const brand = await brandOn(server);
    const receiver = await startReceiver();
    await brand.register(receiver.url);
    const campaignId = randomUUID();
    await expect(
      transaction(server.db, async (tx) => {
        await recordBrandEvents(tx, [matchMade(brand.brandId, campaignId, 1)]);
        throw new Error('the match failed after all');
      }),
    ).rejects.toThrow('the match failed after all');
    await tell(server.db, [matchMade(brand.brandId, campaignId, 2)]);
    await eventually(async () => (receiver.received.length >= 1 ? true : undefined), 'the committed event');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.map((entry) => entry.event.data.n)).toEqual([2]);
    expect(await server.db.brandEvent.count({ where: { brandId: brand.brandId } })).toBe(1);
  });

  test('an endpoint failing for too long is disabled, and the brand is told on its endpoint that works', async () => {
    // Disabled after 1.8 s of failures (WEBHOOK_DISABLE_AFTER_HOURS is hours).
    const server = await startTestServer({ variables: { WEBHOOK_BACKOFF_MS: '100', WEBHOOK_DISABLE_AFTER_HOURS: '0.0005' } });
    const brand = await brandOn(server);
    const failing = await startReceiver(() => 500);
    const working = await startReceiver();
    const broken = await brand.register(failing.url, ['MATCH_MADE']);
    await brand.register(working.url, ['ENDPOINT_DISABLED']);
    await tell(server.db, [matchMade(brand.brandId, randomUUID(), 1)]);

    const told = await eventually(async () => working.received.find((entry) => entry.event.type === 'endpoint.disabled'), 'the brand to be told', 10_000);
    expect(told.event.data).toEqual({ endpointId: idOf(broken.endpoint.id, 'WebhookEndpoint', 'id'), url: failing.url, reason: expect.stringMatching(/^Failing since /) });
    const listed = await brand.endpoints();
    expect(listed.find((endpoint) => endpoint.id === broken.endpoint.id)).toEqual(
      expect.objectContaining({ enabled: false, disabledReason: expect.stringMatching(/^Failing since .*HTTP 500/) }),
    );
    const attempts = failing.received.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(failing.received.length).toBe(attempts);
  });
});

describe('what a campaign tells', () => {
  test('matches as gifts are matched, its exhaustion once, then its end and settlement, each once; a brand without webhooks records nothing', async () => {
    const server = await startTestServer({ variables: { WEBHOOK_BACKOFF_MS: '50' } });
    const { db } = server;
    const receiver = await startReceiver();
    const live = await createLiveCreator(db);
    const lion = await createCatalogGift(db, 10n, { name: 'Lion' });
    const [told, silent] = await Promise.all([createFundedBrand(db, 1_000n), createFundedBrand(db, 1_000n)]);
    await registerWebhookEndpoint(db, { allowPrivate: true }, told.caller, {
      brandId: told.brand.id, url: receiver.url, eventTypes: ['MATCH_MADE', 'CAMPAIGN_ACTIVATED', 'CAMPAIGN_EXHAUSTED', 'CAMPAIGN_ENDED', 'CAMPAIGN_SETTLED'],
    });
    const now = Date.now();
    const campaignOf = async ({ brand, caller }: typeof told, budgetCoins: bigint) => {
      const draft = await createMatchingCampaign(db, caller, {
        brandId: brand.id, name: 'Match', creatorId: live.creator.id, ratioPercent: 100, budgetCoins,
        startsAt: new Date(now - 1000), endsAt: new Date(now + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
      });
      return changeCampaign(db, silentAnnouncer, caller, 'activate', { campaignId: draft.id });
    };
    // The silent brand's campaign applies first (it ends sooner) and has no endpoint.
    const quiet = await createMatchingCampaign(db, silent.caller, {
      brandId: silent.brand.id, name: 'Quiet', creatorId: live.creator.id, ratioPercent: 10, budgetCoins: 1_000n,
      startsAt: new Date(now - 1000), endsAt: new Date(now + 1800_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    await changeCampaign(db, silentAnnouncer, silent.caller, 'activate', { campaignId: quiet.id });
    const campaign = await campaignOf(told, 55n);

    const gifts = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
    const viewers = await Promise.all(Array.from({ length: 8 }, () => createFundedViewer(db, 10n)));
    await settleAll(viewers.map((viewer) => gifts.send(viewer.id, { liveSessionId: live.session.id, giftId: lion.id, quantity: 1, idempotencyKey: uniqueKey('gift') })));
    await changeCampaign(db, silentAnnouncer, told.caller, 'end', { campaignId: campaign.id });

    const types = async () => {
      const heard = receiver.received.map((entry) => entry.event.type);
      return heard.includes('campaign.settled') ? heard : undefined;
    };
    const heard = await eventually(types, 'the settlement to be told');
    // 55 coins: five whole matches of 10 and a partial one of 5, then exhausted; ended by the brand; settled with nothing left.
    expect(heard).toEqual(['campaign.activated', ...Array(6).fill('match.made'), 'campaign.exhausted', 'campaign.ended', 'campaign.settled']);
    const matched = receiver.received.filter((entry) => entry.event.type === 'match.made').map((entry) => entry.event.data);
    expect(matched.map((data) => data.coins).sort()).toEqual(['10', '10', '10', '10', '10', '5']);
    expect(matched.every((data) => data.creatorId === live.creator.id && data.manual === false)).toBe(true);
    expect(receiver.received.at(-1)!.event.data).toMatchObject({ matchedCoins: '55', remainderCoins: '0', remainderRule: 'RETURN_TO_BRAND' });
    expect(await db.brandEvent.count({ where: { brandId: silent.brand.id } })).toBe(0);
    await expectCleanAudit(db);
  });
});

describe('a match that rolls back', () => {
  test("tells nothing: a brand's manual match whose transaction fails at its last write sends no event; the next one is told", async () => {
    const server = await startTestServer({ variables: { WEBHOOK_BACKOFF_MS: '50' } });
    const { db } = server;
    const receiver = await startReceiver();
    const live = await createLiveCreator(db);
    const lion = await createCatalogGift(db, 10n, { name: 'Lion' });
    const funded = await createFundedBrand(db, 1_000n);
    await registerWebhookEndpoint(db, { allowPrivate: true }, funded.caller, { brandId: funded.brand.id, url: receiver.url, eventTypes: ['MATCH_MADE'] });
    const draft = await createMatchingCampaign(db, funded.caller, {
      brandId: funded.brand.id, name: 'Later', creatorId: live.creator.id, ratioPercent: 100, budgetCoins: 1_000n,
      startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    const campaign = await changeCampaign(db, silentAnnouncer, funded.caller, 'activate', { campaignId: draft.id });
    const gifts = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
    const fan = await createFundedViewer(db, 10n);
    const gift = await gifts.send(fan.id, { liveSessionId: live.session.id, giftId: lion.id, quantity: 1, idempotencyKey: uniqueKey('gift') });
    // The room event of a match of 7 coins fails to be written (a fault made on purpose, in this file's
    // database): everything in the match's transaction rolls back, its brand event with it.
    await db.$executeRawUnsafe(`
      CREATE FUNCTION fail_seven() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF (NEW.payload -> 'manualMatch' ->> 'coins') = '7' THEN RAISE EXCEPTION 'the room event could not be written'; END IF; RETURN NEW; END $$`);
    await db.$executeRawUnsafe(`CREATE TRIGGER fail_seven BEFORE INSERT ON "RoomEvent" FOR EACH ROW EXECUTE FUNCTION fail_seven()`);
    const match = (coins: bigint) => matchGift(db, silentAnnouncer, funded.caller, { campaignId: campaign.id, sentGiftId: gift.id, coins, idempotencyKey: uniqueKey('match') });
    await expect(match(7n)).rejects.toThrow();
    await match(3n);
    // The gift's own match (10 coins), then the later match of 3; of the 7, nothing.
    await eventually(async () => (receiver.received.length >= 2 ? true : undefined), 'the committed matches');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.map((entry) => entry.event.data.coins)).toEqual(['10', '3']);
    expect(await db.giftMatch.count({ where: { campaignId: campaign.id } })).toBe(2);
    expect(await db.brandEvent.count({ where: { brandId: funded.brand.id } })).toBe(2);
    await db.$executeRawUnsafe('DROP TRIGGER fail_seven ON "RoomEvent"');
    await expectCleanAudit(db);
  });
});

describe('two instances', () => {
  test('deliver every event between them, each once', async () => {
    const a = await startTestServer();
    const b = await startTestServer({ database: a.database });
    const brand = await brandOn(a);
    const receiver = await startReceiver();
    await brand.register(receiver.url);
    const campaigns = Array.from({ length: 8 }, () => randomUUID());
    await Promise.all(
      Array.from({ length: 25 }, (_, n) => tell(n % 2 ? a.db : b.db, campaigns.map((campaignId) => matchMade(brand.brandId, campaignId, n)))),
    );
    await eventually(async () => (receiver.received.length >= 200 ? true : undefined), 'every event', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = receiver.received.map((entry) => entry.eventId);
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
    expect(await a.db.brandEvent.count({ where: { brandId: brand.brandId } })).toBe(200);
  });
});

describe('where webhooks may go', () => {
  test('in production: https only, never to a loopback, private or link-local address', async () => {
    const server = await startTestServer({ env: 'production' });
    const brand = await brandOn(server);
    for (const url of ['http://hooks.example.com/ovation', 'https://127.0.0.1/hook', 'https://localhost/hook', 'https://10.1.2.3/hook', 'https://169.254.169.254/latest', 'https://[::1]/hook', 'https://[::ffff:192.168.0.1]/hook']) {
      const refused = await brand.register(url);
      expect(refused, url).toEqual(expect.objectContaining({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' }));
    }
    expect(await server.db.webhookEndpoint.count()).toBe(0);
  });

  test('addresses are judged after resolution too, as each delivery connects', async () => {
    const production = { allowPrivate: false };
    expect(['127.0.0.1', '10.0.0.8', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1'].filter((address) => !isPrivateAddress(address))).toEqual([]);
    expect(['93.184.216.34', '2606:4700::1111', '8.8.8.8'].filter(isPrivateAddress)).toEqual([]);
    await expect(resolvePublic('localhost', production)).rejects.toThrow('resolves to a loopback, private or link-local address');
    expect(urlProblem('https://hooks.example.com/ovation', production)).toBeUndefined();
    expect(urlProblem('https://user:pw@hooks.example.com/', production)).toBe('must not carry credentials');
    expect(urlProblem('http://127.0.0.1:8080/hook', { allowPrivate: true })).toBeUndefined();
  });
});
