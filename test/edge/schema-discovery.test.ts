import { getIntrospectionQuery } from 'graphql';
import { describe, expect, test } from 'vitest';
import { post } from '../support/graphql.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';

// Introspection, and the "Did you mean ...?" that graphql-js adds to an error about a misspelled name,
// each spell out the schema to anyone who asks. In production both are off unless GRAPHQL_INTROSPECTION
// turns them on; in development (GraphiQL) and tests they are on.

const production = await startTestServer({ env: 'production' });
const opened = await startTestServer({ env: 'production', database: production.database, variables: { GRAPHQL_INTROSPECTION: 'true' } });
const development = await startTestServer({ env: 'development', database: production.database });

const query = (url: string, document: string, variables?: Record<string, unknown>) =>
  post(url, document, { accept: 'application/graphql-response+json' }, variables);

const Introspection = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true });
const Misspelled: [string, string, Record<string, unknown> | undefined, string][] = [
  ['a field', '{ gifts { naem } }', undefined, 'Cannot query field "naem" on type "Gift".'],
  ['an argument', '{ gifts(contry: "US") { name } }', undefined, 'Unknown argument "contry" on field "Query.gifts".'],
  ['an enum value', '{ topCreators(period: WEAK) { rank } }', undefined, 'Value "WEAK" does not exist in "CreatorLeaderboardPeriod" enum.'],
  ['a type', 'query ($id: Id!) { liveSession(id: $id) { id } }', { id: 'x' }, 'Unknown type "Id".'],
  [
    'an input field in the variables',
    'mutation ($input: SendGiftInput!) { sendGift(input: $input) { __typename } }',
    { input: { liveSessionId: 'x', giftId: 'y', idempotencyKey: 'key-12345', comboid: 'streak' } },
    'Variable "$input" got invalid value { liveSessionId: "x", giftId: "y", idempotencyKey: "key-12345", comboid: "streak" }; Field "comboid" is not defined by type "SendGiftInput".',
  ],
];

describe('in production', () => {
  test('the introspection query is refused as an invalid document', async () => {
    const reply = await query(production.url, Introspection);
    expect(reply.status).toBe(400);
    expect(reply.data).toBeUndefined();
    // One error for each field that introspects, the first for __schema.
    expect(reply.errors?.[0]).toMatchObject({
      message: 'GraphQL introspection has been disabled, but the requested query contained the field "__schema".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    for (const error of reply.errors!) expect(error.message).toMatch(/^GraphQL introspection has been disabled, but the requested query contained the field "\w+"\.$/);
    expect((await query(production.url, '{ __type(name: "Gift") { name } }')).errors).toEqual([
      expect.objectContaining({ message: 'GraphQL introspection has been disabled, but the requested query contained the field "__type".' }),
    ]);
  });

  test('__typename, which every client asks for, is answered', async () => {
    expect(await query(production.url, '{ __typename exchangeRates { __typename } }')).toMatchObject({ data: { __typename: 'Query', exchangeRates: { __typename: 'ExchangeRates' } } });
  });

  test.each(Misspelled)('a misspelled name (%s) is refused without a suggestion', async (_case, document, variables, message) => {
    const reply = await query(production.url, document, variables);
    expect(reply.errors?.map((error) => error.message)).toEqual([message]);
  });

  test('over graphql-ws alike', async () => {
    const client = openSocket(production.url, bearer(await tokenFor(await createUser(production.db))));
    await client.connected;
    expect((await subscribe(client, 'subscription { userUpdated { handel } }').ended).error).toEqual([
      expect.objectContaining({ message: 'Cannot query field "handel" on type "User".' }),
    ]);
    expect((await subscribe(client, '{ __type(name: "Gift") { name } }').ended).error).toEqual([
      expect.objectContaining({ message: 'GraphQL introspection has been disabled, but the requested query contained the field "__type".' }),
    ]);
  });
});

describe('with GRAPHQL_INTROSPECTION=true in production, and in development', () => {
  test.each([['production with GRAPHQL_INTROSPECTION=true', opened], ['development', development]])('%s: introspection is answered and names are suggested', async (_case, server) => {
    expect((await query(server.url, Introspection)).errors).toBeUndefined();
    expect((await query(server.url, '{ gifts { naem } }')).errors?.map((error) => error.message)).toEqual([
      'Cannot query field "naem" on type "Gift". Did you mean "name"?',
    ]);
  });
});
