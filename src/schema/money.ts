import { diamondsInUsd, type Rate as RateValue } from '../domain/policy.js';
import { Asset } from '../generated/prisma/client.js';
import { builder } from './builder.js';

export const AssetEnum = builder.enumType(Asset, { name: 'Asset' });

export const CashValue = builder.objectRef<{ currency: string; amount: string }>('CashValue').implement({
  description: 'An exact amount of real money, as a decimal string in the currency (e.g. "0.025" USD).',
  fields: (t) => ({
    currency: t.exposeString('currency', { description: 'ISO 4217.' }),
    amount: t.exposeString('amount'),
  }),
});

export const cashValueOf = (diamonds: bigint) => ({ currency: 'USD', amount: diamondsInUsd(diamonds) });

export const Rate = builder.objectRef<RateValue>('Rate').implement({
  description: 'An exact rational rate, numerator / denominator.',
  fields: (t) => ({
    numerator: t.field({ type: 'BigInt', resolve: (rate) => rate.numerator }),
    denominator: t.field({ type: 'BigInt', resolve: (rate) => rate.denominator }),
  }),
});
