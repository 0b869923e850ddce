import { graphql } from '../generated/index.js';

/** What a creator's app and an operator's console send about payouts. */

export const PayoutFields = graphql(`
  fragment PayoutFields on Payout {
    id
    status
    nextStatuses
    diamonds
    amountMinor
    feeMinor
    netMinor
    currency
    reason
    approvalsNeeded
    awaitingSecondApproval
    submittedAt
    method { id display }
    holds { reason placedBySystem note }
    history { kind fromStatus status holdReason actor actorId providerEventId note at }
  }
`);

export const AddPayoutMethod = graphql(`
  mutation AddPayoutMethod($input: AddPayoutMethodInput!) {
    addPayoutMethod(input: $input) {
      __typename
      ... on PayoutMethod { id kind display holderName verified usable usableFrom createdAt }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
    }
  }
`);

export const RemovePayoutMethod = graphql(`
  mutation RemovePayoutMethod($input: RemovePayoutMethodInput!) {
    removePayoutMethod(input: $input) {
      __typename
      ... on PayoutMethod { id removedAt usable }
      ... on Error { code message }
    }
  }
`);

export const VerifyPayoutMethod = graphql(`
  mutation VerifyPayoutMethod($input: VerifyPayoutMethodInput!) {
    verifyPayoutMethod(input: $input) {
      __typename
      ... on PayoutMethod { id verified verifiedAt usable usableFrom }
      ... on Error { code message }
    }
  }
`);

export const PayoutMethods = graphql(`
  query PayoutMethods {
    payoutMethods { id kind display holderName verified usable usableFrom }
  }
`);

export const PayoutQuote = graphql(`
  query PayoutQuote($diamonds: BigInt!, $methodId: ID!) {
    payoutQuote(diamonds: $diamonds, methodId: $methodId) {
      __typename
      ... on PayoutQuote {
        askedDiamonds
        diamonds
        keptDiamonds
        amountMinor
        feeMinor
        netMinor
        currency
        approvalsNeeded
        method { id display }
        refusals {
          __typename
          code
          message
          ... on PayoutMethodLockedError { usableFrom }
          ... on PayoutDailyCapError { capMinor remainingMinor }
          ... on InsufficientDiamondsError { neededDiamonds availableDiamonds }
          ... on PayoutBelowMinimumError { minimumDiamonds }
        }
      }
      ... on Error { code message }
    }
  }
`);

export const RequestPayout = graphql(`
  mutation RequestPayout($input: RequestPayoutInput!) {
    requestPayout(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
      ... on PayoutMethodLockedError { usableFrom }
      ... on PayoutDailyCapError { capMinor remainingMinor }
      ... on InsufficientDiamondsError { neededDiamonds availableDiamonds }
      ... on PayoutBelowMinimumError { minimumDiamonds }
      ... on AgeRestrictedError { minimumAge }
      ... on AccountRestrictedError { restriction }
    }
  }
`);

export const CancelPayout = graphql(`
  mutation CancelPayout($input: CancelPayoutInput!) {
    cancelPayout(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
      ... on PayoutTransitionError { status attempted }
    }
  }
`);

export const ApprovePayout = graphql(`
  mutation ApprovePayout($input: ApprovePayoutInput!) {
    approvePayout(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
      ... on PayoutTransitionError { status attempted }
      ... on PayoutOnHoldError { holdReasons }
    }
  }
`);

export const RejectPayout = graphql(`
  mutation RejectPayout($input: RejectPayoutInput!) {
    rejectPayout(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
      ... on PayoutTransitionError { status attempted }
    }
  }
`);

export const MarkPayoutFailed = graphql(`
  mutation MarkPayoutFailed($input: MarkPayoutFailedInput!) {
    markPayoutFailed(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
      ... on PayoutTransitionError { status attempted }
    }
  }
`);

export const PlacePayoutHold = graphql(`
  mutation PlacePayoutHold($input: PlacePayoutHoldInput!) {
    placePayoutHold(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
    }
  }
`);

export const ReleasePayoutHold = graphql(`
  mutation ReleasePayoutHold($input: ReleasePayoutHoldInput!) {
    releasePayoutHold(input: $input) {
      __typename
      ... on Payout { ...PayoutFields }
      ... on Error { code message }
    }
  }
`);

export const MyPayouts = graphql(`
  query MyPayouts($first: Int, $after: String) {
    payouts(first: $first, after: $after) {
      edges { cursor node { ...PayoutFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const PayoutNode = graphql(`
  query PayoutNode($id: ID!) {
    node(id: $id) { __typename id ... on Payout { ...PayoutFields } }
  }
`);

export const ReviewQueue = graphql(`
  query ReviewQueue($filter: PayoutQueueFilter, $first: Int, $after: String) {
    payoutReviewQueue(filter: $filter, first: $first, after: $after) {
      edges { node { id status amountMinor createdAt creator { id handle } holds { reason } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const Earnings = graphql(`
  query Earnings($interval: EarningsInterval!, $periods: Int, $after: String, $sessions: Int) {
    earnings {
      available { diamonds cashValue { amount currency } }
      held { diamonds cashValue { amount currency } }
      lifetimeEarned { diamonds cashValue { amount currency } }
      lifetimePaidOut { diamonds cashValue { amount currency } }
      byPeriod(interval: $interval, first: $periods, after: $after) {
        edges { cursor node { interval startsOn endsBefore diamonds cashValue { amount currency } gifts } }
        pageInfo { hasNextPage endCursor }
      }
      byLiveSession(first: $sessions) {
        edges { node { id title startedAt totalDiamonds totalCashValue { amount currency } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const PayoutRulesQuery = graphql(`
  query PayoutRules {
    payoutRules {
      currency
      usdCentsPerDiamond { numerator denominator }
      minimumDiamonds
      dailyCapMinor
      feeMinor
      autoApproveMaxMinor
      secondApprovalAboveMinor
      methodCoolingOffHours
    }
  }
`);

export const PayoutsWallet = graphql(`
  query PayoutsWallet {
    wallet { diamonds }
  }
`);

export const PayoutUpdated = graphql(`
  subscription PayoutUpdated {
    payoutUpdated { id status holds { reason } }
  }
`);

export const PayoutsWalletUpdated = graphql(`
  subscription PayoutsWalletUpdated {
    walletUpdated { diamonds }
  }
`);

export const PayoutsLedgerAudit = graphql(`
  query PayoutsLedgerAudit {
    ledgerAudit { clean violations { invariant detail } }
  }
`);

export const PayoutsRestrictAccount = graphql(`
  mutation PayoutsRestrictAccount($input: RestrictAccountInput!) {
    restrictAccount(input: $input) {
      __typename
      ... on Error { code message }
    }
  }
`);

export const PayoutsLiftRestriction = graphql(`
  mutation PayoutsLiftRestriction($input: LiftRestrictionInput!) {
    liftRestriction(input: $input) {
      __typename
      ... on Error { code message }
    }
  }
`);

/** The creator's earnings page: the summary, the last 30 days, recent sessions and payouts. */
export const EarningsPage = graphql(`
  query EarningsPage {
    earnings {
      available { diamonds cashValue { amount } }
      held { diamonds cashValue { amount } }
      lifetimeEarned { diamonds cashValue { amount } }
      lifetimePaidOut { diamonds cashValue { amount } }
      byPeriod(interval: DAY, first: 30) { edges { node { startsOn diamonds cashValue { amount } gifts } } pageInfo { hasNextPage } }
      byLiveSession(first: 10) { edges { node { id title totalDiamonds totalCashValue { amount } } } }
    }
    payouts(first: 10) {
      edges { node { id status diamonds amountMinor netMinor method { display verified } holds { reason } history { status actor } } }
    }
  }
`);
