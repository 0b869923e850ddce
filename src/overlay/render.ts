import type { Settings } from './settings.js';

// Everything a viewer typed (display names) and every catalog text goes in with textContent, never as
// markup. Class names are documented in the README ("Add Ovation to OBS") for OBS's Custom CSS field.

type Person = { handle: string; displayName: string };
export type Streak = {
  streakId: string;
  count: number;
  coins: string;
  firstSequence: number;
  lastSequence: number;
  sender: Person;
  gift: { name: string; imageUrl: string };
};
type Gifter = { rank: number; coins: string; user: Person };
type Goal = { goalCoins: string; progressCoins: string; reached: boolean };

export type OverlayEvent = { __typename: string; liveSessionId: string | null; sequence: number } & Partial<{
  streak: Streak;
  goal: Goal | null;
  goalCoins: string;
  progressCoins: string;
  reached: boolean;
  top: Gifter[];
  viewers: number;
  matchId: string;
  brand: { name: string };
  coins: string;
  manual: boolean;
  sender: Person;
  gift: { name: string; imageUrl: string };
}>;

/** Gift-bearing events: each is one gift, rendered once (the page skips any at or before its cursor). */
export const GIFT_EVENTS = new Set(['StreakStartedEvent', 'StreakGrewEvent']);

/**
 * One kind of alert: how its events become alerts (gift streaks, and brands' matches of gifts). The
 * fields each needs are in the subscription, overlay.graphql.
 */
export type AlertKind = {
  /** The alert an event opens or updates, or null if it is not this kind's. */
  alertOf(event: OverlayEvent): { id: string; coins: bigint; ended: boolean; fill(element: HTMLElement): void } | null;
};

const coinsText = (coins: bigint) => `${coins.toLocaleString('en-US')} ${coins === 1n ? 'coin' : 'coins'}`;

function part(parent: HTMLElement, tag: string, className: string, text?: string): HTMLElement {
  let element = parent.querySelector<HTMLElement>(`:scope > .${className}`);
  if (!element) {
    element = document.createElement(tag);
    element.className = className;
    parent.append(element);
  }
  if (text !== undefined) element.textContent = text;
  return element;
}

export const giftStreakAlerts: AlertKind = {
  alertOf(event) {
    const { streak } = event;
    if (!streak) return null;
    return {
      id: `streak:${streak.streakId}`,
      coins: BigInt(streak.coins),
      ended: event.__typename === 'StreakEndedEvent',
      fill(element) {
        element.dataset.streakId = streak.streakId;
        element.dataset.count = String(streak.count);
        element.dataset.firstSequence ??= String(streak.firstSequence);
        element.dataset.lastSequence = String(streak.lastSequence);
        const image = part(element, 'img', 'ovation-alert-image') as HTMLImageElement;
        image.alt = '';
        image.referrerPolicy = 'no-referrer';
        image.onerror = () => (image.hidden = true);
        if (image.getAttribute('src') !== streak.gift.imageUrl) image.src = streak.gift.imageUrl;
        const text = part(element, 'div', 'ovation-alert-text');
        part(text, 'span', 'ovation-alert-sender', streak.sender.displayName);
        part(text, 'span', 'ovation-alert-action', ' sent ');
        part(text, 'span', 'ovation-alert-gift', streak.gift.name);
        part(element, 'span', 'ovation-alert-count', `×${streak.count}`);
        part(element, 'span', 'ovation-alert-coins', coinsText(BigInt(streak.coins)));
      },
    };
  },
};

/** A brand matched a gift: "<Brand> matched <sender>'s <gift>", with the coins it added. */
export const matchAlerts: AlertKind = {
  alertOf(event) {
    if (event.__typename !== 'OverlayMatchEvent' || !event.matchId || !event.brand || !event.sender || !event.gift) return null;
    const { matchId, brand, sender, gift, coins } = event;
    return {
      id: `match:${matchId}`,
      coins: BigInt(coins ?? '0'),
      ended: false,
      fill(element) {
        element.classList.add('ovation-alert--match');
        element.dataset.matchId = matchId;
        const text = part(element, 'div', 'ovation-alert-text');
        part(text, 'span', 'ovation-alert-brand', brand.name);
        part(text, 'span', 'ovation-alert-action', ' matched ');
        part(text, 'span', 'ovation-alert-sender', sender.displayName);
        part(text, 'span', 'ovation-alert-gift', ` ${gift.name}`);
        part(element, 'span', 'ovation-alert-coins', `+${coinsText(BigInt(coins ?? '0'))}`);
      },
    };
  },
};

export const ALERT_KINDS: AlertKind[] = [giftStreakAlerts, matchAlerts];

/** The alerts overlay: one alert per streak, growing in place, gone `durationMs` after it last changed. */
export function alertsRenderer(container: HTMLElement, settings: Settings, kinds = ALERT_KINDS) {
  const shown = new Map<string, { element: HTMLElement; timer: ReturnType<typeof setTimeout> }>();
  const remove = (id: string) => {
    const alert = shown.get(id);
    if (!alert) return;
    clearTimeout(alert.timer);
    shown.delete(id);
    alert.element.remove();
  };
  return (event: OverlayEvent) => {
    for (const kind of kinds) {
      const alert = kind.alertOf(event);
      if (!alert) continue;
      const existing = shown.get(alert.id);
      // Below the minimum, no alert: a growing streak that passes it appears then.
      if (!existing && (alert.ended || alert.coins < BigInt(settings.minCoins))) return;
      let element = existing?.element;
      if (!element) {
        element = document.createElement('div');
        element.className = 'ovation-alert';
        container.prepend(element);
        if (settings.sound) beep();
      } else clearTimeout(existing!.timer);
      alert.fill(element);
      // A pop as the count grows: the Web Animations API, which (unlike restarting a CSS animation) forces no layout.
      if (existing && !alert.ended) element.querySelector('.ovation-alert-count')?.animate([{ transform: 'scale(1)' }, { transform: 'scale(1.3)' }, { transform: 'scale(1)' }], 200);
      element.classList.toggle('ovation-alert--ended', alert.ended);
      shown.set(alert.id, { element, timer: setTimeout(() => remove(alert.id), settings.durationMs) });
      while (shown.size > settings.maxAlerts) remove(shown.keys().next().value!);
      return;
    }
  };
}

let audio: AudioContext | undefined;
/** A short chime made on the spot (no sound file to fetch). */
function beep() {
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch {
    // No audio here (a browser without it): the alert shows all the same.
  }
}

/** The goal bar: a fill as wide as the progress, and the numbers. Hidden while there is no goal. */
export function goalRenderer(container: HTMLElement) {
  const label = part(container, 'div', 'ovation-goal-label', 'Goal');
  void label;
  const bar = part(container, 'div', 'ovation-goal-bar');
  const fill = part(bar, 'div', 'ovation-goal-fill');
  const numbers = part(container, 'div', 'ovation-goal-numbers');
  const show = (goal: Goal | null) => {
    container.hidden = goal === null;
    if (!goal) return;
    const [progress, target] = [BigInt(goal.progressCoins), BigInt(goal.goalCoins)];
    const percent = target > 0n ? Number((progress * 1000n) / target) / 10 : 0;
    fill.style.width = `${Math.min(100, percent)}%`;
    numbers.textContent = `${progress.toLocaleString('en-US')} / ${target.toLocaleString('en-US')}`;
    container.dataset.progress = goal.progressCoins;
    container.classList.toggle('ovation-goal--reached', goal.reached || progress >= target);
  };
  show(null);
  return (event: OverlayEvent) => {
    if (event.__typename === 'OverlayStateEvent') show(event.goal ?? null);
    if (event.__typename === 'OverlayGoalEvent') show({ goalCoins: event.goalCoins!, progressCoins: event.progressCoins!, reached: event.reached! });
  };
}

/** The top gifters, highest first. */
export function topGiftersRenderer(container: HTMLElement) {
  const list = part(container, 'ol', 'ovation-top-list');
  return (event: OverlayEvent) => {
    if (event.__typename !== 'OverlayStateEvent' && event.__typename !== 'OverlayTopGiftersEvent') return;
    list.replaceChildren(
      ...(event.top ?? []).map((gifter) => {
        const entry = document.createElement('li');
        entry.className = 'ovation-top-entry';
        part(entry, 'span', 'ovation-top-rank', String(gifter.rank));
        part(entry, 'span', 'ovation-top-name', gifter.user.displayName);
        part(entry, 'span', 'ovation-top-coins', BigInt(gifter.coins).toLocaleString('en-US'));
        return entry;
      }),
    );
  };
}

/** How many watch (overlays are not counted). */
export function viewersRenderer(container: HTMLElement) {
  const count = part(container, 'span', 'ovation-viewers-count', '0');
  part(container, 'span', 'ovation-viewers-label', ' watching');
  return (event: OverlayEvent) => {
    if (event.viewers !== undefined) count.textContent = event.viewers.toLocaleString('en-US');
  };
}
