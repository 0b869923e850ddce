import { Repeater } from 'graphql-yoga';
import type { Database } from '../db/client.js';
import type { RoomMatch } from '../domain/brands/matching.js';
import type { Profile, RoomGiftEvent } from '../domain/rooms.js';
import { LiveSessionStatus } from '../generated/prisma/client.js';
import type { Presence } from './presence.js';
import type { EventSubscriptions } from './pubsub.js';
import { openRoomStream, type RoomStream } from './fanout/room-stream.js';

/**
 * Gifts folded into what an alert shows: a combo (one sender's gifts sharing a comboId) is one streak that
 * grows; a gift without a comboId is a streak of its own. `count` is taps (quantities summed). Its id is
 * its first gift's.
 */
export type Streak = {
  streakId: string;
  comboId: string | null;
  sender: Profile;
  gift: RoomGiftEvent['sentGift']['gift'];
  count: number;
  coins: string;
  firstSequence: number;
  lastSequence: number;
  /** When its latest gift committed (ms): the streak ends a quiet time after it. */
  lastSentAtMs: number;
};

export type OverlayGoal = { goalCoins: string; progressCoins: string; reached: boolean };
export type TopGifter = { sender: Profile; coins: string };

/**
 * What an overlay hears. Every item carries the room's sequence when it happened (the last gift folded
 * in), so a page resumes from (liveSessionId, sequence) and hears each gift once.
 */
export type OverlayItem =
  | { kind: 'waiting'; liveSessionId: null; sequence: 0 }
  | { kind: 'state'; liveSessionId: string; sequence: number; goal: OverlayGoal | null; top: TopGifter[]; viewers: number }
  | { kind: 'streakStarted' | 'streakGrew' | 'streakEnded'; liveSessionId: string; sequence: number; streak: Streak }
  | { kind: 'goal'; liveSessionId: string; sequence: number; goal: OverlayGoal }
  | { kind: 'top'; liveSessionId: string; sequence: number; top: TopGifter[] }
  | { kind: 'viewers'; liveSessionId: string; sequence: number; viewers: number }
  | { kind: 'ended'; liveSessionId: string; sequence: number }
  | { kind: 'match'; liveSessionId: string; sequence: number; match: RoomMatch; sentGift: RoomGiftEvent['sentGift']; manual: boolean }
  | { kind: 'revoked'; liveSessionId: string | null; sequence: number };

/**
 * A streak's quiet time (OVERLAY_STREAK_QUIET_MS) and how often an overlay's token is checked: a revoked
 * token's overlays stop within that.
 */
export const OVERLAY_DEFAULTS = { streakQuietMs: 3_000, checkMs: 2_000 };
/** Open streaks by sender and combo (comboIds are the clients' own: two senders may pick the same), or by gift. */
const keyOf = (senderId: string, comboId: string | null, sentGiftId: string) => (comboId === null ? `gift:${sentGiftId}` : `combo:${senderId}:${comboId}`);
/** The bounds of a streak's quiet time an overlay may ask for (ms). */
export const STREAK_QUIET_MS = { min: 500, max: 30_000 };
/** How often open streaks are checked for having gone quiet. */
const STREAK_TICK_MS = 100;
/** Stored events read back to rebuild the streaks open at a resume point: more than a quiet time's worth in practice. */
const REBUILD_EVENTS = 300;

type Options = {
  db: Database;
  pubsub: EventSubscriptions;
  presence: Presence;
  overlayTokenId: string;
  creatorId: string;
  /** Where the page left off; null opens live from now. */
  after: { liveSessionId: string; sequence: number } | null;
  streakQuietMs: number;
  /** How often the token is checked for revocation and, between sessions, the creator for a new one. */
  checkMs: number;
};

/**
 * An overlay's stream: it follows whichever session the creator has live (between sessions it waits
 * quietly, checking every `checkMs`), folds gifts into streaks (started, grew, ended: ended a quiet time
 * after the last gift, by a new combo of the same sender, or by the session's end), and passes on brands'
 * matches (each an alert: with its gift, or later by matchGift), the goal, the top gifters and the viewer count. Built on the room stream, so resuming gives every gift once, in
 * order. Never throws once open: a revoked token is its last item. Overlays are not viewers: they do not
 * join presence.
 */
export function openOverlayStream(options: Options): Repeater<OverlayItem> {
  const { db, pubsub, presence, overlayTokenId, creatorId, streakQuietMs, checkMs } = options;
  return new Repeater<OverlayItem>(async (push, stop) => {
    let stopped = false;
    let room: RoomStream | undefined;
    let wakeWaiting: (() => void) | undefined;
    const end = () => {
      stopped = true;
      wakeWaiting?.();
      void room?.return?.();
    };
    void stop.then(end);

    let cursor = options.after;
    let current: { liveSessionId: string; sequence: number } | null = null;
    const at = () => ({ liveSessionId: current?.liveSessionId ?? null, sequence: current?.sequence ?? 0 });
    const open = new Map<string, Streak>();
    // The room is read no faster than the page takes its items: a slow page leaves the rest in the room
    // stream, which lets go of it past its limit (and is opened again from storage below).
    let said: Promise<unknown> = Promise.resolve();
    const say = (item: OverlayItem) => (said = push(item));

    // The token is checked on a timer, so a revocation (on any instance) stops the overlay within checkMs,
    // and so does the creator's suspension (the page is then refused when it subscribes again).
    const checks = setInterval(() => {
      db.overlayToken.findUnique({ where: { id: overlayTokenId }, select: { revokedAt: true, creator: { select: { suspendedAt: true } } } }).then(
        (token) => {
          if (stopped) return;
          if (token?.creator.suspendedAt && !token.revokedAt) return stop();
          if (token && !token.revokedAt) return;
          const { liveSessionId, sequence } = at();
          void say({ kind: 'revoked', liveSessionId, sequence });
          stop();
        },
        () => {}, // a failed check is tried again next time
      );
    }, checkMs);
    const ticks = setInterval(() => endQuiet(Date.now()), STREAK_TICK_MS);

    function endStreak(streak: Streak) {
      open.delete(keyOf(streak.sender.id, streak.comboId, streak.streakId));
      if (current) void say({ kind: 'streakEnded', liveSessionId: current.liveSessionId, sequence: current.sequence, streak: { ...streak } });
    }
    function endQuiet(nowMs: number) {
      for (const streak of open.values()) if (streak.lastSentAtMs + streakQuietMs <= nowMs) endStreak(streak);
    }

    /** Folds a gift into the streaks; `announce` false rebuilds them silently (what the page has already shown). */
    function fold(event: RoomGiftEvent, announce: boolean) {
      const { sentGift } = event;
      const sentAtMs = Date.parse(sentGift.sentAt);
      const key = keyOf(sentGift.sender.id, sentGift.comboId, sentGift.id);
      for (const [openKey, streak] of open) {
        const quiet = streak.lastSentAtMs + streakQuietMs <= sentAtMs;
        // A sender's new combo ends their previous streak.
        const replaced = streak.sender.id === sentGift.sender.id && openKey !== key;
        if (quiet || replaced) (announce ? endStreak(streak) : open.delete(openKey));
      }
      const known = open.get(key);
      const streak: Streak = known
        ? { ...known, count: known.count + sentGift.quantity, coins: (BigInt(known.coins) + BigInt(sentGift.coins)).toString(), lastSequence: event.sequence, lastSentAtMs: sentAtMs }
        : {
            streakId: sentGift.id,
            comboId: sentGift.comboId,
            sender: sentGift.sender,
            gift: sentGift.gift,
            count: sentGift.quantity,
            coins: sentGift.coins,
            firstSequence: event.sequence,
            lastSequence: event.sequence,
            lastSentAtMs: sentAtMs,
          };
      open.set(key, streak);
      if (!announce) return;
      void say({ kind: known ? 'streakGrew' : 'streakStarted', liveSessionId: event.liveSessionId, sequence: event.sequence, streak: { ...streak } });
      // A gift outside any combo is a streak of one: it ends as it starts.
      if (sentGift.comboId === null) endStreak(streak);
    }

    /** The streaks open at `sequence`, rebuilt from the stored events before it (nothing said). */
    async function rebuild(liveSessionId: string, sequence: number) {
      const rows = await db.roomEvent.findMany({
        where: { liveSessionId, sequence: { lte: sequence } },
        orderBy: { sequence: 'desc' },
        take: REBUILD_EVENTS,
        select: { payload: true },
      });
      for (const row of rows.reverse()) {
        const event = row.payload as RoomGiftEvent;
        if (!event.manualMatch) fold(event, false);
      }
      // Those gone quiet meanwhile ended while the page was away: it let their alerts go on its own clock.
      for (const [key, streak] of open) if (streak.lastSentAtMs + streakQuietMs <= Date.now()) open.delete(key);
    }

    /** Waits for `ms`, or until the overlay stops. */
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeWaiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    try {
      let waitingSaid = false;
      while (!stopped) {
        const session = await db.liveSession.findFirst({
          where: { creatorId, status: LiveSessionStatus.LIVE },
          select: { id: true, lastSequence: true, goalCoins: true, totalCoins: true, goalReachedAt: true },
        });
        if (!session) {
          if (!waitingSaid) await say({ kind: 'waiting', liveSessionId: null, sequence: 0 });
          waitingSaid = true;
          await pause(checkMs);
          continue;
        }
        waitingSaid = false;
        // Resuming in the session the page knows: after its sequence. A session it has not seen (the one it
        // knew ended): from its first gift. A first visit: from now.
        const from = cursor === null ? session.lastSequence : cursor.liveSessionId === session.id ? Math.min(cursor.sequence, session.lastSequence) : 0;
        open.clear();
        if (cursor?.liveSessionId === session.id && from > 0) await rebuild(session.id, from);
        current = { liveSessionId: session.id, sequence: from };
        const [viewers] = await presence.viewers([session.id]);
        const top = await db.sessionSupporter.findMany({
          where: { liveSessionId: session.id },
          orderBy: [{ coins: 'desc' }, { senderId: 'asc' }],
          take: 3,
          select: { coins: true, sender: { select: { id: true, handle: true, displayName: true } } },
        });
        await say({
          kind: 'state',
          liveSessionId: session.id,
          sequence: from,
          goal:
            session.goalCoins === null
              ? null
              : { goalCoins: session.goalCoins.toString(), progressCoins: session.totalCoins.toString(), reached: session.goalReachedAt !== null },
          top: top.map((row) => ({ sender: row.sender, coins: row.coins.toString() })),
          viewers: viewers ?? 0,
        });
        try {
          room = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: from });
        } catch {
          // It ended (or the resume point is gone) between the read and the subscription: look again.
          cursor = { liveSessionId: session.id, sequence: from };
          continue;
        }
        if (stopped) await room.return?.();
        try {
          for await (const item of room) {
            const liveSessionId = session.id;
            if (item.kind === 'gift' && item.event.manualMatch) {
              // A brand's later match of a gift: an alert of its own, never another tap of the gift.
              current = { liveSessionId, sequence: item.event.sequence };
              const { manualMatch, sentGift, sequence } = item.event;
              void say({ kind: 'match', liveSessionId, sequence, match: manualMatch, sentGift, manual: true });
            } else if (item.kind === 'gift') {
              current = { liveSessionId, sequence: item.event.sequence };
              fold(item.event, true);
              const { sentGift, sequence } = item.event;
              for (const match of item.event.matches ?? []) void say({ kind: 'match', liveSessionId, sequence, match, sentGift, manual: false });
              if (item.event.leaderboard) void say({ kind: 'top', liveSessionId, sequence: item.event.sequence, top: item.event.leaderboard });
              if (item.event.goal) void say({ kind: 'goal', liveSessionId, sequence: item.event.sequence, goal: item.event.goal });
            } else if (item.kind === 'viewers') void say({ kind: 'viewers', liveSessionId, sequence: current.sequence, viewers: item.viewers });
            else if (item.kind === 'goalSet') {
              void say({ kind: 'goal', liveSessionId, sequence: current.sequence, goal: { goalCoins: item.goalCoins, progressCoins: item.progressCoins, reached: false } });
            } else if (item.kind === 'ended') {
              for (const streak of open.values()) endStreak(streak);
              void say({ kind: 'ended', liveSessionId, sequence: current.sequence });
            }
            await said;
          }
        } catch {
          // Let go of as too slow (RESUME_REQUIRED), or the database failed a replay: resume from storage
          // after a pause.
          await pause(checkMs);
        }
        room = undefined;
        // The stream ended (the session did, or it let go of a slow overlay): carry on from where it was.
        cursor = current;
      }
    } finally {
      clearInterval(checks);
      clearInterval(ticks);
    }
  });
}
