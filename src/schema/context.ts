import type { Database } from '../db/client.js';
import type { Viewer } from '../domain/viewer.js';
import type { PubSub } from '../events/pubsub.js';

/** What every resolver sees. The edge builds one per HTTP request or graphql-ws operation. */
export type Context = {
  viewer: Viewer | null;
  db: Database;
  pubsub: PubSub;
  issueToken(viewer: Viewer): Promise<string>;
  /** False in production, where development conveniences (demo tokens) are refused. */
  development: boolean;
};
