import { describe, expect, test } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { post } from '../support/graphql.js';
import { balances, expectCleanAudit } from '../support/money.js';
import { startServerProcess } from '../support/process.js';
import { startTestServer, TEST_JWT_SECRET, TEST_WEBHOOK_SECRET } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { createTestBundle, globalId } from '../purchases/support.js';

const PurchaseCoins = `
  mutation Buy($input: PurchaseCoinsInput!) {
    purchaseCoins(input: $input) { __typename ... on Purchase { status coins } ... on Error { code message } }
  }`;
const DevToken = `mutation { devToken(input: { handle: "ada" }) { __typename ... on Error { code } } }`;

const database = await createTestDatabase();
const secrets = { JWT_SECRET: TEST_JWT_SECRET, PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'info' };

/** Buys a bundle with the sandbox's always-succeeding test card. */
async function buyWithTestCard(url: string, idempotencyKey: string) {
  const buyer = await createUser(database.db);
  const bundle = await createTestBundle(database.db);
  const { data } = await post(url, PurchaseCoins, { authorization: `Bearer ${await tokenFor(buyer)}` }, {
    input: { bundleId: globalId('CoinBundle', bundle.id), paymentMethod: 'pm_sandbox_success', idempotencyKey },
  });
  return { buyer, reply: data?.purchaseCoins };
}

describe('a server started without NODE_ENV (as `node dist/src/main.js` is) is not a development server', () => {
  const started = startServerProcess({ ...secrets, HOST: '127.0.0.1' });

  test('it refuses devToken and serves no GraphiQL', async () => {
    const { url } = await started;
    expect((await post(url!, DevToken)).data?.devToken).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const page = await fetch(url!, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });

  test("the sandbox's test card buys nothing: purchases are unavailable, and the start-up log says so", async () => {
    const { url, log } = await started;
    expect(log.map((line) => line.msg)).toContain('No payment provider is configured: coin purchases are unavailable (PAYMENT_PROVIDER_UNAVAILABLE)');
    const { buyer, reply } = await buyWithTestCard(url!, 'free-coins-1');
    expect(reply).toMatchObject({ __typename: 'PaymentProviderUnavailableError', code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
    expect(await database.db.purchase.count({ where: { buyerId: buyer.id } })).toBe(0);
    expect(await balances(database.db, buyer)).toMatchObject({ coins: 0n });
    await expectCleanAudit(database.db);
  });

  test("nobody can settle a purchase through the sandbox's webhook: there is none", async () => {
    const { url } = await started;
    const response = await fetch(new URL('/webhooks/payments', url), { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });

  test('without the secrets it does not start at all, and says which are missing', async () => {
    const refused = await startServerProcess({ DATABASE_URL: database.url, PORT: '0' });
    expect(refused.url).toBeUndefined();
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/JWT_SECRET: required unless NODE_ENV=development[\s\S]*PAYMENT_WEBHOOK_SECRET: required unless NODE_ENV=development/);
  });
});

describe('development is asked for by name', () => {
  test('NODE_ENV=development listens on 127.0.0.1 unless HOST says otherwise', async () => {
    const { url } = await startServerProcess({ ...secrets, NODE_ENV: 'development', SEED_DEMO_DATA: 'false' });
    expect(new URL(url!).hostname).toBe('127.0.0.1');
  });

  test('staging turns the sandbox providers on with ENABLE_SANDBOX_PROVIDERS, and the start-up log says so', async () => {
    const staging = await startServerProcess({ ...secrets, NODE_ENV: 'production', ENABLE_SANDBOX_PROVIDERS: 'true', HOST: '127.0.0.1' });
    expect(staging.log.find((line) => line.msg.startsWith('ENABLE_SANDBOX_PROVIDERS'))?.level).toBe(40);
    const { reply } = await buyWithTestCard(staging.url!, 'staging-1');
    expect(reply).toMatchObject({ __typename: 'Purchase', status: 'SUCCEEDED' });
    expect((await post(staging.url!, DevToken)).data?.devToken).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    await expectCleanAudit(database.db);
  });
});

describe('cross-origin requests from browsers', () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });

  test('in production, no origin may call the API from a browser unless CORS_ORIGINS lists it', async () => {
    const closed = await startTestServer({ env: 'production', database });
    for (const response of [await preflight(closed.url, 'https://evil.example'), await fetch(closed.url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })]) {
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  test('CORS_ORIGINS allows exactly its origins, never with credentials', async () => {
    const open = await startTestServer({ env: 'production', database, variables: { CORS_ORIGINS: 'https://app.example,https://studio.example' } });
    const allowed = await preflight(open.url, 'https://studio.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://studio.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await preflight(open.url, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  test('in development any origin may call it, without credentials (tokens travel in headers)', async () => {
    const development = await startTestServer({ env: 'development', database });
    const response = await preflight(development.url, 'http://localhost:5173');
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
