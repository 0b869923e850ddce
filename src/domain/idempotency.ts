import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SqlTx } from '../db/driver.js';
import { statementFailure } from '../db/sql-state.js';
import { Prisma } from '../generated/prisma/client.js';
import { errorFromJson, errorToJson, IdempotencyConflictError, IdempotencyInProgressError, OvationError } from './errors.js';

/** Every money mutation's client key: unique per caller. */
export const idempotencyKey = z.string().trim().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters');

export type Claim = { callerId: string; key: string; operation: string; input: unknown };

/** What the first call with a key ended in, kept with the key and replayed to every retry. */
export type Outcome<T> = { ok: T } | { error: Record<string, unknown> };

export type ClaimResult<T> = { kind: 'first' } | { kind: 'replay'; outcome: Outcome<T> } | { kind: 'refused'; error: OvationError };

/**
 * Claims keys inside the caller's transaction. A key another transaction holds uncommitted makes this
 * one wait for it, so concurrent retries resolve to one effect. Keys are claimed in a fixed order.
 */
export async function claimKeys<T>(tx: SqlTx, claims: Claim[]): Promise<ClaimResult<T>[]> {
  if (claims.length === 0) return [];
  const hashes = claims.map((claim) => requestHash(claim.operation, claim.input));
  const order = claims.map((_, index) => index).sort((a, b) => compareKeys(claims[a]!, claims[b]!));
  const pick = <V>(values: V[]) => order.map((index) => values[index]!);
  const inserted = await tx.$queryRaw<{ callerId: string; key: string }[]>`
    INSERT INTO "IdempotencyKey" ("callerId", key, operation, "requestHash")
    SELECT * FROM unnest(${pick(claims.map((c) => c.callerId))}::uuid[], ${pick(claims.map((c) => c.key))}::text[],
                         ${pick(claims.map((c) => c.operation))}::text[], ${pick(hashes)}::text[])
    ON CONFLICT DO NOTHING
    RETURNING "callerId", key`;
  const fresh = new Set(inserted.map((row) => `${row.callerId}/${row.key}`));
  const seenBefore = claims.filter((claim) => !fresh.has(`${claim.callerId}/${claim.key}`));
  return classify(claims, hashes, await storedKeys(tx, seenBefore));
}

/**
 * Reads keys without claiming them, for a caller that serializes each caller's calls by locking a row of
 * theirs first (the gift batch locks each sender's wallet) and then writes each key with its outcome in
 * one statement (`keysWrite`): a retry waits on that lock for the first call to commit, then finds its
 * key here. One insert per key instead of an insert and an update. A first call that slipped past the
 * lock fails on the key's primary key when it writes (`isKeyRace`), and its caller runs it again.
 */
export async function readKeys<T>(tx: SqlTx, claims: Claim[]): Promise<(ClaimResult<T> & { requestHash: string })[]> {
  if (claims.length === 0) return [];
  const hashes = claims.map((claim) => requestHash(claim.operation, claim.input));
  const results = classify<T>(claims, hashes, await storedKeys(tx, claims));
  return results.map((result, index) => ({ ...result, requestHash: hashes[index]! }));
}

/** The statement that stores keys read with readKeys (with the hash it worked out), each with what its call ended in. */
export function keysWrite<T>(items: { claim: Claim; requestHash: string; outcome: Outcome<T> }[]): Prisma.Sql {
  const sorted = [...items].sort((a, b) => compareKeys(a.claim, b.claim));
  return Prisma.sql`
    INSERT INTO "IdempotencyKey" ("callerId", key, operation, "requestHash", outcome)
    SELECT * FROM unnest(${sorted.map((i) => i.claim.callerId)}::uuid[], ${sorted.map((i) => i.claim.key)}::text[],
                         ${sorted.map((i) => i.claim.operation)}::text[], ${sorted.map((i) => i.requestHash)}::text[],
                         ${sorted.map((i) => JSON.stringify(i.outcome))}::jsonb[])`;
}

/** A keysWrite that lost to another call with the same key: running the call again replays that one. */
export function isKeyRace(error: unknown): boolean {
  const failure = statementFailure(error);
  return failure?.sqlState === UNIQUE_VIOLATION && failure.message.includes('"IdempotencyKey_pkey"');
}

const UNIQUE_VIOLATION = '23505';

type StoredKey = { callerId: string; key: string; operation: string; requestHash: string; outcome: unknown };

async function storedKeys(tx: SqlTx, claims: Claim[]): Promise<StoredKey[]> {
  if (claims.length === 0) return [];
  return tx.$queryRaw<StoredKey[]>`
    SELECT k."callerId", k.key, k.operation, k."requestHash", k.outcome FROM "IdempotencyKey" k
    JOIN unnest(${claims.map((c) => c.callerId)}::uuid[], ${claims.map((c) => c.key)}::text[]) AS s("callerId", key)
      ON k."callerId" = s."callerId" AND k.key = s.key`;
}

function classify<T>(claims: Claim[], hashes: string[], stored: StoredKey[]): ClaimResult<T>[] {
  const byKey = new Map(stored.map((row) => [`${row.callerId}/${row.key}`, row]));
  return claims.map((claim, index) => {
    const row = byKey.get(`${claim.callerId}/${claim.key}`);
    if (!row) return { kind: 'first' };
    if (row.operation !== claim.operation || row.requestHash !== hashes[index]) {
      return { kind: 'refused', error: new IdempotencyConflictError() };
    }
    if (row.outcome === null) return { kind: 'refused', error: new IdempotencyInProgressError() };
    return { kind: 'replay', outcome: row.outcome as Outcome<T> };
  });
}

/** Stores what claimed calls ended in (a result or a refusal) with their keys. */
export async function storeOutcomes<T>(tx: SqlTx, items: { callerId: string; key: string; outcome: Outcome<T> }[]): Promise<void> {
  if (items.length === 0) return;
  const sorted = [...items].sort(compareKeys);
  await tx.$executeRaw`
    UPDATE "IdempotencyKey" AS k SET outcome = d.outcome
    FROM unnest(${sorted.map((i) => i.callerId)}::uuid[], ${sorted.map((i) => i.key)}::text[],
                ${sorted.map((i) => JSON.stringify(i.outcome))}::jsonb[]) AS d("callerId", key, outcome)
    WHERE k."callerId" = d."callerId" AND k.key = d.key`;
}

export const failure = (error: OvationError): Outcome<never> => ({ error: errorToJson(error) });

/** Keys forgotten per statement: each batch is its own short transaction. */
const FORGET_BATCH = 5000;

/**
 * Forgets the keys first used more than `keptHours` before `now` whose calls have ended (kept at least
 * 24 hours: docs/money.md, "Idempotency"): without this the table grows by a row per gift forever. A
 * retry with a forgotten key is a new request. Keys being forgotten by another instance are skipped, not
 * waited for. Returns how many were forgotten.
 */
export async function forgetExpiredKeys(db: SqlTx, keptHours: number, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - keptHours * 3600_000);
  let forgotten = 0;
  for (;;) {
    const count = await db.$executeRaw`
      WITH expired AS (
        SELECT ctid FROM "IdempotencyKey" WHERE "createdAt" < ${before} AND outcome IS NOT NULL
        LIMIT ${FORGET_BATCH} FOR UPDATE SKIP LOCKED)
      DELETE FROM "IdempotencyKey" k USING expired WHERE k.ctid = expired.ctid`;
    forgotten += count;
    if (count < FORGET_BATCH) return forgotten;
  }
}

/** The first call's result again, or its refusal thrown again. */
export function replay<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw errorFromJson(outcome.error);
  return outcome.ok;
}

function compareKeys(a: { callerId: string; key: string }, b: { callerId: string; key: string }): number {
  return a.callerId.localeCompare(b.callerId) || a.key.localeCompare(b.key);
}

/** sha256 of the input as canonical JSON (sorted keys, bigints as strings). */
export function requestHash(operation: string, input: unknown): string {
  return createHash('sha256').update(`${operation}:${canonical(input)}`).digest('hex');
}

function canonical(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
