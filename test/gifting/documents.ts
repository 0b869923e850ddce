import { graphql } from '../generated/index.js';

/** The gifting and safeguard documents a front-end would send, shared by test/gifting and test/safeguards. */

export const SendGift = graphql(`
  mutation SendGift($input: SendGiftInput!) {
    sendGift(input: $input) {
      __typename
      ... on SentGift {
        id
        quantity
        comboId
        coins
        diamonds
        cashValue { currency amount }
        gift { id name }
        sender { id }
        creator { id }
        liveSession { id }
      }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
      ... on InsufficientCoinsError { neededCoins balanceCoins }
      ... on OutstandingDebtError { debtCoins }
      ... on SpendingLimitError { limit limitCoins remainingCoins }
      ... on AgeRestrictedError { minimumAge }
      ... on AccountRestrictedError { restriction }
    }
  }
`);

export const StartLiveSession = graphql(`
  mutation StartLiveSession($input: StartLiveSessionInput!) {
    startLiveSession(input: $input) {
      __typename
      ... on LiveSession { id status title }
      ... on Error { code message }
      ... on AgeRestrictedError { minimumAge }
    }
  }
`);

export const EndLiveSession = graphql(`
  mutation EndLiveSession($input: EndLiveSessionInput!) {
    endLiveSession(input: $input) {
      __typename
      ... on LiveSession { id status endedAt }
      ... on Error { code message }
    }
  }
`);

export const RetireGift = graphql(`
  mutation RetireGift($giftId: ID!) {
    updateGift(input: { giftId: $giftId, active: false }) {
      __typename
      ... on Gift { id active }
      ... on Error { code message }
    }
  }
`);

export const RestrictAccount = graphql(`
  mutation RestrictAccount($input: RestrictAccountInput!) {
    restrictAccount(input: $input) {
      __typename
      ... on User { id handle }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
    }
  }
`);

export const LiftRestriction = graphql(`
  mutation LiftRestriction($input: LiftRestrictionInput!) {
    liftRestriction(input: $input) {
      __typename
      ... on User { id handle }
      ... on Error { code message }
    }
  }
`);

export const SetDailySpendingLimit = graphql(`
  mutation SetDailySpendingLimit($input: SetDailySpendingLimitInput!) {
    setDailySpendingLimit(input: $input) {
      __typename
      ... on SpendingLimits { dailyLimitCoins pendingDailyLimitCoins pendingFrom spentTodayCoins }
      ... on Error { code message }
    }
  }
`);

export const GiftingWallet = graphql(`
  query GiftingWallet($first: Int, $after: String) {
    wallet {
      coins
      diamonds
      diamondsCashValue { currency amount }
      debtCoins
      limits { dailyLimitCoins pendingDailyLimitCoins spentTodayCoins platformDailyCapCoins platformWeeklyCapCoins }
      history(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            asset
            amount
            kind
            memo
            cashValue { currency amount }
            sentGift { id coins diamonds quantity }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const PublishedExchangeRates = graphql(`
  query PublishedExchangeRates {
    exchangeRates {
      diamondsPerCoin { numerator denominator }
      usdCentsPerDiamond { numerator denominator }
    }
  }
`);
