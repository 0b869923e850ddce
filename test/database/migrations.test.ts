import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { applyMigrations, DATAMODEL_SNAPSHOT, MIGRATIONS_DIR, migrationNames } from '../../src/db/migrate.js';
import { datamodelDiff, isEmptyDiff } from '../../scripts/schema-engine.js';
import { withDatabase } from '../setup/postgres.js';
import { adminQuery } from '../support/database.js';

const SCHEMA_FILE = path.join(MIGRATIONS_DIR, '..', 'schema.prisma');
const RUN_MIGRATION = 'run `npm run db:migration -- <name>` to write the migration';

/**
 * Objects a migration adds by hand on purpose that schema.prisma cannot express (a CHECK constraint, a
 * trigger), as `section:name` keys of `Catalog`, e.g. 'constraints:Account.Account_balance_check'.
 */
const MIGRATION_ONLY: string[] = [
  // Raises a statement's failed check (src/db/combine.ts, failUnless); Prisma's datamodel has no functions.
  'functions:fail_statement(text)',
  // The money rules the database enforces itself (migration money_guards; test/database/money-guards.test.ts).
  'functions:refuse_journal_change()',
  'triggers:JournalEntry.JournalEntry_append_only',
  'triggers:Posting.Posting_append_only',
  ...[
    'Posting.Posting_amount_check', 'Account.Account_owner_check', 'Account.Account_balance_check', 'SentGift.SentGift_amounts_check',
    'Gift.Gift_coins_check', 'CoinBundle.CoinBundle_coins_check', 'BundlePrice.BundlePrice_amountMinor_check', 'Purchase.Purchase_amounts_check',
    'ChargebackDebt.ChargebackDebt_coins_check', 'DailySpend.DailySpend_coins_check', 'User.User_limits_check', 'LiveSession.LiveSession_totals_check',
    'SessionSupporter.SessionSupporter_coins_check', 'CreatorSupportDay.CreatorSupportDay_coins_check', 'CreatorSupporter.CreatorSupporter_coins_check',
  ].map((name) => `constraints:${name}`),
  // Refunds and disputes (migration stripe_payments_s24): never more taken back than credited.
  ...['Purchase.Purchase_taken_back_check', 'PurchaseAdjustment.PurchaseAdjustment_coins_check'].map((name) => `constraints:${name}`),
  'triggers:PurchaseAdjustment.PurchaseAdjustment_append_only',
  // The payout rules the database enforces itself (migration payouts; test/payouts/database-guards.test.ts).
  'functions:check_payout_change()',
  'functions:check_payout_hold()',
  'functions:refuse_payout_destination_change()',
  'functions:refuse_payout_history_change()',
  'triggers:Payout.Payout_lifecycle',
  'triggers:PayoutHold.PayoutHold_early_only',
  'triggers:PayoutMethod.PayoutMethod_destination_fixed',
  'triggers:PayoutChange.PayoutChange_append_only',
  'indexes:PayoutHold_in_force_key',
  ...['Account.Account_payout_balances_check', 'Payout.Payout_amounts_check', 'Payout.Payout_entries_check', 'PayoutMethod.PayoutMethod_details_check'].map(
    (name) => `constraints:${name}`,
  ),
  // The brand money rules the database enforces itself (migration partner_brands_i22).
  ...[
    'MatchingCampaign.MatchingCampaign_terms_check', 'CampaignViewer.CampaignViewer_coins_check', 'GiftMatch.GiftMatch_amounts_check',
    'BrandFunding.BrandFunding_amounts_check', 'RoomEvent.RoomEvent_subject_check',
  ].map((name) => `constraints:${name}`),
  // A brand funding takes back no more than it credited (migration brand_funding_adjustments).
  'constraints:BrandFunding.BrandFunding_taken_back_check',
  // A webhook delivery always has its job (migration brand_webhooks).
  'functions:queue_webhook_deliveries()',
  'triggers:WebhookDelivery.WebhookDelivery_jobs',
  // Rows the ledger and the rooms name are never removed nor renumbered (migration gift_path_references).
  'functions:refuse_referenced_change()',
  ...['Account', 'User', 'LiveSession', 'Gift', 'SentGift'].flatMap((table) => [`triggers:${table}.${table}_kept`, `triggers:${table}.${table}_id_fixed`]),
];

/**
 * Objects schema.prisma describes that a migration drops on purpose, as `section:name` keys of `Catalog`:
 * the gift path's foreign keys, whose checks cost a fifth of PostgreSQL's CPU per gift (migration
 * gift_path_references; the audit proves the references whole instead). The relations stay in
 * schema.prisma, where queries join along them.
 */
const SCHEMA_ONLY: string[] = [
  'Posting.Posting_entryId_fkey', 'Posting.Posting_accountId_fkey',
  'SentGift.SentGift_liveSessionId_fkey', 'SentGift.SentGift_senderId_fkey', 'SentGift.SentGift_creatorId_fkey', 'SentGift.SentGift_giftId_fkey',
  'SentGift.SentGift_entryId_fkey', 'RoomEvent.RoomEvent_liveSessionId_fkey', 'RoomEvent.RoomEvent_sentGiftId_fkey',
].map((name) => `constraints:${name}`);

const serverUrl = inject('postgresUrl');

/** An empty database (from template0, not the migrated test template), dropped when the file is done. */
async function emptyDatabase(): Promise<string> {
  const name = `ovation_catalog_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE template0`);
  afterAll(() => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return withDatabase(serverUrl, name);
}

/**
 * What the public schema holds, by name, in a shape whose differences read well in a test diff.
 * Column order and enum value order are left out: every real database is built by the migrations, which
 * can only append, so only a database built straight from schema.prisma would order them otherwise.
 */
type Catalog = {
  tables: Record<string, { kind: string; columns: Record<string, string> }>;
  indexes: Record<string, string>;
  constraints: Record<string, string>;
  enums: Record<string, string[]>;
  sequences: Record<string, string>;
  triggers: Record<string, string>;
  functions: Record<string, string>;
  extensions: string[];
};

async function catalogOf(url: string): Promise<Catalog> {
  const catalog: Catalog = { tables: {}, indexes: {}, constraints: {}, enums: {}, sequences: {}, triggers: {}, functions: {}, extensions: [] };

  const tables = await adminQuery<{ name: string; kind: string }>(url, `
    SELECT c.relname AS name,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                          WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END AS kind
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND c.relname <> '_prisma_migrations'`);
  for (const table of tables) catalog.tables[table.name] = { kind: table.kind, columns: {} };

  const columns = await adminQuery<{ table: string; name: string; definition: string }>(url, `
    SELECT c.relname AS table, a.attname AS name,
           concat_ws(' ',
             format_type(a.atttypid, a.atttypmod),
             CASE WHEN a.attcollation <> t.typcollation THEN 'COLLATE ' || quote_ident(coll.collname) END,
             CASE WHEN a.attnotnull THEN 'NOT NULL' END,
             CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END,
             CASE WHEN a.attgenerated <> '' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ')'
                  WHEN d.adbin IS NOT NULL THEN 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END
           ) AS definition
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_collation coll ON coll.oid = a.attcollation
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND c.relname <> '_prisma_migrations' AND a.attnum > 0 AND NOT a.attisdropped`);
  for (const column of columns) catalog.tables[column.table]!.columns[column.name] = column.definition;

  const indexes = await adminQuery<{ name: string; definition: string }>(url, `
    SELECT indexname AS name, indexdef AS definition FROM pg_indexes
    WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`);
  for (const index of indexes) catalog.indexes[index.name] = index.definition;

  // NOT NULL constraints (PostgreSQL 18 lists them here) are the columns' nullability, compared above.
  const constraints = await adminQuery<{ name: string; definition: string }>(url, `
    SELECT coalesce(c.relname, t.typname) || '.' || con.conname AS name,
           pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' (not validated)' END AS definition
    FROM pg_constraint con
    LEFT JOIN pg_class c ON c.oid = con.conrelid
    LEFT JOIN pg_type t ON t.oid = con.contypid
    WHERE con.connamespace = 'public'::regnamespace AND con.contype <> 'n'
      AND coalesce(c.relname, '') <> '_prisma_migrations'`);
  for (const constraint of constraints) catalog.constraints[constraint.name] = constraint.definition;

  const enums = await adminQuery<{ name: string; values: string[] }>(url, `
    SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumlabel) AS values
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
    WHERE t.typnamespace = 'public'::regnamespace
    GROUP BY t.typname`);
  for (const enumType of enums) catalog.enums[enumType.name] = enumType.values;

  const sequences = await adminQuery<{ name: string; definition: string }>(url, `
    SELECT sequencename AS name,
           format('%s START %s INCREMENT %s MIN %s MAX %s CACHE %s%s', data_type::text, start_value, increment_by,
                  min_value, max_value, cache_size, CASE WHEN cycle THEN ' CYCLE' ELSE '' END) AS definition
    FROM pg_sequences WHERE schemaname = 'public'`);
  for (const sequence of sequences) catalog.sequences[sequence.name] = sequence.definition;

  const triggers = await adminQuery<{ name: string; definition: string }>(url, `
    SELECT c.relname || '.' || tg.tgname AS name, pg_get_triggerdef(tg.oid) AS definition
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT tg.tgisinternal`);
  for (const trigger of triggers) catalog.triggers[trigger.name] = trigger.definition;

  // Functions an extension brings belong to the extension, compared by name below.
  const functions = await adminQuery<{ name: string; definition: string }>(url, `
    SELECT p.oid::regprocedure::text AS name, pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`);
  for (const fn of functions) catalog.functions[fn.name] = fn.definition;

  const extensions = await adminQuery<{ name: string }>(url, `SELECT extname AS name FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname`);
  catalog.extensions = extensions.map((extension) => extension.name);
  return catalog;
}

/** The catalog without the objects listed in MIGRATION_ONLY, each of which must be present. */
function withoutMigrationOnly(catalog: Catalog): Catalog {
  const copy = structuredClone(catalog);
  for (const key of MIGRATION_ONLY) {
    const [section, name] = key.split(/:(.*)/s) as [keyof Catalog, string];
    const entries = copy[section] as Record<string, unknown>;
    expect(entries?.[name], `MIGRATION_ONLY lists ${key}, which no migration creates`).toBeDefined();
    delete entries[name];
  }
  return copy;
}

/** The catalog without the objects listed in SCHEMA_ONLY, none of which may be present. */
function withoutSchemaOnly(catalog: Catalog, present: boolean): Catalog {
  const copy = structuredClone(catalog);
  for (const key of SCHEMA_ONLY) {
    const [section, name] = key.split(/:(.*)/s) as [keyof Catalog, string];
    const entries = copy[section] as Record<string, unknown>;
    if (present) expect(entries?.[name], `SCHEMA_ONLY lists ${key}, which schema.prisma does not describe`).toBeDefined();
    else expect(entries?.[name], `SCHEMA_ONLY lists ${key}, which the migrations should have dropped`).toBeUndefined();
    delete entries[name];
  }
  return copy;
}

async function readMigrations() {
  return Promise.all(
    (await migrationNames()).map(async (name) => ({ name, sql: await fs.readFile(path.join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8') })),
  );
}

const schemaPrisma = await fs.readFile(SCHEMA_FILE, 'utf8');
const migratedUrl = await emptyDatabase();
const fromSchemaUrl = await emptyDatabase();
const applied = await applyMigrations(migratedUrl);

describe('prisma/schema.prisma and prisma/migrations', () => {
  test('the migrations build the database schema.prisma describes', async () => {
    expect(applied).toEqual(await migrationNames());
    await adminQuery(fromSchemaUrl, await datamodelDiff(fromSchemaUrl, null, schemaPrisma));

    const [migrated, fromSchema] = await Promise.all([catalogOf(migratedUrl), catalogOf(fromSchemaUrl)]);
    expect(Object.keys(fromSchema.tables).length, 'schema.prisma should produce tables').toBeGreaterThan(0);
    expect(
      withoutSchemaOnly(withoutMigrationOnly(migrated), false),
      `The database the migrations build (+ Received) differs from the one schema.prisma describes (- Expected): after a model change, ${RUN_MIGRATION}; ` +
        'for something a migration adds by hand on purpose, list it in MIGRATION_ONLY in this test (one it drops: SCHEMA_ONLY)',
    ).toEqual(withoutSchemaOnly(fromSchema, true));
  });

  test("the newest migration's datamodel snapshot is schema.prisma, so the next migration diffs from the right place", async () => {
    const newest = (await migrationNames()).at(-1);
    expect(newest, 'prisma/migrations has no migration').toBeDefined();
    const snapshotFile = path.join(MIGRATIONS_DIR, newest!, DATAMODEL_SNAPSHOT);
    const snapshot = await fs.readFile(snapshotFile, 'utf8').catch(() => undefined);
    expect(snapshot, `${snapshotFile} is missing: migrations are written by \`npm run db:migration -- <name>\``).toBeDefined();

    const pending = await datamodelDiff(fromSchemaUrl, snapshot!, schemaPrisma);
    expect(isEmptyDiff(pending), `prisma/schema.prisma changed since migration ${newest}; ${RUN_MIGRATION}. Pending SQL:\n${pending}`).toBe(true);
  });
});

describe('applying migrations', () => {
  test('a second run applies nothing and changes no bookkeeping', async () => {
    const before = await adminQuery(migratedUrl, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    expect(await applyMigrations(migratedUrl)).toEqual([]);
    expect(await adminQuery(migratedUrl, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name')).toEqual(before);
  });

  test('each migration is recorded the way `prisma migrate deploy` records it, so Prisma sees it as applied', async () => {
    const rows = await adminQuery<{
      id: string;
      checksum: string;
      migration_name: string;
      started_at: Date;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      logs: string | null;
      applied_steps_count: number;
    }>(migratedUrl, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    const migrations = await readMigrations();
    expect(rows.map((row) => row.migration_name)).toEqual(migrations.map((migration) => migration.name));
    for (const [i, row] of rows.entries()) {
      // Prisma's checksum: sha256 of the migration.sql bytes, lower-case hex; a mismatch reads as "modified".
      expect(row.checksum).toBe(createHash('sha256').update(migrations[i]!.sql).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at, `${row.migration_name} is not finished, so Prisma would call it failed`).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row).toMatchObject({ rolled_back_at: null, logs: null, applied_steps_count: 1 });
    }
  });

  test("the bookkeeping table is Prisma's own", async () => {
    const columns = await adminQuery<{ column_name: string; type: string; is_nullable: string }>(migratedUrl, `
      SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type, is_nullable
      FROM information_schema.columns col
      JOIN pg_attribute a ON a.attrelid = '"_prisma_migrations"'::regclass AND a.attname = col.column_name
      WHERE col.table_schema = 'public' AND col.table_name = '_prisma_migrations'
      ORDER BY col.ordinal_position`);
    expect(columns.map((column) => `${column.column_name} ${column.type}${column.is_nullable === 'NO' ? ' NOT NULL' : ''}`)).toEqual([
      'id character varying(36) NOT NULL',
      'checksum character varying(64) NOT NULL',
      'finished_at timestamp with time zone',
      'migration_name character varying(255) NOT NULL',
      'logs text',
      'rolled_back_at timestamp with time zone',
      'started_at timestamp with time zone NOT NULL',
      'applied_steps_count integer NOT NULL',
    ]);
    expect(await fs.readFile(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toMatch(/^provider = "postgresql"$/m);
  });

  test('instances starting together apply each migration once', async () => {
    const url = await emptyDatabase();
    const runs = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    expect(runs.flat().sort()).toEqual(await migrationNames());
    expect(await adminQuery(url, 'SELECT migration_name FROM "_prisma_migrations"')).toHaveLength(runs.flat().length);
  });
});
