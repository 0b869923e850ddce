import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/client.js';
import { createAuth } from '../../src/edge/auth.js';
import { Role, type User } from '../../src/generated/prisma/client.js';
import { TEST_JWT_SECRET } from './server.js';

const auth = createAuth(TEST_JWT_SECRET, 3600);

/** An adult US viewer unless told otherwise, with a unique handle. */
export async function createUser(db: Database, overrides: Partial<Omit<User, 'id'>> = {}): Promise<User> {
  return db.user.create({
    data: {
      handle: `user_${randomBytes(5).toString('hex')}`,
      displayName: 'Test User',
      birthDate: new Date('1990-01-01'),
      country: 'US',
      roles: [Role.VIEWER],
      ...overrides,
    },
  });
}

/** A bearer token for the user, as the server would issue it: it names the account only; its roles are read from the database. */
export function tokenFor(user: Pick<User, 'id'>): Promise<string> {
  return auth.issueToken({ userId: user.id });
}
