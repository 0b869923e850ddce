import type { Cursor } from './connection.js';

/**
 * The page's cursor, kept across reloads: OBS reloads a source it shut down while hidden (or on "Refresh"),
 * and the page then resumes where it was, showing what it missed once. Only for a short while: after a
 * long absence the page starts from now rather than replaying everything that happened meanwhile.
 */
const RESUME_WINDOW_MS = 120_000;
const SAVE_EVERY_MS = 500;

/** FNV-1a of the token: the storage key tells overlays apart without holding the secret. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16);
}

export function cursorMemory(token: string, page: string) {
  const key = `ovation-overlay:${page}:${fingerprint(token)}`;
  let latest: Cursor | null = null;
  let saving: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    saving = undefined;
    try {
      if (latest) localStorage.setItem(key, JSON.stringify({ ...latest, savedAt: Date.now() }));
    } catch {
      // No storage here: a reload starts from now.
    }
  };
  addEventListener('pagehide', save);
  return {
    recall(): Cursor | null {
      try {
        const saved = JSON.parse(localStorage.getItem(key) ?? 'null') as (Cursor & { savedAt: number }) | null;
        return saved && Date.now() - saved.savedAt < RESUME_WINDOW_MS ? { liveSessionId: saved.liveSessionId, sequence: saved.sequence } : null;
      } catch {
        return null;
      }
    },
    /** Saved at most every half second (a burst of gifts writes once), and when the page goes. */
    keep(cursor: Cursor) {
      latest = cursor;
      saving ??= setTimeout(save, SAVE_EVERY_MS);
    },
  };
}
