import { follow, type Cursor, type Final } from './connection.js';
import { alertsRenderer, GIFT_EVENTS, goalRenderer, topGiftersRenderer, viewersRenderer, type OverlayEvent } from './render.js';
import { cursorMemory } from './memory.js';
import { readSettings } from './settings.js';
import { OverlayDocument } from '../generated/overlay/graphql.js';

// A stream overlay (an OBS browser source): /overlay/<kind>?<settings>#token=<overlay token>. The server
// folds gifts into streaks; this page renders what it hears, each gift once, and keeps listening.

// The subscription is src/overlay/overlay.graphql, which codegen replaces with its trusted document's id:
// the server always trusts it (src/edge/trusted-documents.ts), so the page sends only the id.
const { hash: documentId } = (OverlayDocument as unknown as { __meta__: { hash: string } }).__meta__;

const MESSAGES: Record<Final | 'no-token', string> = {
  revoked: "This overlay's token was revoked. Create a new one in Ovation and update this source's URL.",
  'unknown-token': 'Ovation does not know this overlay token. Copy the overlay URL again from Ovation.',
  'no-token': 'No overlay token: the URL must end with #token=<your overlay token>.',
};

const root = document.getElementById('ovation')!;
const status = document.createElement('div');
status.className = 'ovation-status';
status.setAttribute('role', 'status');
const settings = readSettings(location, document.documentElement);
const kind = document.body.dataset.overlay;
const content = document.createElement('div');
content.className = `ovation-${kind}`;
root.append(content, status);
const render = (
  { alerts: () => alertsRenderer(content, settings), goal: () => goalRenderer(content), 'top-gifters': () => topGiftersRenderer(content), viewers: () => viewersRenderer(content) } as Record<
    string,
    () => (event: OverlayEvent) => void
  >
)[kind ?? '']?.();

const memory = settings.token ? cursorMemory(settings.token, location.pathname) : undefined;
let cursor: Cursor | null = memory?.recall() ?? null;
const state = (value: string) => {
  root.dataset.state = value;
  if (value in MESSAGES) status.textContent = MESSAGES[value as keyof typeof MESSAGES];
};

function onEvent(event: OverlayEvent): Final | void {
  if (event.__typename === 'OverlayTokenRevokedEvent') return 'revoked';
  if (event.__typename === 'OverlayWaitingEvent' || event.__typename === 'OverlaySessionEndedEvent') state('waiting');
  else state('live');
  const { liveSessionId, sequence } = event;
  if (liveSessionId === null) return;
  const sameSession = cursor?.liveSessionId === liveSessionId;
  // A gift at or before the cursor was rendered already (a resumed stream can repeat none, but a page must not trust that).
  if (GIFT_EVENTS.has(event.__typename) && sameSession && sequence <= cursor!.sequence) return;
  if (!sameSession || sequence > cursor!.sequence) {
    cursor = { liveSessionId, sequence };
    memory?.keep(cursor);
    root.dataset.sequence = String(sequence);
  }
  render?.(event);
}

if (!settings.token) state('no-token');
else {
  const url = new URL('../graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  void follow<OverlayEvent>({
    url: url.href,
    documentId,
    variables: (from) => ({ overlayToken: settings.token, streakQuietMs: settings.streakQuietMs, ...(from ? { liveSessionId: from.liveSessionId, after: from.sequence } : {}) }),
    cursor: () => cursor,
    forget: () => (cursor = null),
    onEvent,
    // Live once the first event (where the session stands) has been rendered, not at the socket's open.
    onStatus: state,
  });
}
