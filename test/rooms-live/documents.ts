import { graphql } from '../generated/index.js';

/** What a live-room client sends: the room's stream, the wallet's, a gift, and the creator's end of the session. */

export const RoomEvents = graphql(`
  subscription RoomEvents($liveSessionId: ID!, $after: Int) {
    liveSessionEvents(liveSessionId: $liveSessionId, after: $after) {
      __typename
      sequence
      ... on GiftSentEvent {
        sentGiftId
        sender { userId handle displayName }
        gift { giftId name imageUrl animationUrl }
        quantity
        comboId
        coins
        diamonds
        cashValue { currency amount }
        sentAt
      }
      ... on LeaderboardChangedEvent { top { rank user { userId handle } coins } }
      ... on GoalProgressEvent { goalCoins progressCoins reached }
      ... on ViewerCountChangedEvent { viewers }
    }
  }
`);

export const WalletUpdates = graphql(`
  subscription WalletUpdates { walletUpdated { coins diamonds diamondsCashValue { currency amount } } }
`);

export const SendRoomGift = graphql(`
  mutation SendRoomGift($input: SendGiftInput!) {
    sendGift(input: $input) {
      __typename
      ... on SentGift { id quantity comboId coins diamonds cashValue { currency amount } }
      ... on Error { code message }
    }
  }
`);

export const EndRoomSession = graphql(`
  mutation EndRoomSession($input: EndLiveSessionInput!) {
    endLiveSession(input: $input) {
      __typename
      ... on LiveSession { id status }
      ... on Error { code message }
    }
  }
`);

export const RoomSetGoal = graphql(`
  mutation RoomSetGoal($input: SetLiveSessionGoalInput!) {
    setLiveSessionGoal(input: $input) {
      __typename
    }
  }
`);
