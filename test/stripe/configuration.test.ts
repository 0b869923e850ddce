import { describe, expect, test } from 'vitest';
import { ConfigError, readConfig } from '../../src/config.js';
import { recordingLogger } from '../support/logs.js';
import { startTestServer } from '../support/server.js';
import { startStripeStandIn } from '../support/stripe.js';

// PAYMENT_PROVIDER=stripe: what it needs, what production refuses, and the mode it logs.

const SECRET = 'a-production-secret-of-32-chars!';
const live = { NODE_ENV: 'production', JWT_SECRET: SECRET, PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_abc123', STRIPE_WEBHOOK_SECRETS: 'whsec_one, whsec_two' };

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`readConfig accepted ${JSON.stringify(env)}`);
}

describe('configuring Stripe', () => {
  test('a live key and its signing secrets are a production configuration: no sandbox webhook secret needed', () => {
    expect(readConfig(live).stripe).toEqual({ mode: 'live', secretKey: 'sk_live_abc123', webhookSecrets: ['whsec_one', 'whsec_two'], cancelUnconfirmedAfterMs: 3600_000 });
    expect(readConfig({ ...live, STRIPE_CANCEL_UNCONFIRMED_AFTER_MINUTES: '30' }).stripe).toMatchObject({ cancelUnconfirmedAfterMs: 1800_000 });
    expect(readConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' }).stripe).toBeUndefined();
  });

  test('production refuses a test-mode key unless told it is a staging deployment', () => {
    const test = { ...live, STRIPE_SECRET_KEY: 'sk_test_abc123' };
    expect(refusal(test)).toMatch(/STRIPE_SECRET_KEY: a test-mode key takes no money; production needs a live key \(sk_live_\.\.\.\), or STAGING=true/);
    expect(readConfig({ ...test, STAGING: 'true' }).stripe).toMatchObject({ mode: 'test' });
    expect(readConfig({ ...test, NODE_ENV: 'development' }).stripe).toMatchObject({ mode: 'test' });
    expect(readConfig({ ...live, STRIPE_SECRET_KEY: 'rk_test_abc', NODE_ENV: 'test' }).stripe).toMatchObject({ mode: 'test' });
  });

  test('what is missing or malformed is named', () => {
    expect(refusal({ ...live, STRIPE_SECRET_KEY: undefined, STRIPE_WEBHOOK_SECRETS: undefined })).toMatch(/STRIPE_SECRET_KEY: required[\s\S]*STRIPE_WEBHOOK_SECRETS: required/);
    expect(refusal({ ...live, STRIPE_SECRET_KEY: 'pk_live_abc' })).toMatch(/STRIPE_SECRET_KEY: must be a Stripe secret or restricted key/);
    expect(refusal({ ...live, STRIPE_WEBHOOK_SECRETS: 'not-a-secret' })).toMatch(/STRIPE_WEBHOOK_SECRETS\S*: each must be a webhook signing secret/);
    expect(refusal({ ...live, PAYMENT_PROVIDER: 'paypal' })).toMatch(/PAYMENT_PROVIDER: must be "stripe"/);
    expect(refusal({ ...live, PAYMENT_PROVIDER: undefined, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' })).toMatch(/STRIPE_SECRET_KEY: set PAYMENT_PROVIDER=stripe to use it/);
    expect(refusal({ ...live, STRIPE_API_URL: 'http://127.0.0.1:12111' })).toMatch(/STRIPE_API_URL: only for a local stand-in of Stripe's API, never in production/);
    expect(refusal({ ...live, STRIPE_CANCEL_UNCONFIRMED_AFTER_MINUTES: '5' })).toMatch(/STRIPE_CANCEL_UNCONFIRMED_AFTER_MINUTES: must be a whole number of minutes, at least 15/);
  });

  test('without PAYMENT_PROVIDER=stripe, /webhooks/stripe is not there', async () => {
    const sandboxed = await startTestServer();
    const response = await fetch(`${new URL(sandboxed.url).origin}/webhooks/stripe`, { method: 'POST', body: '{}', headers: { 'stripe-signature': 't=1,v1=00' } });
    expect(response.status).toBe(404);
  });

  test('the server logs which mode Stripe runs in', async () => {
    const stripe = await startStripeStandIn();
    const { log, lines } = recordingLogger();
    await startTestServer({ sandbox: false, variables: stripe.environment(), log });
    expect(lines).toContainEqual(expect.objectContaining({ stripe: 'test', msg: 'Stripe in test mode: no real money moves' }));
  });
});
