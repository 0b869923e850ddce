import type { Database } from '../src/db/client.js';
import { Role } from '../src/generated/prisma/client.js';

/** Demo accounts, so a fresh server has someone to be. Get a token with `devToken(handle:)`. */
export const DEMO_USERS = [
  { handle: 'ada', displayName: 'Ada (viewer)', birthDate: new Date('1990-04-12'), country: 'US', roles: [Role.VIEWER] },
  { handle: 'max', displayName: 'Max Live (creator)', birthDate: new Date('1994-09-30'), country: 'US', roles: [Role.VIEWER, Role.CREATOR] },
  { handle: 'mina', displayName: 'Mina (viewer, Korea)', birthDate: new Date('1999-01-20'), country: 'KR', roles: [Role.VIEWER] },
  { handle: 'sam', displayName: 'Sam (16, under age)', birthDate: new Date(Date.UTC(new Date().getUTCFullYear() - 16, 0, 1)), country: 'GB', roles: [Role.VIEWER] },
  { handle: 'acme', displayName: 'Acme Drinks (brand)', birthDate: new Date('1980-01-01'), country: 'US', roles: [Role.VIEWER, Role.BRAND] },
  { handle: 'ops', displayName: 'Ops (admin)', birthDate: new Date('1985-06-01'), country: 'US', roles: [Role.VIEWER, Role.ADMIN] },
];

/** Seeds once: a database that already has users is left alone. Returns whether it seeded. */
export async function seedDemoData(db: Database): Promise<boolean> {
  if ((await db.user.count()) > 0) return false;
  await db.$transaction(async (tx) => {
    await tx.user.createMany({ data: DEMO_USERS });
  });
  return true;
}
