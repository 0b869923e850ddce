import type { Database } from '../src/db/client.js';
import { createBundle, type NewBundle } from '../src/domain/bundles.js';
import { createGift, type NewGift } from '../src/domain/catalog.js';
import { createGiftSender } from '../src/domain/gifting.js';
import { startLiveSession } from '../src/domain/live-sessions.js';
import { createSandboxProvider, SANDBOX_METHODS } from '../src/domain/payments/sandbox.js';
import { SANDBOX_PAYEES } from '../src/domain/payouts/sandbox.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { purchaseCoins } from '../src/domain/purchases.js';
import { silentAnnouncer } from '../src/events/announcer.js';
import { PayoutMethodKind, Role } from '../src/generated/prisma/client.js';

/** Demo accounts, so a fresh server has someone to be. Get a token with `devToken(input: { handle })`. */
export const DEMO_USERS = [
  { handle: 'ada', displayName: 'Ada (viewer)', birthDate: new Date('1990-04-12'), country: 'US', roles: [Role.VIEWER] },
  { handle: 'max', displayName: 'Max Live (creator)', birthDate: new Date('1994-09-30'), country: 'US', roles: [Role.VIEWER, Role.CREATOR] },
  { handle: 'mina', displayName: 'Mina (viewer, Korea)', birthDate: new Date('1999-01-20'), country: 'KR', roles: [Role.VIEWER] },
  { handle: 'sam', displayName: 'Sam (16, under age)', birthDate: new Date(Date.UTC(new Date().getUTCFullYear() - 16, 0, 1)), country: 'GB', roles: [Role.VIEWER] },
  { handle: 'acme', displayName: 'Acme Drinks (brand)', birthDate: new Date('1980-01-01'), country: 'US', roles: [Role.VIEWER, Role.BRAND] },
  { handle: 'ops', displayName: 'Ops (admin)', birthDate: new Date('1985-06-01'), country: 'US', roles: [Role.VIEWER, Role.ADMIN] },
];

const price = (region: string, amountMinor: bigint, currency: string) => ({ region, amountMinor, currency });

const DEMO_BUNDLES: NewBundle[] = [
  { name: '70 coins', coins: 70n, sortOrder: 1, prices: [price('DEFAULT', 99n, 'USD'), price('EU', 99n, 'EUR'), price('GB', 89n, 'GBP'), price('KR', 1400n, 'KRW')] },
  { name: '350 coins', coins: 350n, sortOrder: 2, prices: [price('DEFAULT', 499n, 'USD'), price('EU', 499n, 'EUR'), price('GB', 449n, 'GBP'), price('KR', 6900n, 'KRW')] },
  { name: '1,400 coins', coins: 1400n, bonusCoins: 70n, sortOrder: 3, prices: [price('DEFAULT', 1999n, 'USD'), price('EU', 1999n, 'EUR'), price('GB', 1799n, 'GBP')] },
  { name: '7,000 coins', coins: 7000n, bonusCoins: 700n, sortOrder: 4, prices: [price('DEFAULT', 9999n, 'USD'), price('EU', 9999n, 'EUR')] },
];

const image = (name: string) => `https://cdn.ovation.example/gifts/${name}.png`;
const DEMO_GIFTS: NewGift[] = [
  { name: 'Rose', coins: 1n, imageUrl: image('rose'), sortOrder: 1 },
  { name: 'Finger Heart', coins: 5n, imageUrl: image('finger-heart'), sortOrder: 2 },
  { name: 'Doughnut', coins: 30n, imageUrl: image('doughnut'), sortOrder: 3 },
  { name: 'Hat and Mustache', coins: 99n, imageUrl: image('hat-and-mustache'), sortOrder: 4 },
  { name: 'Galaxy', coins: 1000n, imageUrl: image('galaxy'), animationUrl: image('galaxy-animation'), sortOrder: 5 },
  { name: 'Taeguk', coins: 50n, imageUrl: image('taeguk'), sortOrder: 6, countries: ['KR'] },
  { name: 'Lion', coins: 29_999n, imageUrl: image('lion'), animationUrl: image('lion-animation'), sortOrder: 7 },
  { name: 'Universe', coins: 34_999n, imageUrl: image('universe'), animationUrl: image('universe-animation'), sortOrder: 8 },
];

/** What @ada gifts @max in the seed: 15,400 coins, so @max can cash out (at least 10,000 diamonds). */
const SEED_GIFTS = [
  { name: 'Galaxy', quantity: 15 },
  { name: 'Hat and Mustache', quantity: 4 },
  { name: 'Rose', quantity: 4 },
];

/**
 * Seeds once: a database that already has users is left alone. Users, bundles, the gift catalog,
 * a live session by @max, coins for @ada and @mina bought through the sandbox payment provider, gifts
 * from @ada that earned @max 15,400 diamonds, and a verified sandbox payout method for @max.
 * Returns whether it seeded.
 */
export async function seedDemoData(db: Database): Promise<boolean> {
  if ((await db.user.count()) > 0) return false;
  await db.user.createMany({ data: DEMO_USERS });
  const bundles: { id: string }[] = [];
  for (const bundle of DEMO_BUNDLES) bundles.push(await createBundle(db, bundle));
  for (const gift of DEMO_GIFTS) await createGift(db, gift);
  const max = await db.user.findUniqueOrThrow({ where: { handle: 'max' } });
  await startLiveSession(db, DEFAULT_POLICY, max.id, { title: 'Friday night live' });
  const sandbox = createSandboxProvider('unused-for-charges');
  const buy = async (buyerId: string, key: string) =>
    purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, buyerId, { bundleId: bundles[3]!.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: key });
  for (const handle of ['ada', 'mina']) await buy((await db.user.findUniqueOrThrow({ where: { handle } })).id, `demo-seed-${handle}`);

  // @ada buys what she gifts @max, and keeps her 7,700 coins.
  const ada = await db.user.findUniqueOrThrow({ where: { handle: 'ada' } });
  for (const round of [1, 2]) await buy(ada.id, `demo-seed-ada-gifts-${round}`);
  const session = await db.liveSession.findFirstOrThrow({ where: { creatorId: max.id } });
  const gifts = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
  for (const { name, quantity } of SEED_GIFTS) {
    const gift = await db.gift.findFirstOrThrow({ where: { name } });
    await gifts.send(ada.id, { liveSessionId: session.id, giftId: gift.id, quantity, idempotencyKey: `demo-seed-gift-${name}` });
  }

  // Verified by @ops, as the payout provider's callback would: @max can be paid at once (in development).
  const ops = await db.user.findUniqueOrThrow({ where: { handle: 'ops' } });
  const now = new Date();
  await db.payoutMethod.create({
    data: {
      creatorId: max.id,
      kind: PayoutMethodKind.EMAIL_WALLET,
      destination: SANDBOX_PAYEES.pays.email,
      provider: 'sandbox',
      verifiedAt: now,
      verifiedById: ops.id,
      usableFrom: now,
    },
  });
  return true;
}
