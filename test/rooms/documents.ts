import { graphql } from '../generated/index.js';

/** What a live room's page asks for when it opens: the session, its goal, its leaders and its latest gifts. */
export const RoomPage = graphql(`
  query RoomPage($id: ID!, $gifters: Int = 10, $gifts: Int = 50) {
    liveSession(id: $id) {
      id
      title
      status
      startedAt
      totalCoins
      totalDiamonds
      totalCashValue { currency amount }
      giftCount
      uniqueGifters
      lastSequence
      viewerCount
      creator { id handle displayName }
      goal { goalCoins progressCoins reached reachedAt }
      topGifters(first: $gifters) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          gifts
          node {
            rank
            coins
            user { id handle displayName }
          }
        }
      }
      recentGifts(last: $gifts) {
        id
        quantity
        comboId
        coins
        diamonds
        cashValue { currency amount }
        createdAt
        sender { id handle displayName }
        gift { id name coins imageUrl animationUrl }
      }
    }
  }
`);

export const TopGiftersPage = graphql(`
  query TopGiftersPage($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    liveSession(id: $id) {
      topGifters(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
        edges { node { rank coins user { id } } }
      }
    }
  }
`);

export const SessionGoal = graphql(`
  query SessionGoal($id: ID!) {
    liveSession(id: $id) {
      totalCoins
      goal { goalCoins progressCoins reached reachedAt }
    }
  }
`);

export const SetLiveSessionGoal = graphql(`
  mutation SetLiveSessionGoal($input: SetLiveSessionGoalInput!) {
    setLiveSessionGoal(input: $input) {
      __typename
      ... on LiveSession { id goal { goalCoins progressCoins reached reachedAt } }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
    }
  }
`);

export const TopSupporters = graphql(`
  query TopSupporters($creatorId: ID!, $period: LeaderboardPeriod!, $first: Int) {
    topSupporters(creatorId: $creatorId, period: $period, first: $first) {
      rank
      coins
      user { id handle }
    }
  }
`);

export const TopCreators = graphql(`
  query TopCreators($period: CreatorLeaderboardPeriod!, $first: Int) {
    topCreators(period: $period, first: $first) {
      rank
      coins
      user { id handle }
    }
  }
`);
