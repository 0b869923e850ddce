import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { applyMigrations, MIGRATIONS_DIR, migrationNames } from '../../src/db/migrate.js';
import { withDatabase } from '../setup/postgres.js';
import { adminQuery } from '../support/database.js';

// Until migration gift_path_writes_less each gift added its coins to the creator's all-time supporter
// totals (CreatorSupporter); from then on those hold only ended sessions, and a live session's totals are
// read from SessionSupporter. So the migration takes each live session's coins back out of them.

const MIGRATION = '20261206000540_gift_path_writes_less';
const serverUrl = inject('postgresUrl');

/** A new database migrated up to, not including, `migration`; dropped when the file is done. */
async function databaseBefore(migration: string): Promise<string> {
  const name = `ovation_supporters_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE template0`);
  afterAll(() => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  // Copies, not symlinks: migrationNames lists directories only.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-migrations-'));
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.copyFile(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), path.join(dir, 'migration_lock.toml'));
  for (const earlier of (await migrationNames()).filter((name) => name < migration)) {
    await fs.cp(path.join(MIGRATIONS_DIR, earlier), path.join(dir, earlier), { recursive: true });
  }

  const url = withDatabase(serverUrl, name);
  await applyMigrations(url, dir);
  return url;
}

const url = await databaseBefore(MIGRATION);

const handles = ['ava', 'ben', 'loyal', 'newcomer', 'regular'] as const;
const user = Object.fromEntries(handles.map((handle) => [handle, randomUUID()])) as Record<(typeof handles)[number], string>;
const session = { avaEnded: randomUUID(), avaLive: randomUUID(), benEnded: randomUUID() };

/** Each supporter's all-time totals per creator, by handle. */
function creatorSupporters() {
  return adminQuery(url, `
    SELECT creator.handle AS creator, supporter.handle AS supporter, c.coins::int AS coins
    FROM "CreatorSupporter" c JOIN "User" creator ON creator.id = c."creatorId" JOIN "User" supporter ON supporter.id = c."senderId"
    ORDER BY 1, 2`);
}

describe(`migration ${MIGRATION}`, () => {
  test("leaves a creator's all-time supporter totals with only their ended sessions' coins", async () => {
    for (const handle of handles) {
      await adminQuery(url, `INSERT INTO "User" (id, handle, "displayName", "birthDate", country, "updatedAt") VALUES ($1, $2, $2, '1990-01-01', 'US', now())`, [
        user[handle],
        handle,
      ]);
    }
    for (const [id, creatorId, status] of [
      [session.avaEnded, user.ava, 'ENDED'],
      [session.avaLive, user.ava, 'LIVE'],
      [session.benEnded, user.ben, 'ENDED'],
    ]) {
      await adminQuery(url, `INSERT INTO "LiveSession" (id, "creatorId", title, status) VALUES ($1, $2, 'Live', $3)`, [id, creatorId, status]);
    }
    // loyal gave only before Ava's live session, newcomer only in it, regular in both; newcomer also in Ben's.
    for (const [liveSessionId, senderId, coins] of [
      [session.avaEnded, user.loyal, 100],
      [session.avaEnded, user.regular, 30],
      [session.avaLive, user.newcomer, 50],
      [session.avaLive, user.regular, 20],
      [session.benEnded, user.newcomer, 40],
    ]) {
      await adminQuery(url, `INSERT INTO "SessionSupporter" ("liveSessionId", "senderId", coins, gifts, "lastGiftAt") VALUES ($1, $2, $3, 1, now())`, [
        liveSessionId,
        senderId,
        coins,
      ]);
    }
    // What gifts wrote until now: every session's coins, live or ended.
    await adminQuery(url, `
      INSERT INTO "CreatorSupporter" ("creatorId", "senderId", coins)
      SELECT s."creatorId", t."senderId", sum(t.coins) FROM "SessionSupporter" t JOIN "LiveSession" s ON s.id = t."liveSessionId"
      GROUP BY 1, 2`);
    expect(await creatorSupporters()).toEqual([
      { creator: 'ava', supporter: 'loyal', coins: 100 },
      { creator: 'ava', supporter: 'newcomer', coins: 50 },
      { creator: 'ava', supporter: 'regular', coins: 50 },
      { creator: 'ben', supporter: 'newcomer', coins: 40 },
    ]);

    expect(await applyMigrations(url)).toEqual((await migrationNames()).filter((name) => name >= MIGRATION));

    expect(await creatorSupporters()).toEqual([
      { creator: 'ava', supporter: 'loyal', coins: 100 },
      { creator: 'ava', supporter: 'regular', coins: 30 },
      { creator: 'ben', supporter: 'newcomer', coins: 40 },
    ]);
  });
});
