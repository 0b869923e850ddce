import type { Database } from '../db/client.js';
import { AccountSuspendedError, NotAuthenticatedError } from '../domain/errors.js';
import type { Viewer } from '../domain/viewer.js';
import type { EventSubscriptions } from '../events/pubsub.js';
import type { Logger } from '../logger.js';

/**
 * The viewer behind a verified token, with its roles and standing (suspended or not) read from the
 * database, never from the token.
 * Each instance remembers accounts it has read, so a request (a gift among thousands) costs no statement
 * for them; a change to an account is announced (Announcer.accountChanged, after commit) and every
 * instance forgets it at once. The entry also expires after `ttlMs`, should an announcement be lost
 * while Redis is down.
 */
export type Accounts = {
  /** The signed-in viewer; NotAuthenticatedError when the account does not exist (any more), AccountSuspendedError while suspended. */
  viewer(userId: string): Promise<Viewer>;
  /** The account an identity provider's identity is tied to (IdentityLink), or undefined before its completeProfile. */
  linkedAccount(issuer: string, subject: string): Promise<string | undefined>;
  /** Called with each changed account, after it is forgotten (e.g. to close a suspended account's sockets). */
  onChange(listener: (userId: string) => void): void;
  close(): Promise<void>;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Accounts remembered at once; the oldest is forgotten first. */
const REMEMBERED = 100_000;

export function createAccounts(db: Database, events: EventSubscriptions, log: Logger, { ttlMs = 60_000 } = {}): Accounts {
  type Standing = { viewer: Viewer; suspended: boolean };
  const remembered = new Map<string, Standing & { readAtMs: number }>();
  const reading = new Map<string, Promise<Standing>>();
  const listeners: Array<(userId: string) => void> = [];
  // A link never changes once made, so a found one is remembered for good (a missing one is read again).
  const links = new Map<string, string>();
  // Bumped by every change: a read that began before one must not be remembered after it (it may hold
  // the roles from before the change).
  let changes = 0;
  const changed = events.subscribe('accountChanged');
  const listening = (async () => {
    for await (const { userId } of changed) {
      changes++;
      remembered.delete(userId);
      reading.delete(userId);
      for (const listener of listeners) listener(userId);
    }
  })().catch((error: unknown) => log.error({ err: error }, 'account change listener failed'));

  async function read(userId: string): Promise<Standing> {
    const before = changes;
    const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, roles: true, suspendedAt: true } });
    if (!user) throw new NotAuthenticatedError('The token names no account');
    const standing = { viewer: { userId: user.id, roles: user.roles }, suspended: user.suspendedAt !== null };
    if (changes === before) {
      if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
      remembered.set(userId, { ...standing, readAtMs: Date.now() });
    }
    return standing;
  }

  async function standingOf(userId: string): Promise<Standing> {
    const known = remembered.get(userId);
    if (known && Date.now() - known.readAtMs < ttlMs) return known;
    let pending = reading.get(userId);
    if (!pending) {
      pending = read(userId).finally(() => {
        if (reading.get(userId) === pending) reading.delete(userId);
      });
      reading.set(userId, pending);
    }
    return pending;
  }

  return {
    async viewer(userId) {
      if (!UUID.test(userId)) throw new NotAuthenticatedError('The token names no account');
      const { viewer, suspended } = await standingOf(userId);
      if (suspended) throw new AccountSuspendedError();
      return viewer;
    },
    onChange: (listener) => void listeners.push(listener),
    async linkedAccount(issuer, subject) {
      const key = `${issuer}\n${subject}`;
      const known = links.get(key);
      if (known) return known;
      const link = await db.identityLink.findUnique({ where: { issuer_subject: { issuer, subject } }, select: { userId: true } });
      if (!link) return undefined;
      if (links.size >= REMEMBERED) links.delete(links.keys().next().value!);
      links.set(key, link.userId);
      return link.userId;
    },
    async close() {
      await changed.return?.();
      await listening;
    },
  };
}
