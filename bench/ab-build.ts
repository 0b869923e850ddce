// This build's side of the A/B benches' contract (bench/ab.ts, docs/benchmarks.md). bench:gifts-ab and
// bench:fanout-ab, run from whichever checkout, start it here with this checkout's tsx and ask over IPC:
// it prepares a database with this build's migrations and domain code, and answers everything that
// depends on this build's schema, tokens and GraphQL documents, so that the harness knows none of it.
// It ends when the harness closes the channel.
import { createPrismaClient, type Database } from '../src/db/client.js';
import { applyMigrations, MIGRATIONS_DIR } from '../src/db/migrate.js';
import { CONTRACT, type Answer, type Audit, type Commit, type Prepared, type Question, type RoomStatus } from './ab.js';
import { commitsAfter, fundedUsers, giftSending, ledgerViolations, openCampaign, openRoom, roomStatus, serverPlan, topGifts, viewerSubscription } from './support.js';

let db: Database | undefined;
let liveSessionId = '';

async function answer(question: Question): Promise<Prepared | RoomStatus | Commit[] | Audit> {
  if (question.command === 'prepare') {
    await applyMigrations(question.databaseUrl, question.migrations ?? MIGRATIONS_DIR);
    db = createPrismaClient(question.databaseUrl, 4);
    const room = await openRoom(db, 'A/B benchmark');
    liveSessionId = room.session.id;
    if (question.matching) await openCampaign(db, room);
    const senders = await fundedUsers(db, question.senders, 'bench_sender');
    return {
      server: await serverPlan(question.databaseUrl),
      gifts: await giftSending(room, senders),
      topGifts: await topGifts(db, room, question.topGifters),
      viewers: viewerSubscription(room.liveSessionId),
    };
  }
  if (!db) throw new Error(`'${question.command}' before 'prepare'`);
  if (question.command === 'room') return roomStatus(db, liveSessionId);
  if (question.command === 'commits') return commitsAfter(db, liveSessionId, question.after);
  return { violations: await ledgerViolations(db) };
}

process.on('message', (question: Question) => {
  answer(question).then(
    (result) => process.send!({ id: question.id, result } satisfies Answer),
    (error: Error) => process.send!({ id: question.id, error: error.stack ?? String(error) } satisfies Answer),
  );
});
process.on('disconnect', () => void (db?.$disconnect() ?? Promise.resolve()).finally(() => process.exit(0)));
process.send!({ contract: CONTRACT });
