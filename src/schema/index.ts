import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './users.js';
import './gifting.js';
import './wallet.js';
import './purchases.js';
import './admin.js';
import './rooms.js';
import './live-sessions.js';
import './leaderboards.js';
import './nodes.js';
import './payouts.js';
import './brands.js';
import './brand-webhooks.js';
import './campaigns.js';
import './overlays.js';

/** The whole API, sorted so the printed schema.graphql is stable. */
export const schema = lexicographicSortSchema(builder.toSchema());
