// Makes an existing account an admin: how the first admin comes to be (after that, admins use setAdmin).
// Usage: npm run admin:grant -- <handle>
// Works on DATABASE_URL when set; else the embedded cluster in OVATION_DATA_DIR (default .ovation), which it
// starts and stops itself, so the server must not be running on that data directory at the same time.
// The change is recorded in RoleChange (no admin: the command line). With REDIS_URL set, it is announced on
// the event bus, so running instances apply it at once; without, a running server (which remembers roles
// at most a minute, src/edge/accounts.ts) applies it within a minute.
// Exit code: 0 granted (or already an admin), 1 no such account, 2 it could not run.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPrismaClient } from '../src/db/client.js';
import type { EmbeddedDatabase } from '../src/db/embedded.js';
import { changeRole } from '../src/domain/roles.js';
import { createAnnouncer, silentAnnouncer } from '../src/events/announcer.js';
import { createEventBus } from '../src/events/pubsub.js';
import { createLogger } from '../src/logger.js';
import { Role } from '../src/generated/prisma/client.js';
import { startExisting, type Output } from './ledger-audit.js';

const consoleOutput: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

export const EXIT = { granted: 0, notFound: 1, failed: 2 } as const;

export async function runAdminGrant(args: string[], env: NodeJS.ProcessEnv = process.env, { out, err }: Output = consoleOutput): Promise<number> {
  const handle = args[0]?.replace(/^@/, '').toLowerCase();
  if (!handle) {
    err('Usage: npm run admin:grant -- <handle>');
    return EXIT.failed;
  }
  let url = env.DATABASE_URL || undefined;
  let embedded: EmbeddedDatabase | undefined;
  if (!url) {
    const started = await startExisting(path.join(path.resolve(env.OVATION_DATA_DIR || '.ovation'), 'postgres'), err);
    if (!started) return EXIT.failed;
    embedded = started;
    url = started.url;
  }
  const db = createPrismaClient(url, 2);
  const bus = env.REDIS_URL ? createEventBus(env.REDIS_URL, createLogger('warn')) : undefined;
  try {
    const user = await db.user.findUnique({ where: { handle } });
    if (!user) {
      err(`No account @${handle}`);
      return EXIT.notFound;
    }
    if (user.roles.includes(Role.ADMIN)) {
      out(`@${handle} is already an admin`);
      return EXIT.granted;
    }
    await changeRole(db, bus ? createAnnouncer(bus) : silentAnnouncer, { userId: user.id, role: Role.ADMIN, granted: true, reason: 'granted with npm run admin:grant', adminId: null });
    out(`@${handle} is now an admin${bus ? '' : ' (a running server without Redis applies it within a minute)'}`);
    return EXIT.granted;
  } catch (error) {
    err(`Could not grant admin: ${(error as Error).message?.trim() || String(error)}`);
    return EXIT.failed;
  } finally {
    await bus?.close();
    await db.$disconnect();
    await embedded?.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exit(await runAdminGrant(process.argv.slice(2)));
}
