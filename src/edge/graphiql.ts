import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * The development GraphiQL: served from the server's own dependencies (@graphql-yoga/render-graphiql
 * inlines GraphiQL's script and styles), so it works with no internet, with the README's example
 * operations open in tabs (test/edge/graphiql.test.ts checks they match the README's).
 */
export const EXAMPLE_TABS = [
  {
    query: `# Your profile, wallet, the gift catalog and the rates. Sign in first: TOKEN=$(npm run -s token -- ada),
# then Headers: { "authorization": "Bearer <token>" }
{ me { handle } wallet { coins diamonds } gifts { id name coins } exchangeRates { diamondsPerCoin { numerator denominator } usdCentsPerDiamond { numerator denominator } } }
`,
  },
  {
    query: `mutation {
  sendGift(input: { liveSessionId: "...", giftId: "...", quantity: 5, idempotencyKey: "my-first-gift-1" }) {
    __typename
    ... on SentGift { coins diamonds cashValue { amount currency } }
    ... on Error { code message }
  }
}
`,
  },
  {
    query: `subscription {
  liveSessionEvents(liveSessionId: "...", after: 0) {
    __typename
    sequence
    ... on GiftSentEvent { sender { handle } gift { name } quantity comboId coins diamonds cashValue { amount } }
    ... on LeaderboardChangedEvent { top { rank user { handle } coins } }
    ... on GoalProgressEvent { goalCoins progressCoins reached }
    ... on ViewerCountChangedEvent { viewers }
  }
}
`,
  },
];

export const GRAPHIQL_OPTIONS: GraphiQLOptions = { subscriptionsProtocol: 'WS', title: 'Ovation', defaultTabs: EXAMPLE_TABS };

/** Loaded on the first visit only: the page is several megabytes, and production never serves it. */
export const renderOfflineGraphiQL = async (options: GraphiQLOptions): Promise<string> => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options);
