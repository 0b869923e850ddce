import type { Database } from '../../src/db/client.js';
import type { Gift, LiveSession, User } from '../../src/generated/prisma/client.js';
import type { RoomEventsSubscription } from '../generated/graphql.js';
import { gid } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { uniqueKey } from '../support/money.js';
import { tokenFor } from '../support/users.js';
import { TimedOut } from '../support/wait.js';
import { subscribe, type Subscription } from '../support/ws.js';
import { EndRoomSession, RoomEvents, SendRoomGift } from './documents.js';
import type { Client } from 'graphql-ws';

export type RoomEvent = RoomEventsSubscription['liveSessionEvents'];
export type GiftSent = Extract<RoomEvent, { __typename: 'GiftSentEvent' }>;
export type ViewerCount = Extract<RoomEvent, { __typename: 'ViewerCountChangedEvent' }>;

export const isGiftSent = (event: RoomEvent): event is GiftSent => event.__typename === 'GiftSentEvent';
export const isViewerCount = (event: RoomEvent): event is ViewerCount => event.__typename === 'ViewerCountChangedEvent';
export const sequencesOf = (events: RoomEvent[]) => events.filter(isGiftSent).map((event) => event.sequence);
export const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** A room subscription over graphql-ws (from the start with `after: 0`, live from now without). */
export function watchRoom(socket: Client, session: Pick<LiveSession, 'id'>, after?: number): Subscription<RoomEventsSubscription> {
  return subscribe(socket, RoomEvents, { liveSessionId: gid('LiveSession', session.id), ...(after === undefined ? {} : { after }) });
}

/** A gift sent over HTTP as the sender's client would (`byId`: by its trusted-document id); refusals come back as typed results. */
export async function sendGift(
  url: string,
  sender: Pick<User, 'id' | 'roles'> | string,
  session: Pick<LiveSession, 'id'>,
  gift: Pick<Gift, 'id'>,
  { byId, ...options }: { quantity?: number; comboId?: string; byId?: boolean } = {},
) {
  const token = typeof sender === 'string' ? sender : await tokenFor(sender);
  const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', gift.id), idempotencyKey: uniqueKey('room'), ...options };
  return (await ok(url, SendRoomGift, { input }, { token, byId })).sendGift;
}

export async function endSession(url: string, creator: Pick<User, 'id' | 'roles'>, session: Pick<LiveSession, 'id'>) {
  return (await ok(url, EndRoomSession, { input: { liveSessionId: gid('LiveSession', session.id) } }, { token: await tokenFor(creator) })).endLiveSession;
}

/**
 * Reads room events into `into` until `done` holds for what was read, failing if a result carries errors,
 * the subscription ends, or nothing arrives for `ms`.
 */
export async function readUntil(
  subscription: Pick<Subscription<RoomEventsSubscription>, 'next'>,
  done: (events: RoomEvent[]) => boolean,
  { into = [] as RoomEvent[], ms = 5_000 } = {},
): Promise<RoomEvent[]> {
  while (!done(into)) {
    const result = await subscription.next(ms);
    if (result.errors?.length || !result.data) throw new Error(`A room event failed: ${JSON.stringify(result)}`);
    into.push(result.data.liveSessionEvents);
  }
  return into;
}

/** Everything the subscription sends until it completes (or fails): the stream of a session that ends. */
export async function readToCompletion(subscription: Subscription<RoomEventsSubscription>, into: RoomEvent[] = [], ms = 5_000): Promise<RoomEvent[]> {
  for (;;) {
    let result;
    try {
      result = await subscription.next(ms);
    } catch (error) {
      if (error instanceof TimedOut) throw error;
      const end = await subscription.ended;
      if (end.error) throw new Error(`The room stream failed: ${JSON.stringify(end.error)}`);
      return into;
    }
    if (result.errors?.length || !result.data) throw new Error(`A room event failed: ${JSON.stringify(result)}`);
    into.push(result.data.liveSessionEvents);
  }
}

/** What the database says the room committed. */
export async function committedIn(db: Database, session: Pick<LiveSession, 'id'>) {
  const [sentGifts, roomEvents, row] = await Promise.all([
    db.sentGift.findMany({ where: { liveSessionId: session.id }, select: { id: true } }),
    db.roomEvent.findMany({ where: { liveSessionId: session.id }, orderBy: { sequence: 'asc' }, select: { sequence: true, sentGiftId: true } }),
    db.liveSession.findUniqueOrThrow({ where: { id: session.id }, select: { lastSequence: true } }),
  ]);
  return { sentGifts: sentGifts.length, sentGiftIds: new Set(sentGifts.map((gift) => gift.id)), roomEvents, lastSequence: row.lastSequence };
}
