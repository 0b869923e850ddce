// Shows that the leaderboard and room page queries are index scans at a realistic volume: fills a
// throwaway embedded PostgreSQL, runs the API's own code (domain functions and the room page query
// through the schema) with Prisma's query log on, and prints EXPLAIN (ANALYZE, BUFFERS) of every SQL
// statement that code sent, then a summary of the scans each one used.
// Usage: npm run explain:leaderboards
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { execute, parse } from 'graphql';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { applyMigrations } from '../src/db/migrate.js';
import { createGiftSender } from '../src/domain/gifting.js';
import { topCreators, topSupporters, type LeaderboardPeriod } from '../src/domain/leaderboards.js';
import { setLiveSessionGoal } from '../src/domain/live-sessions.js';
import { createSandboxProvider } from '../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { createAnnouncer } from '../src/events/announcer.js';
import { createPresence } from '../src/events/presence.js';
import { createEventBus } from '../src/events/pubsub.js';
import { createPrismaClient } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import type { Context } from '../src/schema/context.js';
import { schema } from '../src/schema/index.js';

const VOLUME = { creators: 200, fans: 5_000, days: 365, sessionsPerCreator: 10, gifts: 100_000, hotSessionGifts: 20_000, hotSessionGifters: 3_000 };

// Deterministic ids, so the data can refer to rows by number: creator 1 is the biggest, and its last
// session (live now) is the busy room.
const FILL = [
  `INSERT INTO "User" (id, handle, "displayName", "birthDate", country, roles, "updatedAt")
   SELECT md5('creator' || i)::uuid, 'creator_' || i, 'Creator ' || i, '1990-01-01', 'US', '{VIEWER,CREATOR}', now()
   FROM generate_series(1, ${VOLUME.creators}) i`,
  `INSERT INTO "User" (id, handle, "displayName", "birthDate", country, "updatedAt")
   SELECT md5('fan' || i)::uuid, 'fan_' || i, 'Fan ' || i, '1995-06-01', 'US', now() FROM generate_series(1, ${VOLUME.fans}) i`,
  `INSERT INTO "Gift" (id, name, coins, "imageUrl", "sortOrder")
   SELECT md5('gift' || i)::uuid, 'Gift ' || i, (i * i)::bigint, 'https://cdn.example/' || i || '.png', i FROM generate_series(1, 60) i`,
  // Supporters per creator fall off with the creator's rank (about 3,400 for the first, 17 for the last:
  // ~20k creator-supporter pairs); each pair gave on 1-9 days of the last year (~100k supporter-days),
  // amounts heavy-tailed.
  `CREATE TEMP TABLE pairs AS
   SELECT c, md5('creator' || c)::uuid AS creator, md5('fan' || ((c * 37 + k * 53) % ${VOLUME.fans} + 1))::uuid AS fan,
          (c * 7919 + k * 104729) AS seed
   FROM generate_series(1, ${VOLUME.creators}) c, generate_series(0, 3400 / c - 1) k`,
  `INSERT INTO "CreatorSupportDay" ("creatorId", day, "senderId", coins)
   SELECT creator, current_date - ((seed + d * 37) % ${VOLUME.days})::int, fan, floor(exp(random() * 7))::bigint + 1
   FROM pairs, generate_series(0, seed % 9) d`,
  // All-time totals of the ended sessions; the live sessions' are their SessionSupporter rows (below).
  `INSERT INTO "CreatorSupporter" ("creatorId", "senderId", coins)
   SELECT "creatorId", "senderId", sum(coins) FROM "CreatorSupportDay" GROUP BY 1, 2`,
  `INSERT INTO "LiveSession" (id, "creatorId", title, status, "startedAt", "endedAt")
   SELECT md5('session' || c || '-' || j)::uuid, md5('creator' || c)::uuid, 'Session ' || j,
          CASE WHEN j = ${VOLUME.sessionsPerCreator} THEN 'LIVE' ELSE 'ENDED' END::"LiveSessionStatus",
          now() - ((${VOLUME.sessionsPerCreator} - j) || ' days')::interval - interval '1 hour',
          CASE WHEN j = ${VOLUME.sessionsPerCreator} THEN NULL ELSE now() - ((${VOLUME.sessionsPerCreator} - j) || ' days')::interval END
   FROM generate_series(1, ${VOLUME.creators}) c, generate_series(1, ${VOLUME.sessionsPerCreator}) j`,
  // The busy room gets 20k gifts from 3k gifters; the other sessions share the rest.
  `CREATE TEMP TABLE gifts AS
   SELECT g,
          CASE WHEN g <= ${VOLUME.hotSessionGifts} THEN 1 ELSE 2 + g % (${VOLUME.creators * VOLUME.sessionsPerCreator} - 1) END AS n,
          md5('fan' || CASE WHEN g <= ${VOLUME.hotSessionGifts} THEN g % ${VOLUME.hotSessionGifters} ELSE (g * 7919) % ${VOLUME.fans} END + 1)::uuid AS sender,
          md5('gift' || (g % 60 + 1))::uuid AS gift, (g % 60 + 1) * (g % 60 + 1) AS coins
   FROM generate_series(1, ${VOLUME.gifts}) g`,
  `CREATE TEMP TABLE sessions AS
   SELECT row_number() OVER (ORDER BY c, j DESC) AS n, md5('session' || c || '-' || j)::uuid AS id, md5('creator' || c)::uuid AS creator
   FROM generate_series(1, ${VOLUME.creators}) c, generate_series(1, ${VOLUME.sessionsPerCreator}) j`,
  `INSERT INTO "JournalEntry" (id, kind, memo) SELECT md5('entry' || g)::uuid, 'GIFT', 'gift' FROM gifts`,
  `INSERT INTO "SentGift" (id, "liveSessionId", "senderId", "creatorId", "giftId", quantity, coins, diamonds, "entryId", "createdAt")
   SELECT md5('sent' || g)::uuid, s.id, sender, s.creator, gift, 1, coins, coins, md5('entry' || g)::uuid, now() - interval '1 hour' + g * interval '10 ms'
   FROM gifts JOIN sessions s USING (n)`,
  `INSERT INTO "RoomEvent" ("liveSessionId", sequence, "sentGiftId", payload)
   SELECT "liveSessionId", row_number() OVER (PARTITION BY "liveSessionId" ORDER BY "createdAt", id), id, '{}' FROM "SentGift"`,
  `INSERT INTO "SessionSupporter" ("liveSessionId", "senderId", coins, gifts, "lastGiftAt")
   SELECT "liveSessionId", "senderId", sum(coins), count(*), max("createdAt") FROM "SentGift" GROUP BY 1, 2`,
  `UPDATE "LiveSession" s SET "totalCoins" = t.coins, "totalDiamonds" = t.coins, "giftCount" = t.n, "lastSequence" = t.n, "uniqueGifters" = t.gifters
   FROM (SELECT "liveSessionId", sum(coins) AS coins, count(*) AS n, count(DISTINCT "senderId") AS gifters FROM "SentGift" GROUP BY 1) t
   WHERE s.id = t."liveSessionId"`,
  // Three server instances, each with viewers in every live room.
  `INSERT INTO "RoomPresence" ("liveSessionId", "instanceId", accounts, addresses, "addressSubscriptions", "updatedAt")
   SELECT id, 'instance-' || i, ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10 + i)), '{}', '{}', now()
   FROM "LiveSession", generate_series(1, 3) i WHERE status = 'LIVE'`,
  'ANALYZE',
];

type Statement = { query: string; params: unknown[] };

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-explain-'));
const cluster = await startEmbeddedPostgres({ dataDir, ephemeral: true });
const client = new pg.Client({ connectionString: cluster.url });
const log = createLogger('silent');
const pubsub = createEventBus(undefined, log);
const statements: Statement[] = [];
const db = createPrismaClient(cluster.url, 10, {
  onQuery: (event) => statements.push({ query: event.query, params: JSON.parse(event.params) as unknown[] }),
});
const announcer = createAnnouncer(pubsub);
const presence = createPresence(db, announcer, log);
try {
  await applyMigrations(cluster.url);
  await client.connect();
  let started = Date.now();
  for (const sql of FILL) await client.query(sql);
  const counts = await client.query<Record<string, string>>(`
    SELECT (SELECT count(*) FROM "User") AS users, (SELECT count(*) FROM "CreatorSupporter") AS "creatorSupporters",
           (SELECT count(*) FROM "CreatorSupportDay") AS "supporterDays", (SELECT count(*) FROM "LiveSession") AS sessions,
           (SELECT count(*) FROM "SentGift") AS gifts, (SELECT count(*) FROM "SessionSupporter") AS "sessionSupporters"`);
  console.log(`Filled in ${Date.now() - started} ms: ${Object.entries(counts.rows[0]!).map(([table, n]) => `${n} ${table}`).join(', ')}\n`);

  const context: Context = {
    db,
    pubsub,
    announcer,
    presence,
    policy: DEFAULT_POLICY,
    gifts: createGiftSender(db, announcer, DEFAULT_POLICY),
    payments: createSandboxProvider('unused-webhook-secret-0123456789'),
    payouts: { db: db, policy: DEFAULT_POLICY, provider: null, announce: announcer, log },
    issueToken: async () => 'unused',
    development: false,
    webhookAddresses: { allowPrivate: false },
    viewer: null,
  };
  const id = (sql: string) => client.query<{ id: string }>(sql).then((result) => result.rows[0]!.id);
  const hotCreator = await id(`SELECT md5('creator1')::uuid AS id`);
  const hotSession = await id(`SELECT id FROM "LiveSession" WHERE "creatorId" = md5('creator1')::uuid AND status = 'LIVE'`);

  const roomPage = parse(`
    query RoomPage($id: ID!, $first: Int = 10, $after: String, $last: Int) {
      liveSession(id: $id) {
        id title totalCoins totalDiamonds totalCashValue { amount } giftCount uniqueGifters lastSequence viewerCount
        creator { handle displayName }
        goal { goalCoins progressCoins reached }
        topGifters(first: $first, after: $after, last: $last) { totalCount pageInfo { endCursor } edges { gifts node { rank coins user { handle displayName } } } }
        recentGifts(last: 50) { id coins createdAt sender { handle displayName } gift { name imageUrl } }
      }
    }`);
  const openRoom = async (page: { after?: string; first?: number; last?: number } = {}) => {
    const variableValues = { id: encodeGlobalID('LiveSession', hotSession), ...page };
    const result = await execute({ schema, document: roomPage, variableValues, contextValue: context });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as { liveSession: { topGifters: { pageInfo: { endCursor: string } } } };
  };

  const runs: { label: string; run: () => Promise<unknown> }[] = [
    ...(['DAY', 'WEEK', 'MONTH', 'ALL_TIME'] as LeaderboardPeriod[]).map((period) => ({
      label: `topSupporters(${period}) of the biggest creator`,
      run: () => topSupporters(db, hotCreator, period, 10),
    })),
    { label: 'topCreators(DAY)', run: () => topCreators(db, 'DAY', 10) },
    { label: 'topCreators(WEEK)', run: () => topCreators(db, 'WEEK', 10) },
    { label: 'room page of the busiest session', run: () => openRoom() },
    {
      label: 'room page, topGifters page after rank 100',
      run: async () => {
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) cursor = (await openRoom({ after: cursor })).liveSession.topGifters.pageInfo.endCursor;
        statements.length = 0;
        await openRoom({ after: cursor });
      },
    },
    { label: 'room page, topGifters bottom (last: 10)', run: () => openRoom({ first: undefined, last: 10 }) },
    { label: 'setLiveSessionGoal', run: () => setLiveSessionGoal(db, announcer, hotCreator, hotSession, { goalCoins: 10n ** 11n }) },
  ];

  const summary: string[] = [];
  for (const { label, run } of runs) {
    statements.length = 0;
    await run();
    // A transaction's own BEGIN and COMMIT (setLiveSessionGoal's) have no plan.
    const ran = statements.filter((statement) => !/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(statement.query));
    console.log(`${'='.repeat(100)}\n${label}: ${ran.length} statement${ran.length === 1 ? '' : 's'}\n`);
    for (const statement of ran) {
      // ANALYZE runs the statement: inside a transaction rolled back, so an UPDATE changes nothing.
      await client.query('BEGIN');
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.query}`, statement.params);
      await client.query('ROLLBACK');
      const lines = plan.rows.map((row) => row['QUERY PLAN']);
      console.log(`${abbreviate(statement.query)}\n${lines.map((line) => `    ${line}`).join('\n')}\n`);
      summary.push(`${label.padEnd(48)} ${abbreviate(statement.query, 60).padEnd(62)} ${scans(lines).padEnd(80)} ${lines.find((line) => line.startsWith('Execution Time'))?.replace('Execution Time: ', '')}`);
    }
  }
  console.log(`${'='.repeat(100)}\nSummary: query | statement | scans (rows read by each scan node) | execution time\n`);
  for (const line of summary) console.log(line);
  const seqScans = summary.filter((line) => line.includes('Seq Scan'));
  console.log(`\n${seqScans.length === 0 ? 'No sequential scans.' : `${seqScans.length} statement(s) with a sequential scan (see above).`}`);
} finally {
  await presence.close();
  await db.$disconnect();
  await client.end().catch(() => {});
  await cluster.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}

/** A statement's gist: what it reads, whitespace collapsed, Prisma's schema prefixes dropped. */
function abbreviate(sql: string, max = 220): string {
  const text = sql.replaceAll('"public".', '').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** The scan nodes of a plan, e.g. "Index Scan using X on T (12 rows)". */
function scans(lines: string[]): string {
  const found: string[] = [];
  for (const line of lines) {
    const match = /(Seq Scan|Index Only Scan Backward|Index Only Scan|Index Scan Backward|Index Scan|Bitmap Index Scan|Bitmap Heap Scan) (?:using (\S+) )?on (\S+).*actual time=\S+ rows=(\d+)/.exec(line);
    if (match) found.push(`${match[1]}${match[2] ? ` ${match[2]}` : ''}${match[1] === 'Bitmap Index Scan' ? ` ${match[3]}` : ` on ${match[3]}`} (${match[4]})`);
  }
  return found.join(', ') || '-';
}
