import { describe, expect, test } from 'vitest';
import { createEventBus } from '../../src/events/pubsub.js';
import { createLogger } from '../../src/logger.js';
import { within } from '../support/wait.js';

// Profile and wallet subscribers refetch what changed, so they need only the newest event: one that reads
// slowly skips to it instead of queueing, and can neither fall behind nor hold memory.

const pubsub = createEventBus(undefined, createLogger('silent'));
const changed = (userId: string) => pubsub.publish('walletUpdated', userId, { userId });

describe('a state subscription (latest)', () => {
  test('hears the newest event; what it had not taken yet is replaced, not queued; after return() it hears nothing', async () => {
    const updates = pubsub.latest('walletUpdated', 'u1');
    const first = updates.next();
    changed('u1');
    expect(await within(first, 'the first event')).toEqual({ done: false, value: { userId: 'u1' } });

    pubsub.publish('walletUpdated', 'u1', { userId: 'first of three' });
    pubsub.publish('walletUpdated', 'u1', { userId: 'second of three' });
    pubsub.publish('walletUpdated', 'u1', { userId: 'third of three' });
    pubsub.publish('walletUpdated', 'u2', { userId: 'u2' });
    expect(await within(updates.next(), 'the newest event')).toEqual({ done: false, value: { userId: 'third of three' } });

    const pending = updates.next();
    await updates.return?.();
    changed('u1');
    expect(await within(pending, 'the end')).toEqual({ done: true, value: undefined });
  });
});
