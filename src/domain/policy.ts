/** The platform's published rules of the economy, set by configuration (see README). */
export type Policy = {
  /** Minimum age for buying, gifting, receiving, going live and cashing out, by country; DEFAULT elsewhere. */
  ageGates: { DEFAULT: number } & Record<string, number>;
  platformDailyCapCoins: bigint;
  platformWeeklyCapCoins: bigint;
  /** How long a raised personal limit waits before it applies. */
  limitRaiseCoolingOffMs: number;
  /** How long a changed country waits before it applies (the stricter age gate of the two holds meanwhile). */
  countryChangeCoolingOffMs: number;
  payouts: PayoutRules;
};

/** What creators may cash out, and how (docs/payouts.md). Payouts are in US dollars; amounts in cents. */
export type PayoutRules = {
  /** The fewest diamonds one payout may hold. */
  minimumDiamonds: bigint;
  /** Cash a creator's payouts of one UTC day may add up to (requested, approved, processing or paid). */
  dailyCapCents: bigint;
  /** Kept from every payout; what arrives is its cash value less this. */
  feeCents: bigint;
  /** Payouts up to this are approved without an operator when nothing holds them; null: every one is reviewed. */
  autoApproveMaxCents: bigint | null;
  /** Payouts above this need the approval of two different operators. */
  secondApprovalAboveCents: bigint;
  /** How long a payout method added or changed while the creator had a verified one waits before it can be paid to. */
  methodCoolingOffMs: number;
};

/** A non-negative rational: rates are exact, and every conversion states its rounding. */
export type Rate = { numerator: bigint; denominator: bigint };

/** Diamonds a creator earns per coin gifted (rounded down; the platform keeps the rest). */
export const DIAMONDS_PER_COIN: Rate = { numerator: 1n, denominator: 1n };
/** Cash value of a diamond: half a US cent. */
export const USD_CENTS_PER_DIAMOND: Rate = { numerator: 1n, denominator: 2n };

export const DEFAULT_POLICY: Policy = {
  ageGates: { DEFAULT: 18, KR: 19 },
  // Roughly YouTube's viewer limits (500 USD a day, 2,000 a week) at about 1.4 US cents a coin.
  platformDailyCapCoins: 35_000n,
  platformWeeklyCapCoins: 140_000n,
  limitRaiseCoolingOffMs: 24 * 3600 * 1000,
  countryChangeCoolingOffMs: 30 * 24 * 3600 * 1000,
  // Twitch's threshold and TikTok's daily cap (product.md).
  payouts: {
    minimumDiamonds: 10_000n,
    dailyCapCents: 100_000n,
    feeCents: 0n,
    autoApproveMaxCents: null,
    secondApprovalAboveCents: 50_000n,
    methodCoolingOffMs: 5 * 24 * 3600 * 1000,
  },
};

/** floor(amount x rate): whole units only; the fraction stays with whoever would have paid it. */
export const convertDown = (amount: bigint, rate: Rate): bigint => (amount * rate.numerator) / rate.denominator;

/** An exact decimal string of amount x rate / 10^scale, e.g. 5 diamonds -> "0.025" US dollars. */
function exactDecimal(amount: bigint, rate: Rate, scale: number): string {
  const numerator = amount * rate.numerator;
  const denominator = rate.denominator * 10n ** BigInt(scale);
  const whole = numerator / denominator;
  let remainder = numerator % denominator;
  let digits = '';
  // Terminates for denominators made of 2s and 5s (ours); capped in case a configured rate is not.
  for (let i = 0; remainder !== 0n && i < 12; i++) {
    remainder *= 10n;
    digits += (remainder / denominator).toString();
    remainder %= denominator;
  }
  return digits ? `${whole}.${digits}` : whole.toString();
}

/** What diamonds are worth in US dollars, exactly (e.g. 5 diamonds -> "0.025"). */
export const diamondsInUsd = (diamonds: bigint): string => exactDecimal(diamonds, USD_CENTS_PER_DIAMOND, 2);

/** US cents as dollars, exactly (e.g. 6172 -> "61.72"). */
export const centsInUsd = (cents: bigint): string => exactDecimal(cents, { numerator: 1n, denominator: 1n }, 2);

/**
 * A cash-out of `diamonds` at the published rate: the whole cents they make, and the fewest diamonds that
 * make them (the rest stays with the creator).
 */
export function wholeCents(diamonds: bigint): { cents: bigint; diamonds: bigint } {
  const cents = convertDown(diamonds, USD_CENTS_PER_DIAMOND);
  const { numerator, denominator } = USD_CENTS_PER_DIAMOND;
  return { cents, diamonds: (cents * denominator + numerator - 1n) / numerator };
}
