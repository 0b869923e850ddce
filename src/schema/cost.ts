import type { FieldComplexityValue } from '@pothos/plugin-complexity';

// What a query costs (Pothos's complexity plugin adds it up; src/edge/query-limits.ts sets the limit):
// every field costs 1, and a field's selection counts once per item the field may return. Costs are
// fixed numbers but where an argument sizes the list, so measuring reads no other field's arguments.

/** Items counted for a list nothing sizes: the gift catalog, a bundle's prices, the top three. */
export const UNSIZED_LIST = 10;
/** A connection's page: its size without `first` or `last`, and the most it returns whatever they ask. */
export const CONNECTION_PAGE = { default: 20, max: 100 } as const;

/** A field that returns up to `items` of what it selects. */
export const itemsCost = (items: number): FieldComplexityValue => ({ field: 1, multiplier: items });

/** A connection: the page `first` or `last` asks for, up to the most it returns. Every connection field declares it. */
export const connectionCost = ({ first, last }: { first?: number | null; last?: number | null }) =>
  itemsCost(Math.min(first ?? last ?? CONNECTION_PAGE.default, CONNECTION_PAGE.max));

/** A connection's edges, already counted once per item by the connection. */
export const EDGES_COST = itemsCost(1);
