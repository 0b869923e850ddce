import { graphql } from '../generated/index.js';

/** What a creator's settings page and an overlay send. */

export const CreateOverlayToken = graphql(`
  mutation CreateOverlayToken($input: CreateOverlayTokenInput!) {
    createOverlayToken(input: $input) {
      __typename
      ... on CreatedOverlayToken { secret overlayToken { id label createdAt revokedAt } }
      ... on Error { code message }
    }
  }
`);

export const RevokeOverlayToken = graphql(`
  mutation RevokeOverlayToken($input: RevokeOverlayTokenInput!) {
    revokeOverlayToken(input: $input) {
      __typename
      ... on OverlayToken { id revokedAt }
      ... on Error { code message }
    }
  }
`);

export const MyOverlayTokens = graphql(`
  query MyOverlayTokens { overlayTokens { id label revokedAt } }
`);

export const OverlayEvents = graphql(`
  subscription OverlayEvents($overlayToken: String!, $liveSessionId: ID, $after: Int, $streakQuietMs: Int) {
    overlayEvents(overlayToken: $overlayToken, liveSessionId: $liveSessionId, after: $after, streakQuietMs: $streakQuietMs) {
      __typename
      liveSessionId
      sequence
      ... on StreakStartedEvent { streak { streakId comboId count coins firstSequence lastSequence sender { handle displayName } gift { name } } }
      ... on StreakGrewEvent { streak { streakId comboId count coins lastSequence } }
      ... on StreakEndedEvent { streak { streakId comboId count coins } }
      ... on OverlayStateEvent { viewers goal { goalCoins progressCoins reached } top { rank coins user { handle } } }
      ... on OverlayGoalEvent { goalCoins progressCoins reached }
      ... on OverlayTopGiftersEvent { top { rank coins user { handle } } }
      ... on OverlayViewersEvent { viewers }
      ... on OverlayMatchEvent { matchId coins manual brand { name } sender { handle } gift { name } }
    }
  }
`);
