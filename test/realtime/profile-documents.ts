import { graphql } from '../generated/index.js';

/** The profile documents the real-time tests share: a front-end's live profile view and its save. */

export const UserUpdated = graphql(`
  subscription UserUpdated { userUpdated { id handle displayName country pendingCountry } }
`);

export const UpdateProfile = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      __typename
      ... on User { id displayName }
      ... on Error { code message }
    }
  }
`);
