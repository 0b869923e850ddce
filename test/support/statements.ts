import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createAnnouncer } from '../../src/events/announcer.js';
import { execute } from 'graphql';
import { afterAll, expect } from 'vitest';
import { createPrismaClient, type Database } from '../../src/db/client.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import type { Viewer } from '../../src/domain/viewer.js';
import { createPresence } from '../../src/events/presence.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { createLogger } from '../../src/logger.js';
import type { Context } from '../../src/schema/context.js';
import { schema } from '../../src/schema/index.js';
import { sandbox } from './money.js';

/** What one operation returned, and every SQL statement Prisma sent for it (sorted: concurrent reads finish in any order). */
export type Recorded<Data> = { data: Data; statements: string[] };

/**
 * The schema over a Prisma client that records the statements it sends, as Pothos's own plugin-prisma
 * tests record their queries: a test runs a page's query and snapshots the statements beside the result.
 * Each run gets a context of its own, as each request does (loaders are per context).
 */
export function recordingSchema(url: string) {
  const statements: string[] = [];
  const db = createPrismaClient(url, 10, { onQuery: (event) => statements.push(event.query) });
  const log = createLogger('silent');
  const pubsub = createEventBus(undefined, log);
  const announcer = createAnnouncer(pubsub);
  const presence = createPresence(db, announcer, log);
  afterAll(async () => {
    await presence.close();
    await db.$disconnect();
  });
  const services: Omit<Context, 'viewer'> = {
    db: db as Database,
    pubsub,
    announcer,
    presence,
    policy: DEFAULT_POLICY,
    gifts: createGiftSender(db, announcer, DEFAULT_POLICY),
    payments: sandbox,
    payouts: { db, policy: DEFAULT_POLICY, provider: null, announce: announcer, log },
    issueToken: async () => 'unused',
    development: false,
    webhookAddresses: { allowPrivate: true },
  };
  return async function run<Data, Variables>(document: TypedDocumentNode<Data, Variables>, variables: Variables, viewer: Viewer | null = null): Promise<Recorded<Data>> {
    statements.length = 0;
    const result = await execute({ schema, document, variableValues: variables as Record<string, unknown>, contextValue: { ...services, viewer } });
    expect(result.errors).toBeUndefined();
    // As a client receives it (dates as strings).
    return { data: JSON.parse(JSON.stringify(result.data)) as Data, statements: [...statements].sort() };
  };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * A result with what changes from run to run replaced by stable labels, for a snapshot: record ids (in
 * global ids, Pothos's cursors and text) by order of first appearance, per type (`User#1`), and times.
 */
export function stable(value: unknown): unknown {
  const labels = new Map<string, string>();
  const counts = new Map<string, number>();
  const label = (kind: string, id: string) => {
    const key = `${kind}:${id}`;
    let name = labels.get(key);
    if (!name) {
      const n = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, n);
      labels.set(key, (name = `${kind}#${n}`));
    }
    return name;
  };
  const walk = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([key, field]) => [key, walk(field)]));
    if (typeof item !== 'string') return item;
    if (ISO_TIME.test(item)) return '<time>';
    const decoded = Buffer.from(item, 'base64').toString('utf8');
    if (Buffer.from(decoded).toString('base64') === item) {
      const globalId = /^([A-Za-z]+):([\w-]+)$/.exec(decoded);
      if (globalId) return label(globalId[1]!, globalId[2]!);
      const cursor = /^GPC:\w:(.+)$/.exec(decoded);
      if (cursor) return `cursor(${label('id', cursor[1]!)})`;
    }
    return item.replace(UUID, (id) => label('id', id));
  };
  return walk(value);
}
