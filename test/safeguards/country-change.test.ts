import { describe, expect, test } from 'vitest';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { post } from '../support/graphql.js';
import { aged } from '../support/gifting.js';
import { startTestServer } from '../support/server.js';
import { buy, createTestBundle, signedIn } from '../purchases/support.js';

// A country change cannot loosen a safeguard: the new country applies after COUNTRY_COOLING_OFF_HOURS, the
// old one until then, and the stricter age gate of the two holds meanwhile.

const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { __typename ... on User { country pendingCountry countryChangesAt } } }`;

const server = await startTestServer({ variables: { COUNTRY_COOLING_OFF_HOURS: '48' } });
const { db } = server;
const bundle = await createTestBundle(db);

const moveTo = async (user: { token: string }, country: string) =>
  (await post(server.url, UPDATE_PROFILE, { authorization: `Bearer ${user.token}` }, { input: { country } })).data?.updateProfile as {
    country: string;
    pendingCountry: string | null;
    countryChangesAt: string | null;
  };
const endCoolingOff = (userId: string) => db.user.update({ where: { id: userId }, data: { countryChangesAt: new Date(Date.now() - 1000) } });

describe('changing country', () => {
  test('an 18-year-old registered in KR (19) who moves to the US cannot buy until the cooling-off ends', async () => {
    const buyer = await signedIn(db, { birthDate: aged(18), country: 'KR' });
    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 19 });

    const before = Date.now();
    const moved = await moveTo(buyer, 'US');
    expect(moved).toMatchObject({ country: 'KR', pendingCountry: 'US' });
    const wait = new Date(moved.countryChangesAt!).getTime() - before;
    expect(wait).toBeGreaterThanOrEqual(48 * 3600_000 - 1000);
    expect(wait).toBeLessThan(48 * 3600_000 + 60_000);
    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 19 });
    // Asking again does not restart the wait, nor shorten it.
    expect((await moveTo(buyer, 'US')).countryChangesAt).toBe(moved.countryChangesAt);

    await endCoolingOff(buyer.id);
    expect(await moveTo(buyer, 'US')).toMatchObject({ country: 'US', pendingCountry: null, countryChangesAt: null });
    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'Purchase' });
  });

  test('a move to a stricter country holds at once: an 18-year-old in the US moving to KR is refused now', async () => {
    const buyer = await signedIn(db, { birthDate: aged(18), country: 'US' });
    expect(await moveTo(buyer, 'KR')).toMatchObject({ country: 'US', pendingCountry: 'KR' });
    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 19 });
  });

  test('changing back to the country in force cancels the change', async () => {
    const buyer = await signedIn(db, { birthDate: aged(18), country: 'KR' });
    await moveTo(buyer, 'US');
    expect(await moveTo(buyer, 'KR')).toMatchObject({ country: 'KR', pendingCountry: null, countryChangesAt: null });
    const row = await db.user.findUniqueOrThrow({ where: { id: buyer.id } });
    expect(row).toMatchObject({ country: 'KR', pendingCountry: null, countryChangesAt: null });
  });
});
