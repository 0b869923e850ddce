import type { Database } from './client.js';
import { Prisma } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;

const MAX_ATTEMPTS = 8;

/**
 * The one way to run a unit of work: every check and effect of one request inside one transaction.
 * A serialization failure or deadlock is retried (with jittered back-off), never surfaced to the caller.
 */
export async function transaction<T>(
  db: Database,
  work: (tx: Tx) => Promise<T>,
  // PostgreSQL's default, READ COMMITTED, unless asked: naming a level costs a round trip of its own.
  { isolationLevel }: { isolationLevel?: Prisma.TransactionIsolationLevel } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(work, { ...(isolationLevel ? { isolationLevel } : {}), maxWait: 10_000, timeout: 30_000 });
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));
    }
  }
}

// 40001 serialization_failure, 40P01 deadlock_detected; Prisma reports them as P2034 or as raw codes.
function isRetryable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code === 'P2034') return true;
    const code = (error.meta as { code?: string } | undefined)?.code;
    if (code === '40001' || code === '40P01') return true;
  }
  const text = String((error as Error)?.message ?? '');
  return /40001|40P01|could not serialize access|deadlock detected/.test(text);
}
