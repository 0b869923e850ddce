import { graphql } from '../generated/index.js';

/** What a buyer's app sends to buy coins through Stripe, and reads back to confirm the payment. */
export const StripePurchaseCoins = graphql(`
  mutation StripePurchaseCoins($input: PurchaseCoinsInput!) {
    purchaseCoins(input: $input) {
      __typename
      ... on Purchase { id status coins amountMinor currency clientSecret nextAction }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
    }
  }
`);
