import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createEventBus, type RoomMessage } from '../../src/events/pubsub.js';
import { listenToRoom, RoomHearer } from '../../src/events/fanout/hub.js';
import type { Heard } from '../../src/events/fanout/interface.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/wait.js';

// A big room's messages are handed out a slice of viewers at a time, round after round. A message that
// arrives while a round is under way goes first to the viewers that round has not reached yet, then to
// the rest: it waits at most one round for anyone, not for the round in progress to end first.

const pubsub = createEventBus(undefined, createLogger('silent'));
const VIEWERS = 600; // more than two slices

describe("a room's hub", () => {
  test('hands a message that arrives mid-round to the viewers not yet reached first, and every viewer hears every message once, in order', async () => {
    const room = randomUUID();
    const heard: number[][] = Array.from({ length: VIEWERS }, () => []);
    const secondHeardBy: number[] = [];
    const stops = Array.from({ length: VIEWERS }, (_, viewer) =>
      listenToRoom(
        pubsub,
        room,
        hearer((messages) => {
          for (const message of messages) {
            const n = message.kind === 'viewers' ? message.viewers : -1;
            heard[viewer]!.push(n);
            if (n === 2) secondHeardBy.push(viewer);
            // The first viewer to hear the first message makes the second one arrive, while the round that
            // hands out the first is still under way.
            if (n === 1 && viewer === 0) pubsub.publish('room', room, { kind: 'viewers', viewers: 2 });
          }
        }),
      ),
    );

    pubsub.publish('room', room, { kind: 'viewers', viewers: 1 });
    await eventually(async () => (secondHeardBy.length === VIEWERS ? true : undefined), 'every viewer to hear the second message');

    expect(heard.every((messages) => messages.join() === '1,2')).toBe(true);
    // The viewers the round had not reached when it arrived heard it first, in the round's order; the
    // ones it had already passed, in the next round.
    const reachedBefore = secondHeardBy[0]!;
    expect(reachedBefore).toBeGreaterThan(0);
    expect(secondHeardBy).toEqual([...range(reachedBefore, VIEWERS), ...range(0, reachedBefore)]);
    await Promise.all(stops.map((stop) => stop()));
  });
});

const hearer = (hear: (messages: readonly RoomMessage[]) => void) =>
  new (class extends RoomHearer {
    hear = (heard: Heard) => hear(heard.messages);
  })();

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
