import { z } from 'zod';
import type { Database } from '../db/client.js';
import type { Gift } from '../generated/prisma/client.js';
import { NotFoundError } from './errors.js';
import { validate } from './validation.js';

const country = z.string().regex(/^[A-Z]{2}$/, 'must be ISO 3166-1 alpha-2 codes such as "US"');
const url = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

const giftFields = {
  name: z.string().trim().min(1, 'must not be empty').max(40),
  coins: z.bigint().min(1n, 'must be at least 1 coin').max(1_000_000n, 'must be at most 1,000,000 coins'),
  imageUrl: url,
  animationUrl: url.nullish(),
  sortOrder: z.number().int().optional(),
  countries: z.array(country).optional(),
};

const newGift = z.object(giftFields);
const giftChange = z.object({ ...Object.fromEntries(Object.entries(giftFields).map(([k, v]) => [k, v.optional()])), active: z.boolean().optional() });

export type NewGift = z.input<typeof newGift>;
export type GiftChange = Partial<NewGift> & { active?: boolean };

/** The gift catalog as a viewer in `country` sees it: active gifts offered there, in display order. */
export function giftsFor(db: Database, country: string | null) {
  return db.gift.findMany({
    where: { active: true, ...(country ? { OR: [{ countries: { isEmpty: true } }, { countries: { has: country } }] } : {}) },
    orderBy: [{ sortOrder: 'asc' }, { coins: 'asc' }],
  });
}

export function createGift(db: Database, input: NewGift): Promise<Gift> {
  return db.gift.create({ data: validate(newGift, input) });
}

/** Changes a gift for the future; gifts already sent keep the coins they cost. */
export async function updateGift(db: Database, giftId: string, input: GiftChange): Promise<Gift> {
  const data = validate(giftChange, input) as GiftChange;
  const updated = await db.gift.updateMany({ where: { id: giftId }, data });
  if (updated.count === 0) throw new NotFoundError('Gift');
  return db.gift.findUniqueOrThrow({ where: { id: giftId } });
}
