/** The platform's published rules of the economy, set by configuration (see README). */
export type Policy = {
  /** Minimum age for buying, gifting, receiving, going live and cashing out, by country; DEFAULT elsewhere. */
  ageGates: { DEFAULT: number } & Record<string, number>;
  platformDailyCapCoins: bigint;
  platformWeeklyCapCoins: bigint;
  /** How long a raised personal limit waits before it applies. */
  limitRaiseCoolingOffMs: number;
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
