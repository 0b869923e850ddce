import net from 'node:net';
import { createClient, type FormattedExecutionResult } from 'graphql-ws';
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RoomGiftEvent } from '../../src/domain/rooms.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { createLogger } from '../../src/logger.js';
import { gid } from '../support/gifting.js';
import { createLiveCreator } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';
import { range } from './support.js';

// A viewer whose connection stops reading (a phone in a tunnel) must not make the server hold the room's
// events for it without bound: past about a megabyte unsent, the server stops writing to it and ends its
// subscription with RESUME_REQUIRED and the last sequence it was sent. The room's events are published
// through Redis, as another instance's would be, so they can be large and many without real gifts.

const redisUrl = process.env.REDIS_URL;

type RoomEvent = { __typename: string; sequence: number };
type Received = FormattedExecutionResult<{ liveSessionEvents: RoomEvent }, unknown>;

describe.skipIf(!redisUrl)('a viewer whose connection stops reading', () => {
  test('is let go with RESUME_REQUIRED at the last sequence it was sent, instead of being buffered the whole room', async () => {
    const server = await startTestServer({ redisUrl });
    const { creator, session } = await createLiveCreator(server.db);

    // The viewer's TCP connection, so the test can stop reading from it.
    const connections: net.Socket[] = [];
    class PausableSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, {
          createConnection: (options: object) => {
            const connection = net.connect(options as net.NetConnectOpts);
            connections.push(connection);
            return connection;
          },
        });
      }
    }
    const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: PausableSocket, lazy: false, retryAttempts: 0 });
    const received: Received[] = [];
    let ended = false;
    client.subscribe<{ liveSessionEvents: RoomEvent }>(
      { query: `subscription($id: ID!) { liveSessionEvents(liveSessionId: $id) { __typename sequence ... on GiftSentEvent { comboId } } }`, variables: { id: gid('LiveSession', session.id) } },
      { next: (result) => void received.push(result), error: () => (ended = true), complete: () => (ended = true) },
    );

    // 400 gifts of 100 kB each (40 MB), far more than the connection's buffers hold.
    const bus = createEventBus(redisUrl, createLogger('silent'));
    const event = (sequence: number): RoomGiftEvent => ({
      liveSessionId: session.id,
      creatorId: creator.id,
      sequence,
      sentGift: {
        id: crypto.randomUUID(),
        sender: { id: creator.id, handle: 'sender', displayName: 'Sender' },
        gift: { id: crypto.randomUUID(), name: 'Rose', imageUrl: 'https://cdn.example/rose.png', animationUrl: null },
        quantity: 1,
        comboId: 'x'.repeat(100_000),
        coins: '1',
        diamonds: '1',
        cashValueUsd: '0.005',
        sentAt: new Date().toISOString(),
      },
    });
    try {
      // It hears its own viewer count first: it is listening. Then a gift arrives, and its connection stops reading.
      await eventually(async () => (received.length > 0 ? true : undefined), 'the viewer count');
      bus.publish('room', session.id, { kind: 'gifts', events: [event(1)] });
      const gifts = () => received.flatMap((result) => (result.data?.liveSessionEvents.__typename === 'GiftSentEvent' ? [result.data.liveSessionEvents.sequence] : []));
      await eventually(async () => (gifts().length > 0 ? true : undefined), 'the first gift');
      connections[0]!.pause();
      // A batch every 10 ms: Redis drops a subscriber whose output buffer passes 32 MB (its default
      // pubsub limit), so 40 MB published at once would stop reaching the server after a few batches.
      for (const batch of range(0, 39)) {
        bus.publish('room', session.id, { kind: 'gifts', events: range(2, 11).map((i) => event(batch * 10 + i)) });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));

      // Reading again, it finds what the server had written before letting it go, then the refusal.
      connections[0]!.resume();
      await eventually(async () => (ended ? true : undefined), 'the subscription to end', 20_000);
      const sent = gifts();
      expect(sent).toEqual(range(1, sent.length));
      expect(sent.length).toBeLessThan(400);
      expect(received.at(-1)!.errors).toEqual([
        expect.objectContaining({ message: `Too far behind the room: reconnect with after: ${sent.length}`, extensions: { code: 'RESUME_REQUIRED', lastSequence: sent.length } }),
      ]);
    } finally {
      await client.dispose();
      await bus.close();
    }
  });
});
