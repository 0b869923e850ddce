import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import type { BundlePrice, CoinBundle } from '../generated/prisma/client.js';
import { NotFoundError } from './errors.js';
import { validate } from './validation.js';

/** Countries priced together when a bundle has an "EU" price and no price of their own. */
const REGION_GROUPS: Record<string, string[]> = {
  EU: ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'],
};
export const DEFAULT_REGION = 'DEFAULT';

/** Where a country's price comes from, most specific first: the country, its region group, DEFAULT. */
export function priceRegionsFor(country: string): string[] {
  const groups = Object.entries(REGION_GROUPS).filter(([, members]) => members.includes(country)).map(([group]) => group);
  return [country, ...groups, DEFAULT_REGION];
}

export function priceFor(prices: BundlePrice[], country: string): BundlePrice | undefined {
  for (const region of priceRegionsFor(country)) {
    const price = prices.find((candidate) => candidate.region === region);
    if (price) return price;
  }
  return undefined;
}

export type PricedBundle = CoinBundle & { price: BundlePrice };

/** The price sheet for a country: bundles on sale there, each at its regional price. */
export async function priceSheet(db: Database, country: string): Promise<PricedBundle[]> {
  const bundles = await db.coinBundle.findMany({
    where: { retiredAt: null, prices: { some: { region: { in: priceRegionsFor(country) } } } },
    include: { prices: { where: { region: { in: priceRegionsFor(country) } } } },
    orderBy: [{ sortOrder: 'asc' }, { coins: 'asc' }],
  });
  return bundles.map(({ prices, ...bundle }) => ({ ...bundle, price: priceFor(prices, country)! }));
}

const region = z.string().regex(/^([A-Z]{2}|[A-Z]{2,10})$/, 'must be a country code, a region group such as EU, or DEFAULT');
const price = z.object({
  region,
  amountMinor: z.bigint().min(1n, 'must be positive').max(10n ** 9n, 'is too large'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "USD"'),
});
const newBundle = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(60),
  coins: z.bigint().min(1n, 'must be at least 1').max(10n ** 9n, 'is too large'),
  bonusCoins: z.bigint().min(0n).max(10n ** 9n).default(0n),
  sortOrder: z.number().int().default(0),
  prices: z.array(price).min(1, 'give at least one price').refine((prices) => new Set(prices.map((p) => p.region)).size === prices.length, 'one price per region'),
});

export type PriceInput = z.input<typeof price>;
export type NewBundle = z.input<typeof newBundle>;

export async function createBundle(db: Database, input: NewBundle): Promise<CoinBundle> {
  const { prices, ...bundle } = validate(newBundle, input);
  return db.coinBundle.create({ data: { ...bundle, prices: { create: prices } } });
}

/** New prices for the given regions; purchases already made keep the price they paid. */
export async function repriceBundle(db: Database, bundleId: string, input: PriceInput[]): Promise<CoinBundle> {
  const prices = validate(z.array(price).min(1, 'give at least one price'), input);
  return transaction(db, async (tx) => {
    const bundle = await tx.coinBundle.findUnique({ where: { id: bundleId } });
    if (!bundle) throw new NotFoundError('Coin bundle');
    for (const { region: priceRegion, ...rest } of prices) {
      await tx.bundlePrice.upsert({
        where: { bundleId_region: { bundleId, region: priceRegion } },
        create: { bundleId, region: priceRegion, ...rest },
        update: rest,
      });
    }
    return bundle;
  });
}

/** A retired bundle can no longer be bought. */
export async function retireBundle(db: Database, bundleId: string, now = new Date()): Promise<CoinBundle> {
  await db.coinBundle.updateMany({ where: { id: bundleId, retiredAt: null }, data: { retiredAt: now } });
  const bundle = await db.coinBundle.findUnique({ where: { id: bundleId } });
  if (!bundle) throw new NotFoundError('Coin bundle');
  return bundle;
}
