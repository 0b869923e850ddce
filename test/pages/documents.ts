import { graphql } from '../generated/index.js';

/** The lists a front-end's pages ask for, each with what a page shows under every line. */

/** A live creator's card, as every list of people shows it. */
export const TopCreatorsPage = graphql(`
  query TopCreatorsPage($period: CreatorLeaderboardPeriod!, $first: Int) {
    topCreators(period: $period, first: $first) {
      rank
      coins
      user { id handle displayName currentLiveSession { id title viewerCount } }
    }
  }
`);

export const TopSupportersPage = graphql(`
  query TopSupportersPage($creatorId: ID!, $period: LeaderboardPeriod!, $first: Int) {
    topSupporters(creatorId: $creatorId, period: $period, first: $first) {
      rank
      coins
      user { id handle displayName currentLiveSession { id viewerCount } }
    }
  }
`);

export const TopGiftersPage = graphql(`
  query LiveSessionTopGiftersPage($id: ID!, $first: Int) {
    liveSession(id: $id) {
      id
      topGifters(first: $first) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          gifts
          lastGiftAt
          node { rank coins user { id handle displayName currentLiveSession { id viewerCount } } }
        }
      }
    }
  }
`);

export const RecentGiftsPage = graphql(`
  query LiveSessionRecentGiftsPage($id: ID!, $last: Int) {
    liveSession(id: $id) {
      id
      recentGifts(last: $last) {
        id
        quantity
        coins
        createdAt
        sender { id handle displayName }
        creator { id handle }
        gift { id name imageUrl }
      }
    }
  }
`);

export const WalletHistoryPage = graphql(`
  query WalletHistoryPage($first: Int) {
    wallet {
      coins
      history(first: $first) {
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          node {
            id
            asset
            amount
            kind
            memo
            createdAt
            cashValue { currency amount }
            sentGift {
              id
              quantity
              gift { id name }
              creator { id handle }
              liveSession { id title creator { id handle } }
            }
          }
        }
      }
    }
  }
`);

export const PurchasesPage = graphql(`
  query PurchasesPage($first: Int) {
    purchases(first: $first) {
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id
          status
          coins
          amountMinor
          currency
          createdAt
          bundle { id name prices { region amountMinor currency } }
        }
      }
    }
  }
`);

export const CoinBundlesPage = graphql(`
  query CoinBundlesPage($country: String) {
    coinBundles(country: $country) {
      totalCoins
      price { region amountMinor currency }
      bundle { id name coins bonusCoins retired prices { region amountMinor currency } }
    }
  }
`);

export const GiftCatalogPage = graphql(`
  query GiftCatalogPage($country: String) {
    gifts(country: $country) { id name coins imageUrl animationUrl sortOrder countries }
  }
`);

/** What a client store refetches by id (Relay's `nodes`): people, gifts and live sessions mixed. */
export const NodesPage = graphql(`
  query NodesPage($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename
      id
      ... on User { handle currentLiveSession { id viewerCount } }
      ... on Gift { name coins }
      ... on LiveSession { title viewerCount creator { id handle } }
    }
  }
`);

export const BrandMatchesPage = graphql(`
  query BrandMatchesPage($id: ID!, $first: Int) {
    brand(id: $id) {
      id
      matches(first: $first) {
        edges {
          node {
            id
            coins
            diamonds
            manual
            viewer { id handle }
            sentGift { id coins }
            campaign { id name }
          }
        }
      }
    }
  }
`);
