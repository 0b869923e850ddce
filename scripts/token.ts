// Prints a bearer token for an existing user (a demo account) from a running development server.
// Usage: npm run token -- <handle>      e.g.  TOKEN=$(npm run -s token -- ada)
// Asks the server at OVATION_URL (default http://localhost:$PORT/graphql, PORT 4000) through `devToken`.
import { DEMO_USERS } from '../prisma/seed.js';

const DevToken = `
  mutation DevToken($input: DevTokenInput!) {
    devToken(input: $input) {
      __typename
      ... on AuthToken { token user { handle roles } }
      ... on Error { message }
    }
  }`;

type DevTokenResult =
  | { __typename: 'AuthToken'; token: string; user: { handle: string; roles: string[] } }
  | { __typename: 'ForbiddenError'; message: string }
  | { __typename: 'NotFoundError'; message: string };

const demoHandles = DEMO_USERS.map((user) => user.handle).join(', ');

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const handle = process.argv[2]?.replace(/^@/, '');
if (!handle) fail(`Usage: npm run token -- <handle>\nDemo handles: ${demoHandles}`);

const url = process.env.OVATION_URL ?? `http://localhost:${process.env.PORT || 4000}/graphql`;

let response: Response;
try {
  response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: DevToken, variables: { input: { handle } } }),
    signal: AbortSignal.timeout(10_000),
  });
} catch (error) {
  const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  fail(`No Ovation server answers at ${url} (${reason}).\nStart one with \`npm run dev\`, or set OVATION_URL.`);
}

const body = (await response.json().catch(() => undefined)) as { data?: { devToken?: DevTokenResult } | null; errors?: { message: string }[] } | undefined;
const result = body?.data?.devToken;
if (!result) {
  const reasons = body?.errors?.map((error) => error.message).join('; ') ?? `HTTP ${response.status}`;
  fail(`${url} did not answer as an Ovation server: ${reasons}`);
}
if (result.__typename === 'NotFoundError') fail(`No user @${handle} on ${url}. Demo handles: ${demoHandles}`);
if (result.__typename === 'ForbiddenError') fail(`${url} refused: ${result.message}.`);

console.error(`Token for @${result.user.handle} (${result.user.roles.join(', ')}); send it as "Authorization: Bearer <token>".`);
console.log(result.token);
