import { graphql } from '../generated/index.js';

/** What a front-end (and an operator's console) sends about coins: price sheets, buying, history, the audit. */

export const PurchaseCoins = graphql(`
  mutation PurchaseCoins($input: PurchaseCoinsInput!) {
    purchaseCoins(input: $input) {
      __typename
      ... on Purchase { id status coins amountMinor currency createdAt bundle { id name } }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
      ... on AgeRestrictedError { minimumAge }
      ... on AccountRestrictedError { restriction }
    }
  }
`);

export const CoinBundles = graphql(`
  query CoinBundles($country: String) {
    coinBundles(country: $country) {
      bundle { id name coins bonusCoins retired }
      totalCoins
      price { region amountMinor currency }
    }
  }
`);

export const CreateCoinBundle = graphql(`
  mutation CreateCoinBundle($input: CreateCoinBundleInput!) {
    createCoinBundle(input: $input) {
      __typename
      ... on CoinBundle { id name coins bonusCoins sortOrder retired prices { region amountMinor currency } }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
    }
  }
`);

export const RepriceCoinBundle = graphql(`
  mutation RepriceCoinBundle($input: RepriceCoinBundleInput!) {
    repriceCoinBundle(input: $input) {
      __typename
      ... on CoinBundle { id prices { region amountMinor currency } }
      ... on Error { code message }
    }
  }
`);

export const RetireCoinBundle = graphql(`
  mutation RetireCoinBundle($input: RetireCoinBundleInput!) {
    retireCoinBundle(input: $input) {
      __typename
      ... on CoinBundle { id retired }
      ... on Error { code message }
    }
  }
`);

export const MyPurchases = graphql(`
  query MyPurchases($first: Int, $after: String) {
    purchases(first: $first, after: $after) {
      edges { cursor node { id status coins amountMinor currency createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const PurchaseNode = graphql(`
  query PurchaseNode($id: ID!) {
    node(id: $id) { __typename id ... on Purchase { status coins amountMinor currency } }
  }
`);

export const PurchasesWallet = graphql(`
  query PurchasesWallet {
    wallet { coins debtCoins }
  }
`);

export const PurchasesSendGift = graphql(`
  mutation PurchasesSendGift($input: SendGiftInput!) {
    sendGift(input: $input) {
      __typename
      ... on SentGift { id coins diamonds }
      ... on Error { code message }
      ... on OutstandingDebtError { debtCoins }
      ... on InsufficientCoinsError { neededCoins balanceCoins }
    }
  }
`);

export const PurchasesRestrictAccount = graphql(`
  mutation PurchasesRestrictAccount($input: RestrictAccountInput!) {
    restrictAccount(input: $input) {
      __typename
      ... on User { id }
      ... on Error { code message }
    }
  }
`);

export const PurchasesLedgerAudit = graphql(`
  query PurchasesLedgerAudit {
    ledgerAudit { clean violations { invariant detail } }
  }
`);
